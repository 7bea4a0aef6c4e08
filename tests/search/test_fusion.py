from __future__ import annotations

from indexes.fusion import FusionParams, fuse, keyword_confidence, margin_confidence

DENSE = [("a", 0.90), ("b", 0.89), ("c", 0.88), ("d", 0.87), ("e", 0.80)]


def test_rrf_k60():
    out = fuse(DENSE, [("c", 10.0), ("a", 5.0)], params=FusionParams(method="rrf"))
    assert [c.key for c in out][:2] == ["a", "c"]
    assert abs(out[0].fused - (1 / 61 + 1 / 62)) < 1e-12


def test_no_keyword_hits_keeps_dense_order():
    out = fuse(DENSE, [])
    assert [c.key for c in out] == ["a", "b", "c", "d", "e"]


def test_keyword_leader_covering_the_query_is_lifted():
    # a known-item query: its distinctive words are all in one doc, ranked 4th by dense
    bm25 = [("d", 20.0), ("x", 6.0), ("b", 5.0)]
    out = fuse(DENSE, bm25, {"x": 0.5}, coverage=0.9)
    assert out[0].key == "d"
    assert out[0].bm25_rank == 1 and out[0].dense_rank == 4


def test_keyword_margin_alone_does_not_override_dense():
    # a problem in lay words: one everyday word rare in the corpus puts a doc far ahead on
    # BM25, but it covers little of the query and the lists do not agree
    bm25 = [("x", 20.0), ("y", 6.0), ("z", 5.0)]
    out = fuse(DENSE, bm25, {"x": 0.86, "y": 0.7, "z": 0.7}, coverage=0.05)
    assert [c.key for c in out][:4] == ["a", "b", "c", "d"]
    old = fuse(DENSE, bm25, {"x": 0.86, "y": 0.7, "z": 0.7}, params=FusionParams(method="margin"))
    assert old[0].key == "x"   # what the first version did


def test_agreeing_lists_lift_their_common_candidates():
    bm25 = [("c", 12.0), ("d", 11.0), ("a", 3.0)]
    out = fuse(DENSE, bm25, params=FusionParams(agree_depth=3))
    assert [c.key for c in out][0] == "c"


def test_flat_keyword_list_does_not_override_dense():
    # vague query: BM25 scores nearly equal, its leader unknown to dense
    bm25 = [("y", 5.1), ("z", 5.0), ("e", 4.9)]
    out = fuse(DENSE, bm25, {"y": 0.70, "z": 0.69})
    assert [c.key for c in out][:4] == ["a", "b", "c", "d"]


def test_confidence_range():
    p = FusionParams(agree_depth=2)
    assert keyword_confidence([], DENSE, 1.0, p) == 0.0
    assert keyword_confidence([("x", 10.0), ("y", 1.0)], DENSE, None, p) == 0.0
    assert keyword_confidence([("a", 10.0), ("y", 1.0)], DENSE, None, p) == 0.5
    assert keyword_confidence([("a", 10.0), ("b", 1.0)], DENSE, 0.8, p) == 1.0
    assert keyword_confidence([("x", 10.0), ("y", 1.0)], DENSE, 0.3, p) == 0.3


def test_margin_confidence_range():
    p = FusionParams()
    assert margin_confidence([], {}, p) == 0.0
    assert margin_confidence([("a", 10.0), ("b", 1.0)], {}, p) == 1.0
    flat = margin_confidence([("a", 10.0), ("b", 9.9)], {}, p)
    assert 0 <= flat < 0.1
    assert margin_confidence([("a", 10.0), ("b", 9.9)], {"a": 1}, p) > flat


def test_keyword_only_candidates_get_dense_scores():
    out = fuse(DENSE, [("k", 3.0)], {"k": 0.95})
    k = next(c for c in out if c.key == "k")
    assert k.dense == 0.95 and k.dense_rank is None and k.bm25_rank == 1
