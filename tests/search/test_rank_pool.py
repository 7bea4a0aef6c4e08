"""Ranking a gathered pool (``SearchService.gather`` + ``rank_pool``) is what ``retrieve``
returns, so a parameter grid (bench/dev_cv.py) can be scored without re-querying."""
from __future__ import annotations

import pytest

from indexes.backends.base import Filters
from indexes.fusion import FusionParams
from indexes.service import MODES, rank_pool

ALL = Filters(published_only=True)
QUERY = "工厂废水处理成本太高，想找便宜的办法"


def _ranked(cands):
    return [(c.key, round(c.fused, 9), c.dense, c.bm25) for c in cands]


@pytest.mark.parametrize("mode", MODES)
def test_rank_pool_of_gather_is_retrieve(service, mode):
    assert service.late_interaction
    pool = service.gather(QUERY, "achievement", k=10, filters=ALL, mode=mode)
    assert _ranked(rank_pool(pool, service.fusion, 10)) == \
        _ranked(service.retrieve(QUERY, "achievement", k=10, filters=ALL, mode=mode))


def test_other_params_rank_the_same_pool_as_a_service_built_with_them(service):
    pool = service.gather(QUERY, "achievement", k=10, filters=ALL, mode="hybrid")
    kept = service.fusion
    for p in (FusionParams(late=False), FusionParams(late_a=1.0, late_b=0.0, w_max=1.5, agree_depth=5)):
        service.fusion = p
        try:
            want = service.retrieve(QUERY, "achievement", k=10, filters=ALL, mode="hybrid")
        finally:
            service.fusion = kept
        assert _ranked(rank_pool(pool, p, 10)) == _ranked(want)


def test_zero_late_weights_are_late_interaction_off(service):
    pool = service.gather(QUERY, "achievement", k=10, filters=ALL, mode="hybrid")
    off = rank_pool(pool, FusionParams(late=False), 10)
    zero = rank_pool(pool, FusionParams(late_a=0.0, late_b=0.0), 10)
    assert [c.key for c in zero] == [c.key for c in off]
