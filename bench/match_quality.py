"""Matching quality: keyword, semantic, hybrid search and the full matcher, on two tasks.

    python bench/match_quality.py [--skip-csl] [--csl-limit N] [--calibrate] [--json out.json]

1. **Labelled enterprise problems** (tests/data/match_labelled/g*.jsonl: 40 problems written the
   way enterprises write them, each with the demo achievements a broker would accept) against
   the 300 demo achievements (core/demo/data/achievements_*.jsonl, regions from their orgs).
   Reported for all 40 and per group. g1+g2 is the *dev* part (the hand-set weights were chosen
   looking at it and the Platt calibration is fitted on it); g3 is *held out*.
2. **CSL discipline task** (../shared/data/csl/csl_dev.jsonl, 1,000 real Chinese abstracts):
   every paper's author keywords, joined, are a "problem"; the corpus is title + abstract;
   relevance is graded: the same paper 2, another paper of the same discipline 1. No structured
   fields (the discipline is the label, so it is not given to the matcher).

Each stage ranks the same corpus in the same temporary index (matcher/eval.py, the code behind
``techmatch eval match``): keyword = BM25, semantic = dense, hybrid = the search service's
fusion, matcher = candidates from the same service, scored by the model (matcher/model.py),
then diversity re-ranking (MMR); "matcher (no MMR)" is the score order alone.

``--calibrate`` fits the score calibration (Platt scaling of the hand-set logit) on the dev
problems' candidates, writes ``matcher/data/model.json`` with a reliability table on the
held-out group, and writes ``matcher/data/bench_candidates.json`` (the labelled candidates'
features, used by ``techmatch match --refit`` to check a refit against the hand-set weights).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matcher import eval as E  # noqa: E402

LABELLED = ROOT / "tests" / "data" / "match_labelled"
ACH = ROOT / "core" / "demo" / "data"
CSL = ROOT.parent / "shared" / "data" / "csl" / "csl_dev.jsonl"
DEV_GROUPS = ("g1", "g2")
METRICS = ("nDCG@10", "Recall@20", "MRR")


def table(title: str, rows: dict[str, dict]) -> str:
    out = [f"\n### {title}", "", "| stage | " + " | ".join(METRICS) + " | ms/query |",
           "|---|" + "---:|" * (len(METRICS) + 1)]
    for name, r in rows.items():
        out.append(f"| {name} | " + " | ".join(f"{r[m]:.4f}" for m in METRICS) + f" | {r.get('ms_per_query', '')} |")
    return "\n".join(out)


def labelled_task(model=None) -> tuple[dict, dict]:
    ach = []
    for p in sorted(ACH.glob("achievements_*.jsonl")):
        ach += E.load_jsonl(p)
    probs, group = [], {}
    for p in sorted(LABELLED.glob("g*.jsonl")):
        for q in E.load_jsonl(p):
            probs.append(q)
            group[q["id"]] = p.stem
    t0 = time.perf_counter()
    env = E.build_env(ach, probs, orgs=E.demo_orgs())
    t_index = time.perf_counter() - t0
    try:
        res = E.run(env, probs, model=model, collect=True)
        nomm = E.run(env, probs, stages=("matcher",), model=model, diversity=False)
    finally:
        env.close()
    per = res.pop("_per_query")
    rows = {st: res[st] for st in E.STAGES}
    rows["matcher (no MMR)"] = nomm["matcher"]
    groups = {}
    for g in sorted(set(group.values())):
        idx = [i for i, q in enumerate(probs) if group[q["id"]] == g]
        groups[g] = {st: E.mean_metrics([per[st][i] for i in idx]) for st in E.STAGES}
    dev = [i for i, q in enumerate(probs) if group[q["id"]] in DEV_GROUPS]
    held = [i for i, q in enumerate(probs) if group[q["id"]] not in DEV_GROUPS]
    split = {"dev (g1+g2)": {st: E.mean_metrics([per[st][i] for i in dev]) for st in E.STAGES},
             "held-out (g3)": {st: E.mean_metrics([per[st][i] for i in held]) for st in E.STAGES}}
    report = {"corpus": len(ach), "problems": len(probs), "index_seconds": round(t_index, 1),
              "all": rows, "groups": groups, "split": split}
    return report, {"candidates": res["_candidates"], "group": group, "problems": probs}


def calibrate_and_save(collected: dict) -> dict:
    from matcher.features import FEATURES
    from matcher.model import (
        HAND_INTERCEPT,
        HAND_WEIGHTS,
        PACKAGED,
        ScoringModel,
        log_loss,
        platt,
        reliability,
    )

    group = collected["group"]
    nrel = {q["id"]: E.grades_of(q) for q in collected["problems"]}
    X, y, is_dev = [], [], []
    bench = []
    for q in collected["candidates"]:
        for c in q["candidates"]:
            X.append([c["features"][f] for f in FEATURES])
            y.append(1.0 if c["label"] > 0 else 0.0)
            is_dev.append(group[q["id"]] in DEV_GROUPS)
        bench.append({"id": q["id"], "all_grades": sorted(nrel[q["id"]].values(), reverse=True),
                      "candidates": [{"id": c["id"], "label": c["label"],
                                      "features": {f: round(float(c["features"][f]), 4) for f in FEATURES}}
                                     for c in q["candidates"]]})
    X, y, is_dev = np.array(X), np.array(y), np.array(is_dev)
    raw = ScoringModel(dict(HAND_WEIGHTS), HAND_INTERCEPT)
    z = X @ raw.vector()
    a, c = platt(z[is_dev], y[is_dev])
    cal = ScoringModel({k: round(v * a, 4) for k, v in HAND_WEIGHTS.items()}, round(c, 4), "hand-set (calibrated)")
    p = cal.score_matrix(X)
    info = {"method": "Platt scaling of the hand-set logit on the dev groups' candidates",
            "dev": {"pairs": int(is_dev.sum()), "positives": int(y[is_dev].sum()),
                    "log_loss": round(log_loss(p[is_dev], y[is_dev]), 4)},
            "held_out": {"pairs": int((~is_dev).sum()), "positives": int(y[~is_dev].sum()),
                         "log_loss": round(log_loss(p[~is_dev], y[~is_dev]), 4),
                         "reliability": reliability(p[~is_dev], y[~is_dev])},
            "scale": round(a, 4), "offset": round(c, 4)}
    cal.info = info
    PACKAGED.parent.mkdir(parents=True, exist_ok=True)
    PACKAGED.write_text(json.dumps({"hand_set": cal.to_dict()}, ensure_ascii=False, indent=1), encoding="utf-8")
    (PACKAGED.parent / "bench_candidates.json").write_text(
        json.dumps({"source": "bench/match_quality.py --calibrate", "queries": bench}, ensure_ascii=False),
        encoding="utf-8")
    return info


def csl_task(limit: int) -> dict:
    rows = E.load_jsonl(CSL)
    if limit:
        rows = rows[:limit]
    corpus = [{"id": r["id"], "title": r["title"], "abstract": r["abstract"]} for r in rows]
    queries = []
    by_disc: dict[str, list[str]] = {}
    for r in rows:
        by_disc.setdefault(r["discipline"], []).append(r["id"])
    for r in rows:
        if not r.get("keywords"):
            continue
        grades = {o: 1 for o in by_disc[r["discipline"]] if o != r["id"]}
        grades[r["id"]] = 2
        queries.append({"id": r["id"], "text": " ".join(r["keywords"]), "relevant": grades})
    t0 = time.perf_counter()
    res = E.evaluate(corpus, queries)
    rows_out = {st: res[st] for st in E.STAGES}
    return {"papers": len(corpus), "queries": len(queries), "seconds": round(time.perf_counter() - t0, 1),
            "all": rows_out}


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-csl", action="store_true")
    ap.add_argument("--csl-limit", type=int, default=0)
    ap.add_argument("--calibrate", action="store_true")
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    report = {"machine": {"cpus": os.cpu_count(), "loadavg": os.getloadavg(), "python": platform.python_version()}}
    lab, collected = labelled_task()
    report["labelled"] = lab
    print(table(f"Labelled enterprise problems ({lab['problems']} problems x {lab['corpus']} achievements)",
                lab["all"]))
    for name, rows in lab["split"].items():
        print(table(name, rows))
    if a.calibrate:
        info = calibrate_and_save(collected)
        report["calibration"] = info
        print("\ncalibration:", json.dumps(info, ensure_ascii=False))
    if not a.skip_csl:
        csl = csl_task(a.csl_limit)
        report["csl"] = csl
        print(table(f"CSL discipline task ({csl['queries']} keyword queries x {csl['papers']} papers; "
                    "same paper 2, same discipline 1)", csl["all"]))
    if a.json:
        Path(a.json).write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
