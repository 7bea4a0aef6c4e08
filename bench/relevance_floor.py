"""The search relevance floor: how many out-of-domain queries abstain, and what it costs the
real problems.

    python bench/relevance_floor.py [--csl ../shared/data/csl/csl_dev.jsonl]
                                    [--problems ../shared/data/csl/problems_dev.jsonl]
                                    [--ood bench/data/ood_queries.txt] [--calibrate]

Indexes the CSL papers (title + abstract + keywords) in a temporary embedded index, runs
every out-of-domain query (``bench/data/ood_queries.txt``, written for this bench) and every
dev problem through ``SearchService.search`` (hybrid), and prints the share of OOD queries
answered with "nothing relevant", the dev problems that abstained, and Recall@10 of the dev
problems with and without the floor. ``--calibrate`` first prints the constants
``indexes.calibration.calibrate`` derives from the corpus (titles as queries; the floor is
*not* fitted on the problems or the OOD queries).
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indexes.analysis import Analyzer  # noqa: E402
from indexes.backends.base import Filters  # noqa: E402
from indexes.calibration import calibrate, for_encoder  # noqa: E402
from indexes.encoders import EmbeddingCache, get_encoder  # noqa: E402
from indexes.eval import KIND, build_index, grades, load_jsonl, recall_at  # noqa: E402

HERE = Path(__file__).resolve().parent
CSL = HERE.parents[1] / "shared" / "data" / "csl"


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser()
    ap.add_argument("--csl", default=str(CSL / "csl_dev.jsonl"))
    ap.add_argument("--problems", default=str(CSL / "problems_dev.jsonl"))
    ap.add_argument("--ood", default=str(HERE / "data" / "ood_queries.txt"))
    ap.add_argument("--calibrate", action="store_true")
    a = ap.parse_args(argv)
    from core.settings import get_settings

    s = get_settings()
    enc = get_encoder(s)
    cache = EmbeddingCache(Path(s.data_dir) / "embeddings.sqlite")
    rows = load_jsonl(a.csl)
    ood = [l.strip() for l in open(a.ood, encoding="utf-8") if l.strip() and not l.startswith("#")]
    probs = load_jsonl(a.problems)
    out: dict = {"encoder": enc.model_id, "floor": getattr(for_encoder(enc.model_id), "relevance_floor", None)}
    with tempfile.TemporaryDirectory() as tmp:
        svc = build_index(rows, Path(tmp) / "index", enc, cache, analyzer=Analyzer(Path(tmp) / "jieba"))
        if a.calibrate:
            keys = [f"{KIND}:{r['id']}" for r in rows]
            vecs = svc.backend.get_vectors(keys)
            out["calibration"] = calibrate(enc.model_id, enc.encode_queries([r["title"] for r in rows]),
                                           np.stack([vecs[k] for k in keys])).__dict__
        f = Filters(published_only=False)
        kept = [q for q in ood if svc.search(q, KIND, filters=f, published_only=False).relevant]
        r_all, r_floor, abstained = [], [], []
        for q in probs:
            res = svc.search(q["text"], KIND, filters=f, published_only=False, size=10)
            ranked = [c.id for c in svc.retrieve(q["text"], KIND, k=10, filters=f)]
            r = recall_at(ranked, grades(q), 10)
            r_all.append(r)
            r_floor.append(r if res.relevant else 0.0)
            if not res.relevant:
                abstained.append(q["id"])
        svc.backend.close()
    out.update({"ood_queries": len(ood), "ood_abstained": len(ood) - len(kept), "ood_not_abstained": kept,
                "ood_abstain_rate": round((len(ood) - len(kept)) / len(ood), 3),
                "dev_problems": len(probs), "dev_abstained": abstained,
                "dev_recall@10": round(float(np.mean(r_all)), 4),
                "dev_recall@10_with_floor": round(float(np.mean(r_floor)), 4)})
    print(json.dumps(out, ensure_ascii=False, indent=1))
    return out


if __name__ == "__main__":
    main()
