"""The ranking metrics shared by the search and matcher evaluators and the refit benchmark."""
from __future__ import annotations

import math

import pytest

from indexes.eval import grades, metrics_for, ndcg, ndcg_at, recall_at, reciprocal_rank


def test_grades_from_a_list_or_a_graded_dict():
    assert grades({"relevant": ["a", 3]}) == {"a": 1.0, "3": 1.0}
    assert grades({"relevant": {"a": 2, "b": 0, "c": 1}}) == {"a": 2.0, "c": 1.0}  # grade 0 is not relevant
    assert grades({}) == {}


def test_ndcg_recall_and_reciprocal_rank():
    g = {"a": 2.0, "b": 1.0}
    ranked = ["x", "a", "y", "b"]
    dcg = 2 / math.log2(3) + 1 / math.log2(5)
    idcg = 2 / math.log2(2) + 1 / math.log2(3)
    assert ndcg_at(ranked, g) == pytest.approx(dcg / idcg)
    assert ndcg_at(["a", "b"], g) == pytest.approx(1.0) and ndcg_at(["x"], g) == 0.0
    assert ndcg_at(ranked, g, n=1) == 0.0
    assert ndcg([1.0, 0.0], [1.0, 1.0, 1.0]) == pytest.approx(1 / (1 + 1 / math.log2(3) + 0.5))  # ideal of all
    assert recall_at(ranked, g, 2) == 0.5 and recall_at(ranked, g, 4) == 1.0
    assert reciprocal_rank(ranked, g) == 0.5 and reciprocal_rank(["x", "y", "a"], g, 2) == 0.0
    assert ndcg_at([], {}) == 0.0 and recall_at(["a"], {}, 10) == 0.0
    assert metrics_for(ranked, g) == {"MRR@10": 0.5, "Recall@10": 1.0, "Recall@50": 1.0,
                                      "nDCG@10": pytest.approx(dcg / idcg)}
