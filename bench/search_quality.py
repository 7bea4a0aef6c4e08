"""Search quality on CSL (real Chinese scientific abstracts), every mode, three tasks.

    python bench/search_quality.py [--csl ../shared/data/csl/csl_dev.jsonl] [--limit N] [--json out.json]

Tasks (built from csl_dev.jsonl; each runs through indexes.eval, the same code as
``techmatch eval search``):

* ``keywords->doc``  known item: query = the paper's author keywords joined by spaces;
  corpus = title + abstract (the keywords themselves are NOT indexed).
* ``title->abstract`` known item: query = title; corpus = abstracts only.
* ``topical`` graded: query = title; relevant = other papers of the same discipline
  (grade 2) or of the same category (grade 1); the query's own paper is excluded.
* ``enterprise->achievement`` (not CSL): problems written in everyday enterprise
  language (tests/data/match_labelled) -> the demo achievements that solve them
  (core/demo/data/achievements_g*.jsonl), where the words differ most.

Besides keyword / semantic / hybrid (adaptive fusion, the default) it also reports
``hybrid-rrf`` (RRF k=60) for reference.  Passage embeddings are cached in
``<data_dir>/embeddings.sqlite``: the first run encodes ~2,000 passages (~15 min on
2 cores), later runs take a minute or two.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexes.eval import evaluate  # noqa: E402
from indexes.fusion import FusionParams  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CSL = Path(__file__).resolve().parents[2] / "shared" / "data" / "csl" / "csl_dev.jsonl"
METRICS = ("MRR@10", "Recall@10", "Recall@50", "nDCG@10")


def tasks(rows: list[dict]) -> dict[str, tuple[list[dict], list[dict]]]:
    full = [{"id": r["id"], "title": r["title"], "body": r["abstract"]} for r in rows]
    abstracts = [{"id": r["id"], "title": "", "body": r["abstract"]} for r in rows]
    kwq = [{"id": r["id"], "text": " ".join(r["keywords"]), "relevant": [r["id"]]}
           for r in rows if r.get("keywords")]
    tq = [{"id": r["id"], "text": r["title"], "relevant": [r["id"]]} for r in rows]
    topical = []
    for r in rows:
        grades = {}
        for o in rows:
            if o["id"] == r["id"]:
                continue
            if o["discipline"] == r["discipline"]:
                grades[o["id"]] = 2
            elif o["category"] == r["category"]:
                grades[o["id"]] = 1
        if any(g == 2 for g in grades.values()):
            topical.append({"id": r["id"], "text": r["title"], "relevant": grades, "exclude": [r["id"]]})
    return {"keywords->doc": (full, kwq), "title->abstract": (abstracts, tq), "topical": (full, topical)}


def enterprise_task(root: Path = ROOT) -> tuple[list[dict], list[dict]] | None:
    """Problems written in everyday enterprise language -> the achievements that solve them
    (demo achievements core/demo/data/achievements_g*.jsonl, labelled queries
    tests/data/match_labelled/g*.jsonl)."""
    corpus, queries = [], []
    for p in sorted((root / "core" / "demo" / "data").glob("achievements_g*.jsonl")):
        for r in map(json.loads, filter(str.strip, p.read_text(encoding="utf-8").splitlines())):
            corpus.append({"id": r["id"], "title": r["title"],
                           "body": "\n".join(x for x in (r.get("abstract"), r.get("body")) if x),
                           "fields": r.get("fields", []), "keywords": r.get("keywords", [])})
    for p in sorted((root / "tests" / "data" / "match_labelled").glob("g*.jsonl")):
        for r in map(json.loads, filter(str.strip, p.read_text(encoding="utf-8").splitlines())):
            queries.append({"id": r["id"], "text": r["text"], "relevant": r["relevant"]})
    return (corpus, queries) if corpus and queries else None


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csl", default=str(DEFAULT_CSL))
    ap.add_argument("--limit", type=int, default=0, help="use the first N papers only")
    ap.add_argument("--json", help="write the results here too")
    a = ap.parse_args(argv)
    rows = [json.loads(l) for l in open(a.csl, encoding="utf-8") if l.strip()]
    if a.limit:
        rows = rows[:a.limit]
    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform()},
              "data": f"{a.csl} ({len(rows)} papers)", "tasks": {}}
    t0 = time.perf_counter()
    all_tasks = tasks(rows)
    ent = enterprise_task()
    if ent:
        all_tasks["enterprise->achievement"] = ent
    for name, (corpus, queries) in all_tasks.items():
        res = evaluate(corpus, queries, ("keyword", "semantic", "hybrid"))
        rrf = evaluate(corpus, queries, ("hybrid",), fusion=FusionParams(method="rrf"))
        res["hybrid-rrf"] = rrf["hybrid"]
        report["tasks"][name] = res
        print(f"\n## {name}  ({len(corpus)} docs, {len(queries)} queries)")
        print("| mode | " + " | ".join(METRICS) + " | ms/query |")
        print("|---|" + "---|" * (len(METRICS) + 1))
        for m in ("keyword", "semantic", "hybrid", "hybrid-rrf"):
            print(f"| {m} | " + " | ".join(f"{res[m][x]:.4f}" for x in METRICS)
                  + f" | {res[m]['ms_per_query']} |")
        sys.stdout.flush()
    report["seconds"] = round(time.perf_counter() - t0, 1)
    print(f"\ntotal {report['seconds']} s on {os.cpu_count()} cpus")
    if a.json:
        Path(a.json).write_text(json.dumps(report, ensure_ascii=False, indent=1))
    return report


if __name__ == "__main__":
    main()
