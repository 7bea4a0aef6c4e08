"""The scoring model: a logistic model over the pair features.

    score = sigmoid(intercept + sum_i weight_i * feature_i)        in (0, 1)

Calibration — what a score means
--------------------------------
The score is meant as *the probability that a broker would accept the proposal*.

* The hand-set weights (``HAND_WEIGHTS``) fix the *direction and relative size* of each
  feature's influence. Their overall scale and the intercept are then fitted by Platt
  scaling (one-variable logistic regression of "relevant" on the hand-set logit) on the
  labelled enterprise problems (tests/data/match_labelled), over each problem's top
  candidates: ``bench/match_quality.py --calibrate`` writes the result to
  ``matcher/data/model.json`` together with a reliability table (predicted vs observed
  rate of relevant pairs per score bin) on the held-out group. That file is the default.
* Once brokers have decided enough proposals (``settings.match_refit_min_decisions``),
  ``techmatch match --refit`` fits all weights by logistic regression on accepted (1) vs
  rejected (0) proposals, so the score becomes the acceptance probability observed on this
  platform. The refit model is kept only if it beats the current one on a held-out split and
  does not fall below the hand-set weights on the labelled benchmark; it is stored in
  ``<data_dir>/matcher/model.json`` and takes precedence over the packaged default.

The proposal threshold (``settings.match_threshold``) is therefore a probability.
"""
from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from matcher.features import FEATURES

PACKAGED = Path(__file__).parent / "data" / "model.json"

#: relative influence of each feature (before Platt scaling). Text relevance enters through
#: ``retrieval`` alone: it is the hybrid search's final score (pooled cosine and sentence late
#: interaction, BM25 weighted by the lists' agreement and the query's coverage), so ``semantic``
#: (the pooled cosine) and ``keyword`` (BM25) would count the same evidence a second time. They
#: did, at 2.0 and 0.5, until session 5: on the labelled set that changed nothing, and on the
#: unseen dev problems (bench/dev_cv.py --matcher) it cost MRR@10 0.013 overall and 0.038 on the
#: very hard ones, pulling the matcher below the search it starts from. Both stay features: the
#: reasons read them, and a refit on brokers' decisions may give them weight again.
HAND_WEIGHTS: dict[str, float] = {
    "semantic": 0.0,
    "keyword": 0.0,
    "retrieval": 5.0,
    "field": 2.0,
    "region": 0.2,
    "maturity": 0.3,
    "mode": 0.3,
    "budget": 0.2,
    "freshness": 0.2,
}
#: uncalibrated intercept (Platt scaling replaces it, see bench/match_quality.py --calibrate)
HAND_INTERCEPT = -8.0


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


@dataclass
class ScoringModel:
    weights: dict[str, float]
    intercept: float
    source: str = "hand-set"
    info: dict = field(default_factory=dict)

    def vector(self) -> np.ndarray:
        return np.array([self.weights.get(f, 0.0) for f in FEATURES], np.float64)

    def logit(self, feats: dict[str, float]) -> float:
        return self.intercept + sum(self.weights.get(k, 0.0) * float(feats.get(k, 0.0)) for k in FEATURES)

    def score(self, feats: dict[str, float]) -> float:
        z = self.logit(feats)
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))

    def score_matrix(self, X: np.ndarray) -> np.ndarray:
        return sigmoid(X @ self.vector() + self.intercept)

    def contributions(self, feats: dict[str, float]) -> dict[str, float]:
        """How much each feature adds to the logit relative to a neutral value of 0.5."""
        return {k: round(self.weights.get(k, 0.0) * (float(feats.get(k, 0.0)) - 0.5), 3) for k in FEATURES}

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "ScoringModel":
        return cls(weights={k: float(v) for k, v in d["weights"].items()}, intercept=float(d["intercept"]),
                   source=d.get("source", "file"), info=d.get("info", {}))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")
        tmp.replace(path)


def hand_set() -> ScoringModel:
    """The hand-set weights, Platt-scaled from the packaged calibration when available."""
    if PACKAGED.exists():
        d = json.loads(PACKAGED.read_text(encoding="utf-8"))
        hand = d.get("hand_set") or d
        return ScoringModel.from_dict(hand)
    return ScoringModel(dict(HAND_WEIGHTS), HAND_INTERCEPT, "hand-set (uncalibrated)")


def local_path() -> Path:
    from core.settings import get_settings

    return Path(get_settings().data_dir) / "matcher" / "model.json"


def load() -> ScoringModel:
    """The model in force: the refit one in the data dir, else the calibrated hand-set one."""
    p = local_path()
    if p.exists():
        try:
            return ScoringModel.from_dict(json.loads(p.read_text(encoding="utf-8")))
        except (ValueError, KeyError):
            pass
    return hand_set()


# ------------------------------------------------------------------ fitting (numpy)

def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1.0, iters: int = 50,
                 sample_weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (IRLS). Returns (w, b);
    the intercept is not penalised."""
    X = np.asarray(X, np.float64)
    y = np.asarray(y, np.float64)
    n, d = X.shape
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, np.float64)
    A = np.hstack([X, np.ones((n, 1))])
    beta = np.zeros(d + 1)
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0
    for _ in range(iters):
        p = sigmoid(A @ beta)
        g = A.T @ (sw * (p - y)) + reg * beta
        W = sw * p * (1 - p)
        H = (A * W[:, None]).T @ A + np.diag(reg) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(H, g)
        beta -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    return beta[:-1], float(beta[-1])


def platt(z: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Fit sigmoid(a*z + c) to labels: returns (a, c)."""
    w, c = fit_logistic(np.asarray(z, np.float64)[:, None], y, l2=1e-3)
    return float(w[0]), c


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    p = np.clip(np.asarray(p, np.float64), 1e-6, 1 - 1e-6)
    y = np.asarray(y, np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def auc(p: np.ndarray, y: np.ndarray) -> float:
    """Area under the ROC curve (rank statistic, ties count half)."""
    p, y = np.asarray(p, np.float64), np.asarray(y)
    pos, neg = p[y == 1], p[y == 0]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    diff = pos[:, None] - neg[None, :]
    return float(((diff > 0).sum() + 0.5 * (diff == 0).sum()) / (len(pos) * len(neg)))


def reliability(p: np.ndarray, y: np.ndarray, bins=(0, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0001)) -> list[dict]:
    """Predicted vs observed positive rate per score bin."""
    p, y = np.asarray(p), np.asarray(y)
    out = []
    for lo, hi in zip(bins[:-1], bins[1:]):
        m = (p >= lo) & (p < hi)
        if m.sum():
            out.append({"bin": f"{lo:.2f}-{min(hi, 1):.2f}", "n": int(m.sum()),
                        "mean_score": round(float(p[m].mean()), 3), "observed": round(float(y[m].mean()), 3)})
    return out
