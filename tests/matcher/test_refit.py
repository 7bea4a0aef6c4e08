"""Refit from broker decisions: logistic regression on a held-out split, kept only if better."""
from __future__ import annotations

import numpy as np

from core.models import Match
from matcher import model as model_mod
from matcher.features import FEATURES
from matcher.model import ScoringModel, auc, fit_logistic, log_loss
from matcher.refit import refit


def test_fit_logistic_recovers_the_direction_of_weights():
    rng = np.random.default_rng(0)
    X = rng.random((600, 3))
    z = 4 * X[:, 0] - 3 * X[:, 1] + 0 * X[:, 2] - 0.5
    y = (rng.random(600) < 1 / (1 + np.exp(-z))).astype(float)
    w, b = fit_logistic(X, y, l2=0.1)
    assert w[0] > 2 and w[1] < -1.5 and abs(w[2]) < 1
    p = 1 / (1 + np.exp(-(X @ w + b)))
    assert log_loss(p, y) < log_loss(np.full(600, y.mean()), y)
    assert auc(p, y) > 0.75


def _decisions(db, factory, people, n=80, seed=1):
    rng = np.random.default_rng(seed)
    from core.models import Achievement

    prob = factory.problem(people["ent"], publish=False)
    # plain rows (no service, so no index/match tasks): only the decisions matter here
    achs = [Achievement(title=f"成果{i}号技术方案", abstract="用于测试的成果摘要内容", region="330106",
                        maturity="pilot", org_id=people["uni"].org_id, status="draft") for i in range(n)]
    db.add_all(achs)
    db.flush()
    for _i, a in enumerate(achs):
        f = {k: float(rng.random()) for k in FEATURES}
        accepted = f["semantic"] + 0.5 * f["field"] + 0.2 * rng.normal() > 0.8
        db.add(Match(problem_id=prob.id, achievement_id=a.id, score=0.5, features=f,
                     status="accepted" if accepted else "rejected"))
    db.commit()


def test_refit_needs_enough_decisions(db, factory, people):
    _decisions(db, factory, people, n=10)
    r = refit(db, min_decisions=50, save=False)
    assert r["kept"] is False and "不足" in r["message"]


def _poor_model_in_force(monkeypatch):
    """A deliberately poor model in force: the refit must beat it on the held-out split."""
    import matcher.refit as refit_mod

    monkeypatch.setattr(refit_mod, "load", lambda: ScoringModel({k: 0.0 for k in FEATURES}, 2.0, "poor"))
    return refit_mod


def test_refit_keeps_a_model_better_on_held_out_and_not_worse_on_the_benchmark(db, factory, people, settings,
                                                                               monkeypatch):
    import json

    from sqlalchemy import select

    from core.models import AuditLog

    _decisions(db, factory, people, n=80)
    refit_mod = _poor_model_in_force(monkeypatch)
    monkeypatch.setattr(refit_mod, "bench_ndcg", lambda model, bench: 0.5)  # a tie on the benchmark
    r = refit(db, min_decisions=50, save=True)
    assert r["decisions"] == 80 and r["refit"]["log_loss"] < r["current"]["log_loss"]
    assert r["kept"] is True and "已启用" in r["message"]
    kept = ScoringModel.from_dict(json.loads(model_mod.local_path().read_text()))
    assert kept.source == "refit" and kept.weights["semantic"] > 0
    db.flush()  # the session does not autoflush
    assert db.scalars(select(AuditLog.action).where(AuditLog.action == "matcher.refit")).all() == ["matcher.refit"]


def test_refit_keeps_the_old_weights_when_the_benchmark_gets_worse(db, factory, people, settings, monkeypatch):
    _decisions(db, factory, people, n=80)
    refit_mod = _poor_model_in_force(monkeypatch)
    monkeypatch.setattr(refit_mod, "bench_ndcg", lambda model, bench: 0.4 if model.source == "refit" else 0.9)
    r = refit(db, min_decisions=50, save=True)
    assert r["refit"]["log_loss"] < r["current"]["log_loss"]  # better on held-out, yet refused
    assert r["kept"] is False and "基准 nDCG@10 0.4000 低于人工设定权重的 0.9000" in r["message"]
    assert not model_mod.local_path().exists()
