"""Learning from broker decisions: refit the feature weights by logistic regression.

Decisions: a proposal a broker accepted (accepted, introduced, negotiating, contracted, failed —
the broker judged the pair worth pursuing) is 1, a rejected one 0; the inputs are the
features stored on the Match when it was last scored.

* At least ``settings.match_refit_min_decisions`` decisions with both outcomes are needed.
* The decisions are split deterministically (by match id) into 70 % training, 30 % held out.
* The new model is kept only if it has a lower log-loss on the held-out part than the model in
  force, and if it does not rank worse than the hand-set weights on the labelled benchmark
  (``matcher/data/bench_candidates.json``: the candidates of the labelled enterprise problems
  with their features and relevance, written by ``bench/match_quality.py``; nDCG@10).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from sqlalchemy import select

from matcher.features import FEATURES
from matcher.model import (
    ScoringModel,
    auc,
    fit_logistic,
    hand_set,
    load,
    local_path,
    log_loss,
)

BENCH = Path(__file__).parent / "data" / "bench_candidates.json"
POSITIVE = ("accepted", "introduced", "negotiating", "contracted", "failed")
HELD_OUT = 0.3


def decisions(session) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from core.models import Match

    rows = session.execute(select(Match.id, Match.status, Match.features)
                           .where(Match.status.in_(POSITIVE + ("rejected",))).order_by(Match.id)).all()
    ids = np.array([r[0] for r in rows], np.int64)
    X = np.array([[float((r[2] or {}).get(f, 0.0)) for f in FEATURES] for r in rows], np.float64).reshape(-1, len(FEATURES))
    y = np.array([1.0 if r[1] in POSITIVE else 0.0 for r in rows])
    return ids, X, y


def held_out_mask(ids: np.ndarray) -> np.ndarray:
    """Deterministic split: a multiplicative hash of the id, so it does not move as data grows."""
    h = (ids.astype(np.uint64) * np.uint64(2654435761)) % np.uint64(1000)
    return h < np.uint64(int(HELD_OUT * 1000))


def load_bench(path: Path = BENCH) -> dict | None:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def bench_ndcg(model: ScoringModel, bench: dict | None) -> float | None:
    """nDCG@10 of ranking the benchmark candidates (:func:`load_bench`) by the model's score."""
    from indexes.eval import ndcg

    vals = []
    for q in (bench or {}).get("queries", []):
        cands = q["candidates"]
        if not cands:
            continue
        X = np.array([[c["features"].get(f, 0.0) for f in FEATURES] for c in cands], np.float64)
        labels = [float(c["label"]) for c in cands]
        order = np.argsort(-model.score_matrix(X), kind="stable")
        vals.append(ndcg([labels[j] for j in order], q.get("all_grades") or labels))
    return float(np.mean(vals)) if vals else None


def _figures(model: ScoringModel, X, y, label: str, bench: dict | None) -> dict:
    p = model.score_matrix(X) if len(y) else np.array([])
    return {"label": label, "log_loss": log_loss(p, y) if len(y) else None,
            "auc": auc(p, y) if len(y) else None, "bench_ndcg10": bench_ndcg(model, bench)}


def refit(session, *, min_decisions: int | None = None, save: bool = True, l2: float = 1.0) -> dict:
    from core import audit
    from core.settings import get_settings

    need = get_settings().match_refit_min_decisions if min_decisions is None else min_decisions
    ids, X, y = decisions(session)
    current, hand = load(), hand_set()
    report: dict = {"decisions": int(len(y)), "positives": int(y.sum()), "min_decisions": need, "kept": False}
    if len(y) < need or y.min(initial=1) == y.max(initial=0):
        report["message"] = (f"决策记录不足：已有 {len(y)} 条（采纳 {int(y.sum())}，驳回 {int(len(y) - y.sum())}），"
                             f"至少需要 {need} 条且两类都有，未重新拟合。")
        return report
    ho = held_out_mask(ids)
    if ho.all() or (~ho).all() or len(set(y[~ho])) < 2:
        report["message"] = "留出集划分后训练集只有一类决策，未重新拟合。"
        return report
    w, b = fit_logistic(X[~ho], y[~ho], l2=l2)
    new = ScoringModel(dict(zip(FEATURES, map(float, w))), b, "refit",
                       {"decisions": int(len(y)), "train": int((~ho).sum()), "held_out": int(ho.sum())})
    Xh, yh, bench = X[ho], y[ho], load_bench()
    report["current"] = _figures(current, Xh, yh, f"当前（{current.source}）", bench)
    report["hand_set"] = _figures(hand, Xh, yh, "人工设定", bench)
    report["refit"] = _figures(new, Xh, yh, "重新拟合", bench)
    better = report["refit"]["log_loss"] < report["current"]["log_loss"]
    nb, hb = report["refit"]["bench_ndcg10"], report["hand_set"]["bench_ndcg10"]
    bench_ok = nb is None or hb is None or nb >= hb - 1e-9
    report["weights_before"] = {k: round(v, 4) for k, v in current.weights.items()}
    report["weights_after"] = {k: round(v, 4) for k, v in new.weights.items()}
    if better and bench_ok:
        new.info.update({"held_out_log_loss": report["refit"]["log_loss"], "held_out_auc": report["refit"]["auc"],
                         "bench_ndcg10": nb})
        if save:
            new.save(local_path())
            audit.record(session, None, "matcher.refit", "matcher", None,
                         {"decisions": int(len(y)), "log_loss": [report["current"]["log_loss"], report["refit"]["log_loss"]],
                          "bench_ndcg10": [hb, nb]})
        report["kept"] = True
        report["message"] = "新权重在留出集上更好且基准不低于人工设定权重：已启用。"
    else:
        why = [] if better else ["留出集 log-loss 未改善"]
        if not bench_ok:
            why.append(f"基准 nDCG@10 {nb:.4f} 低于人工设定权重的 {hb:.4f}")
        report["message"] = "保留原权重：" + "；".join(why) + "。"
    return report
