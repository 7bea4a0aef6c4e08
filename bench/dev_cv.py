"""Enterprise problems in plain language -> CSL papers: the dev-set table of bench/README.md
(section 1), full and 5-fold cross-validated, reproducible from this script alone.

    python bench/dev_cv.py [--csl-dir ../shared/data/csl] [--json out.json] [--matcher]

Data: ``problems_dev.jsonl`` (90 problems; ``difficulty`` normal / hard; dp-061..090 are the
30 "very hard" ones, all also ``hard``) over the 1,000 papers of ``csl_dev.jsonl`` (title +
abstract + author keywords, indexed the way ``techmatch eval search --corpus csl_dev.jsonl``
indexes them: :func:`indexes.eval.build_index`).

How it scores (production code, no re-implementation): every problem is sent once per mode
(keyword, semantic, hybrid) through :meth:`SearchService.gather`, which returns what the
retrievers found (dense and BM25 lists, keyword coverage, late-interaction features); each
configuration is then ranked from that pool by :func:`indexes.service.rank_pool`, the very
function :meth:`SearchService.retrieve` ends with. So a grid of configurations costs one
retrieval per problem and mode; ``--check`` verifies against ``retrieve`` for the shipped one.

Rows: "full" = one configuration on all 90 (the shipped one: :class:`FusionParams` defaults,
optimistic for anything chosen on these problems). "CV" = 5-fold cross-validation stratified
by subset (normal 45, hard dp-001..060 15, very hard 30; each subset's ids shuffled with
``random.Random(13)`` and dealt round-robin into the folds): on each fold the configuration
with the best mean MRR@10 on the other 4 folds (ties: better Recall@10, then grid order) scores
the held-out fold, so every problem is scored by a configuration chosen without it.

Grids (bench/README.md): fusion = agree_depth {5, 10, 20} x coverage_weight {0, 0.5, 1} x
w_max {1, 1.5, 2} x w_min {0, 0.1, 0.2} (81, late interaction off); late interaction =
(late_a, late_b) in LATE_PAIRS x w_max {1, 1.5} (12, other fusion parameters as shipped);
"joint" = both grids crossed (81 x 6 = 486, reported as an extra row).

Metrics: MRR@10 and Recall@10 (:func:`indexes.eval.metrics_for`), means over all 90, the 45
hard and the 30 very hard. ``--matcher`` adds the full matcher (``matcher.eval``, shipped
configuration, its own temporary database and index; not cross-validated: nothing of it is
chosen here). Embeddings go through ``bench/.cache/embeddings.sqlite`` (``--cache``): the
first run encodes ~1,500 passage chunks and ~4,650 sentences (tens of minutes on 2 loaded
cores), later runs only the queries and their clauses.
"""
from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexes import late as late_mod  # noqa: E402
from indexes.analysis import Analyzer  # noqa: E402
from indexes.backends.base import Filters  # noqa: E402
from indexes.eval import KIND, build_index, load_jsonl, metrics_for  # noqa: E402
from indexes.eval import grades as grades_of  # noqa: E402
from indexes.fusion import FusionParams  # noqa: E402
from indexes.service import Pool, rank_pool  # noqa: E402

# ../shared/data/csl from the main checkout; from a worktree further up
CSL_DIR = next((p / "shared" / "data" / "csl" for p in ROOT.parents
                if (p / "shared" / "data" / "csl" / "problems_dev.jsonl").exists()),
               ROOT.parent / "shared" / "data" / "csl")
CACHE = ROOT / "bench" / ".cache" / "embeddings.sqlite"
K = 50
SUBSETS = ("all", "hard", "very hard")
FUSION_GRID = dict(agree_depth=(5, 10, 20), coverage_weight=(0.0, 0.5, 1.0), w_max=(1.0, 1.5, 2.0),
                   w_min=(0.0, 0.1, 0.2))
LATE_PAIRS = ((0.5, 0.5), (1.0, 1.0), (0.5, 1.0), (1.0, 0.5), (1.0, 0.0), (0.0, 1.0))
LATE_W_MAX = (1.0, 1.5)


def subset_of(q: dict) -> str:
    n = int(q["id"].rsplit("-", 1)[1])
    return "very hard" if n >= 61 else str(q.get("difficulty") or "normal")


def in_subset(q: dict, s: str) -> bool:
    return s == "all" or (s == "hard" and q.get("difficulty") == "hard") or subset_of(q) == s


def folds_of(queries: list[dict], n: int = 5, seed: int = 13) -> list[int]:
    """Fold of each query, stratified by :func:`subset_of`."""
    rng = random.Random(seed)
    fold = [0] * len(queries)
    for s in sorted({subset_of(q) for q in queries}):
        idx = [i for i, q in enumerate(queries) if subset_of(q) == s]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            fold[i] = j % n
    return fold


def fusion_grid() -> list[FusionParams]:
    keys = list(FUSION_GRID)
    return [FusionParams(late=False, **dict(zip(keys, vals))) for vals in itertools.product(*FUSION_GRID.values())]


def late_grid() -> list[FusionParams]:
    return [FusionParams(late_a=a, late_b=b, w_max=w) for (a, b), w in itertools.product(LATE_PAIRS, LATE_W_MAX)]


def joint_grid() -> list[FusionParams]:
    return [replace(p, late=True, late_a=a, late_b=b) for p in fusion_grid() for a, b in LATE_PAIRS]


def short(p: FusionParams) -> dict:
    d = {k: v for k, v in asdict(p).items() if k in ("method", "late", "late_a", "late_b", *FUSION_GRID)}
    if not d["late"]:
        d.pop("late_a"), d.pop("late_b")
    return d


class Scorer:
    """Per-query pools (one retrieval per problem and mode), ranked under any configuration."""

    def __init__(self, svc, queries: list[dict], pools: dict[str, list]):
        self.svc, self.queries, self.pools = svc, queries, pools
        self.grades = [grades_of(q) for q in queries]

    def per_query(self, mode: str, params: FusionParams) -> np.ndarray:
        """(queries, 2) array: MRR@10, Recall@10 of each query."""
        out = np.zeros((len(self.queries), 2))
        for i, pool in enumerate(self.pools[mode]):
            ranked = [c.id for c in rank_pool(pool, params, K)]
            m = metrics_for(ranked, self.grades[i])
            out[i] = m["MRR@10"], m["Recall@10"]
        return out


def summary(queries: list[dict], per: np.ndarray) -> dict:
    out = {}
    for s in SUBSETS:
        idx = [i for i, q in enumerate(queries) if in_subset(q, s)]
        out[s] = {"n": len(idx), "MRR@10": round(float(per[idx, 0].mean()), 4),
                  "Recall@10": round(float(per[idx, 1].mean()), 4)}
    return out


def cross_validate(queries: list[dict], grid_scores: list[np.ndarray], folds: list[int]) -> tuple[np.ndarray, list[int]]:
    """Per-query metrics, each query scored by the grid entry chosen on the other folds."""
    fold = np.array(folds)
    out = np.zeros_like(grid_scores[0])
    chosen = []
    for f in sorted(set(folds)):
        train = fold != f
        best = max(range(len(grid_scores)),
                   key=lambda j: (round(grid_scores[j][train, 0].mean(), 9),
                                  round(grid_scores[j][train, 1].mean(), 9), -j))
        chosen.append(best)
        out[fold == f] = grid_scores[best][fold == f]
    return out, chosen


def gather_all(svc, queries: list[dict], log=print, every: int = 30) -> dict[str, list]:
    texts = [q["text"] for q in queries]
    t0 = time.perf_counter()
    qvecs = svc.encoder.encode_queries(texts)
    f = Filters(published_only=False)
    pools: dict[str, list] = {m: [] for m in ("keyword", "semantic", "hybrid")}
    for i, t in enumerate(texts):
        for m in pools:
            pools[m].append(svc.gather(t, KIND, k=K, filters=f, mode=m, qvec=qvecs[i]))
        if (i + 1) % every == 0:
            log(f"  gathered {i + 1}/{len(texts)} problems ({time.perf_counter() - t0:.0f} s)")
    return pools


def check_against_retrieve(svc, queries: list[dict], pools: dict[str, list], n: int = 10) -> None:
    """The shipped configuration's rank_pool equals SearchService.retrieve (first n problems)."""
    f = Filters(published_only=False)
    qv = svc.encoder.encode_queries([q["text"] for q in queries[:n]])
    for m in pools:
        for i, q in enumerate(queries[:n]):
            a = [c.key for c in svc.retrieve(q["text"], KIND, k=K, filters=f, mode=m, qvec=qv[i])]
            b = [c.key for c in rank_pool(pools[m][i], svc.fusion, K)]
            assert a == b, (m, q["id"])


def matcher_rows(corpus: list[dict], queries: list[dict], cache: Path) -> dict:
    from matcher import eval as E

    env = E.build_env(corpus, queries, cache_path=cache)
    try:
        res = E.run(env, queries, stages=("hybrid", "matcher"))
    finally:
        env.close()
    out = {}
    for st, runs in res["_runs"].items():
        per = np.array([[m["MRR@10"], m["Recall@10"]] for m in
                        (metrics_for(r, grades_of(q)) for r, q in zip(runs, queries))])
        out[st] = summary(queries, per)
        # matcher.eval's own MRR: the first relevant id anywhere in the list (not cut at 10)
        for s in SUBSETS:
            idx = [i for i, q in enumerate(queries) if in_subset(q, s)]
            out[st][s]["MRR"] = round(float(np.mean([res["_per_query"][st][i]["MRR"] for i in idx])), 4)
    return out


def memo_queries(encoder) -> None:
    """Encode each distinct list of query texts once (semantic and hybrid gather the same
    clauses for late interaction); the vectors are the encoder's own."""
    encode, memo = encoder.encode_queries, {}

    def encode_queries(texts):
        key = tuple(texts)
        if key not in memo:
            memo[key] = encode(list(texts))
        return memo[key]

    encoder.encode_queries = encode_queries


# -- tried: term expansion mined from the corpus (dense feedback, RM3-style) -------------
EXPANSION_GRID = [None] + [(m, n, g) for m in (3, 5, 10) for n in (5, 10, 20) for g in (0.5, 1.0)]


class Expander:
    """Lay words -> the corpus's technical terms, per query, from the corpus itself: the terms
    shared by the query's ``m`` best dense (late-interaction) candidates, weighted by how many
    of them contain the term times its IDF (in at least 2 listings, not already in the query),
    the best ``n`` of them searched with BM25; each candidate's BM25 score becomes
    ``bm25(query) + g * bm25(expansion terms)``, within the candidate pool (whose dense and
    late-interaction scores are known). Nothing is taken from the problems' relevance labels."""

    def __init__(self, svc, filters):
        self.svc, self.f = svc, filters
        self._terms: dict = {}
        self._search: dict = {}
        self.n_docs = len(svc.backend.hashes())

    def doc_terms(self, key: str) -> set[str]:
        if key not in self._terms:
            d = self.svc.backend.get_docs([key]).get(key) or {}
            text = " ".join([d.get("title", ""), d.get("text", ""), " ".join(d.get("keywords") or [])])
            self._terms[key] = {t for t in self.svc.analyzer.tokens(text) if len(t) >= 2}
        return self._terms[key]

    def expand(self, qi: int, text: str, pool, m: int, n: int) -> list[tuple[str, float]]:
        ck = (qi, m, n)
        if ck in self._search:
            return self._search[ck]
        keys, cos, smax, sli = pool.late
        p = FusionParams()
        ls = dict(zip(keys, late_mod.late_scores(cos, smax, sli, p.late_a, p.late_b)))
        have = [k for k, _ in pool.dense]
        top = sorted(have, key=lambda k: (-ls[k], k))[:m]
        qterms = set(self.svc.analyzer.query(text).terms)
        count: dict[str, int] = {}
        for k in top:
            for t in self.doc_terms(k) - qterms:
                count[t] = count.get(t, 0) + 1
        df = self.svc.backend.term_counts(list(count))
        w = {t: c * np.log((self.n_docs + 1) / (df.get(t, 0) + 0.5)) for t, c in count.items() if df.get(t, 0) >= 2}
        terms = sorted(w, key=lambda t: (-w[t], t))[:n]
        hits = self.svc.backend.keyword_search([[t] for t in terms], self.f, 200) if terms else []
        self._search[ck] = hits
        return hits

    def pool(self, qi: int, text: str, pool, cfg):
        if cfg is None or pool.late is None:
            return pool
        m, n, g = cfg
        keys, cos = pool.late[0], pool.late[1]
        pooled = dict(zip(keys, cos))
        bm = dict(pool.bm25)
        for k, sc in self.expand(qi, text, pool, m, n):
            if k in pooled:
                bm[k] = bm.get(k, 0.0) + g * sc
        bm25 = sorted(bm.items(), key=lambda x: (-x[1], x[0]))[:max(len(pool.bm25), 100)]
        have = {k for k, _ in pool.dense}
        lookup = {k: float(pooled[k]) for k, _ in bm25 if k not in have}
        groups = self.svc.analyzer.query(text).groups
        cov = self.svc.backend.keyword_coverage(groups, bm25[0][0]) if bm25 and groups else None
        return Pool(pool.mode, pool.dense, bm25, lookup, cov, pool.late)


def expansion_scores(sc: "Scorer", exp: Expander, cfg) -> np.ndarray:
    out = np.zeros((len(sc.queries), 2))
    for i, (q, pool) in enumerate(zip(sc.queries, sc.pools["hybrid"])):
        ranked = [c.id for c in rank_pool(exp.pool(i, q["text"], pool, cfg), FusionParams(), K)]
        m = metrics_for(ranked, sc.grades[i])
        out[i] = m["MRR@10"], m["Recall@10"]
    return out


def known_item_rows(encoder, cache: Path, csl_dir: Path, expansion=None, log=print) -> dict:
    """bench/search_quality.py's known-item tasks (keywords->doc, title->abstract), shipped
    configuration and late interaction off, from one retrieval per query and mode."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from search_quality import tasks

    from indexes.encoders import EmbeddingCache

    rows = load_jsonl(csl_dir / "csl_dev.jsonl")
    out = {}
    for name, (corpus, queries) in tasks(rows).items():
        if name == "topical":
            continue
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="techmatch-devcv-") as tmp:
            svc = build_index(corpus, Path(tmp) / "index", encoder, EmbeddingCache(cache),
                              analyzer=Analyzer(Path(tmp) / "jieba"), fusion=FusionParams())
            log(f"{name}: indexed {len(corpus)} in {time.perf_counter() - t0:.0f} s "
                f"({svc.embedder.encoded} chunks, {svc.embedder.encoded_sentences} sentences encoded)")
            pools = gather_all(svc, queries, log=log, every=250)
            sc = Scorer(svc, queries, pools)
            shipped = FusionParams()
            r = {"keyword": sc.per_query("keyword", shipped),
                 "semantic, late off": sc.per_query("semantic", replace(shipped, late=False)),
                 "semantic (shipped)": sc.per_query("semantic", shipped),
                 "hybrid, late off": sc.per_query("hybrid", replace(shipped, late=False)),
                 "hybrid (shipped)": sc.per_query("hybrid", shipped)}
            if expansion is not None:
                exp = Expander(svc, Filters(published_only=False))
                r[f"hybrid + expansion {expansion}"] = expansion_scores(sc, exp, expansion)
            out[name] = {k: {"MRR@10": round(float(v[:, 0].mean()), 4), "Recall@10": round(float(v[:, 1].mean()), 4)}
                         for k, v in r.items()}
            out[name]["_queries"] = len(queries)
            out[name]["_seconds"] = round(time.perf_counter() - t0, 1)
            svc.backend.close()
    return out


def cell(s: dict) -> str:
    return f"{s['MRR@10']:.3f} ({s['Recall@10']:.3f})" + (f", MRR {s['MRR']:.3f}" if "MRR" in s else "")


def dev_table(a, corpus: list[dict], queries: list[dict], encoder, report: dict) -> tuple[dict, dict]:
    """The dev table's rows (and the configurations CV chose per fold)."""
    from indexes.encoders import EmbeddingCache

    t0 = time.perf_counter()
    rows: dict[str, dict] = {}
    chosen: dict[str, list] = {}
    with tempfile.TemporaryDirectory(prefix="techmatch-devcv-") as tmp:
        svc = build_index(corpus, Path(tmp) / "index", encoder, EmbeddingCache(a.cache),
                          analyzer=Analyzer(Path(tmp) / "jieba"), fusion=FusionParams())
        report["index_seconds"] = round(time.perf_counter() - t0, 1)
        report["encoded"] = {"chunks": svc.embedder.encoded, "sentences": svc.embedder.encoded_sentences}
        print(f"indexed {len(corpus)} papers in {report['index_seconds']} s ({report['encoded']} encoded)", flush=True)
        t1 = time.perf_counter()
        pools = gather_all(svc, queries)
        report["gather_seconds"] = round(time.perf_counter() - t1, 1)
        if a.check:
            check_against_retrieve(svc, queries, pools)
            print("rank_pool == retrieve for the shipped configuration", flush=True)
        sc = Scorer(svc, queries, pools)
        folds = folds_of(queries, a.folds, a.seed)
        shipped = FusionParams()
        t2 = time.perf_counter()
        rows["keyword (BM25)"] = summary(queries, sc.per_query("keyword", shipped))
        rows["semantic, pooled vector"] = summary(queries, sc.per_query("semantic", replace(shipped, late=False)))
        rows["hybrid, margin fusion (before)"] = summary(
            queries, sc.per_query("hybrid", FusionParams(method="margin", late=False)))
        rows["hybrid, agreement + coverage, full (shipped fusion, late off)"] = summary(
            queries, sc.per_query("hybrid", replace(shipped, late=False)))
        for name, grid in (("hybrid, agreement + coverage, CV (81 fusion configs, late off)", fusion_grid()),
                           ("semantic + late interaction (shipped a, b)", None),
                           ("hybrid + late interaction (shipped), full", None),
                           ("hybrid + late interaction, CV (6 (a, b) pairs x w_max {1, 1.5})", late_grid()),
                           ("hybrid + late interaction, CV over the joint grid (486 configs)", joint_grid())):
            if grid is None:
                mode = "semantic" if name.startswith("semantic") else "hybrid"
                rows[name] = summary(queries, sc.per_query(mode, shipped))
                continue
            scores = [sc.per_query("hybrid", p) for p in grid]
            per, best = cross_validate(queries, scores, folds)
            rows[name] = summary(queries, per)
            chosen[name] = [short(grid[j]) for j in best]
            if a.seeds:   # how much the CV estimate moves with the fold assignment alone
                report.setdefault("cv_by_seed", {})[name] = {
                    str(sd): {s: v["MRR@10"] for s, v in
                              summary(queries, cross_validate(queries, scores, folds_of(queries, a.folds, sd))[0]).items()}
                    for sd in range(a.seeds)}
            full_best = max(range(len(grid)), key=lambda j: (round(scores[j][:, 0].mean(), 9),
                                                             round(scores[j][:, 1].mean(), 9), -j))
            rows[name.replace("CV", "best on all 90 (optimistic)", 1)] = summary(queries, scores[full_best])
            chosen[name.replace("CV", "best on all 90 (optimistic)", 1)] = [short(grid[full_best])]
        report["grid_seconds"] = round(time.perf_counter() - t2, 1)
        if a.expansion:
            t4 = time.perf_counter()
            exp = Expander(svc, Filters(published_only=False))
            scores = [expansion_scores(sc, exp, cfg) for cfg in EXPANSION_GRID]
            per, best = cross_validate(queries, scores, folds)
            name = f"hybrid + late + corpus-mined expansion, CV ({len(EXPANSION_GRID)} configs incl. none)"
            rows[name] = summary(queries, per)
            chosen[name] = [EXPANSION_GRID[j] for j in best]
            full_best = max(range(len(scores)), key=lambda j: (round(scores[j][:, 0].mean(), 9),
                                                               round(scores[j][:, 1].mean(), 9), -j))
            rows["hybrid + late + expansion, best on all 90 (optimistic)"] = summary(queries, scores[full_best])
            chosen["hybrid + late + expansion, best on all 90 (optimistic)"] = [EXPANSION_GRID[full_best]]
            some = max(range(1, len(scores)), key=lambda j: (round(scores[j][:, 0].mean(), 9),
                                                             round(scores[j][:, 1].mean(), 9), -j))
            rows["hybrid + late + expansion, best expanding config on all 90"] = summary(queries, scores[some])
            chosen["hybrid + late + expansion, best expanding config on all 90"] = [EXPANSION_GRID[some]]
            picked = [c for c in chosen[name] if c is not None]
            report["expansion_for_known_item"] = max(set(picked), key=picked.count) if picked else None
            report["expansion_seconds"] = round(time.perf_counter() - t4, 1)
        svc.backend.close()
    if a.matcher:
        t3 = time.perf_counter()
        m = matcher_rows(corpus, queries, Path(a.cache))
        rows["hybrid (matcher.eval's run)"] = m["hybrid"]
        rows["matcher, shipped"] = m["matcher"]
        report["matcher_seconds"] = round(time.perf_counter() - t3, 1)
    return rows, chosen


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--csl-dir", default=str(CSL_DIR))
    ap.add_argument("--cache", default=str(CACHE))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--seeds", type=int, default=0, help="also the CV MRR@10 with fold seeds 0..N-1")
    ap.add_argument("--matcher", action="store_true", help="add the matcher rows (a second index)")
    ap.add_argument("--check", action="store_true", help="check rank_pool against retrieve")
    ap.add_argument("--known-item", action="store_true",
                    help="also bench/search_quality.py's keywords->doc and title->abstract (1,000 queries each)")
    ap.add_argument("--expansion-config", help="m,n,g: the expansion the known-item tasks also run")
    ap.add_argument("--no-dev", action="store_true", help="skip the dev table (with --known-item)")
    ap.add_argument("--expansion", action="store_true",
                    help="also the corpus-mined term expansion that was tried (CV over EXPANSION_GRID)")
    ap.add_argument("--json", help="write the results here too")
    ap.add_argument("--limit", type=int, default=0,
                    help="smoke test: the first N papers and the problems whose papers are all among them")
    a = ap.parse_args(argv)
    from core.settings import get_settings
    from indexes.encoders import get_encoder

    corpus = load_jsonl(Path(a.csl_dir) / "csl_dev.jsonl")
    queries = load_jsonl(Path(a.csl_dir) / "problems_dev.jsonl")
    if a.limit:
        corpus = corpus[:a.limit]
        ids = {c["id"] for c in corpus}
        queries = [q for q in queries if set(grades_of(q)) <= ids]
    load0 = os.getloadavg()
    t0 = time.perf_counter()
    encoder = get_encoder(get_settings())
    memo_queries(encoder)
    report: dict = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpus": os.cpu_count(),
                    "load_average_start": [round(x, 2) for x in load0], "encoder": encoder.model_id,
                    "corpus": len(corpus), "queries": len(queries), "folds": a.folds, "seed": a.seed}
    rows, chosen = dev_table(a, corpus, queries, encoder, report) if not a.no_dev else ({}, {})
    exp_cfg = tuple(float(x) if "." in x else int(x) for x in a.expansion_config.split(",")) \
        if a.expansion_config else report.get("expansion_for_known_item")
    if a.known_item:
        report["known_item"] = known_item_rows(encoder, Path(a.cache), Path(a.csl_dir), expansion=exp_cfg)
    report["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    report["seconds"] = round(time.perf_counter() - t0, 1)
    report["rows"] = rows
    report["chosen"] = chosen
    print(f"\n{report['date']}, load average {report['load_average_start']} -> "
          f"{report['load_average_end']}, {report['seconds']} s")
    if rows:
        n = {s: next(iter(rows.values()))[s]["n"] for s in SUBSETS}
        print("\nMRR@10 (Recall@10)\n\n| stage | " + " | ".join(f"{s} ({n[s]})" for s in SUBSETS) + " |")
        print("|---|---|---|---|")
        for name, r in rows.items():
            print(f"| {name} | " + " | ".join(cell(r[s]) for s in SUBSETS) + " |")
        print("\nconfigurations chosen per fold:")
    for name, c in chosen.items():
        print(f"  {name}: {json.dumps(c)}")
    for name, by in report.get("cv_by_seed", {}).items():
        v = {s: [x[s] for x in by.values()] for s in SUBSETS}
        print(f"\nCV MRR@10 over fold seeds 0..{len(by) - 1}, {name}: " + "; ".join(
            f"{s} {np.mean(x):.3f} (min {min(x):.3f}, max {max(x):.3f})" for s, x in v.items()))
    for task, r in report.get("known_item", {}).items():
        print(f"\n{task} ({r['_queries']} queries, {r['_seconds']} s): " + "; ".join(
            f"{k} {v['MRR@10']:.4f} ({v['Recall@10']:.4f})" for k, v in r.items() if not k.startswith("_")))
    if a.json:
        Path(a.json).write_text(json.dumps(report, ensure_ascii=False, indent=1))
    return report


if __name__ == "__main__":
    main()
