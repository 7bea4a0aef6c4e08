"""Embedded backend: a tantivy keyword index (BM25 over the jieba tokens), an IVF first
stage for dense search (faiss, 8-bit scalar quantised) with exact re-scoring of its top
candidates, and a SQLite file for the stored documents and the filter columns.

Layout under ``<root>`` (default ``<data_dir>/search``)::

    CURRENT                 name of the live version directory (switched atomically by a rebuild)
    v0001/meta.sqlite       docs (one row per listing; row id = vector row), tags, meta
    v0001/vectors.f32       row-major float32 matrix, row i = docs.row i (the exact vectors)
    v0001/kw/               tantivy index: one document per listing (``row``, the weighted
                            token text, and the filter fields kind / status / region /
                            maturity / created / tag)
    v0001/ann-<gen>.faiss   IVF-SQ8 over the vectors, ids = rows, as of meta ``gen`` <gen>

Concurrency: one writer (the worker process or the CLI; a file lock serialises writers),
any number of readers (web processes).  SQLite runs in WAL mode, so readers never block.
Every write bumps ``meta.gen`` and stamps the changed docs rows with it, and commits the
tantivy index; a reader compares its generation on each query and then loads only the rows
stamped after it (their vectors from the file, into its matrix and its IVF), and reloads
the tantivy searcher.  Rows are never moved: an update overwrites the row's vector in
place, a delete leaves a tombstone, a full rebuild writes a new version directory and
switches ``CURRENT``.

Keyword scoring keeps the old FTS5 weighting (title 3, body 1, keywords 2) as term
frequencies in one field: the title's tokens are indexed three times, the keywords' twice;
tantivy's BM25 (k1 1.2, b 0.75) and block-max WAND do the rest.  Filters are tantivy
clauses that do not score.

Dense search: below ``ANN_MIN_ROWS`` listings, or when the filters leave fewer than
``EXACT_MAX`` rows, an exact scan of the float32 rows.  Otherwise the IVF returns
``k + RESCORE_EXTRA`` (at least 2k) candidates among the rows the filters admit, and they are
re-scored exactly from the float32 matrix: scores are the exact cosines, the ranking is the
exact ranking of the candidates.  How many IVF lists a query visits is not a constant: each
training measures it on the index's own vectors (``calibrate_nprobe``: the smallest nprobe
whose recall@10 against the exact scan reaches ``RECALL_TARGET`` on a sample of stored
vectors), records it with the IVF file, and selective filters raise it.  The writer trains
the IVF when the index reaches ``ANN_MIN_ROWS`` and again when it has grown by
``ANN_RETRAIN_GROWTH`` since; between
trainings, new listings are added to it (readers add them to their copy as they sync), so a
new listing is searchable without a rebuild.  Queries use one BLAS thread and one OpenMP
thread (``threadpoolctl``): under contention a multi-threaded scan is slower, not faster.
"""
from __future__ import annotations

import fcntl
import json
import math
import os
import sqlite3
import threading
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from core.listings.vocab import LISTING_STATUSES, MATURITY_ORDER

from .base import FACET_FIELDS, Browse, Filters, Hit, IndexDoc, SearchBackend

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT);
CREATE TABLE IF NOT EXISTS docs (
    row INTEGER PRIMARY KEY,
    key TEXT UNIQUE NOT NULL,
    kind TEXT, lid TEXT, status TEXT, region INTEGER, maturity TEXT,
    created REAL, updated REAL, hash TEXT, deleted INTEGER NOT NULL DEFAULT 0,
    gen INTEGER NOT NULL DEFAULT 0, data TEXT
);
CREATE INDEX IF NOT EXISTS docs_gen ON docs(gen);
CREATE TABLE IF NOT EXISTS tags (row INTEGER NOT NULL, t TEXT NOT NULL, tag TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tags_tag ON tags(t, tag);
CREATE INDEX IF NOT EXISTS tags_row ON tags(row);
"""

#: keyword weights (title, body, keywords), as term-frequency multiples
TITLE_REPEAT, BODY_REPEAT, KEYWORDS_REPEAT = 3, 1, 2
KIND_CODES = {"problem": 1, "achievement": 2}
# In-memory codes of the filter columns (the catalog stores the strings).
STATUS_CODES = {s: i + 1 for i, s in enumerate(LISTING_STATUSES)}
MATURITY_CODES = {s: i + 1 for s, i in MATURITY_ORDER.items()}

#: dense first stage
ANN_MIN_ROWS = 20_000        # fewer listings: exact scan only
ANN_RETRAIN_GROWTH = 2.0     # retrain the IVF when the index has doubled since the last training
EXACT_MAX = 16_384           # filters leave at most this many rows: exact scan of those rows
NPROBE = 24                  # IVF lists visited when the index records no calibrated value
RECALL_TARGET = 0.998        # recall@10 the trained IVF must reach on its own sample (see calibrate_nprobe)
CALIBRATION_QUERIES = 256    # stored vectors used as queries to calibrate nprobe
PLATEAU_GAIN = 0.002         # calibration stops when the next nprobe adds less recall than this
NPROBE_LADDER = (4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
RESCORE_EXTRA = 64           # candidates re-scored exactly: max(2k, k + RESCORE_EXTRA)
TRAIN_SAMPLE = 64            # training points per IVF list
WRITER_HEAP = 64_000_000


def _exact_top(mm, rows: np.ndarray, Q: np.ndarray, qrows: np.ndarray, k: int) -> np.ndarray:
    """Exact top-``k`` rows for each query (``Q[i]`` is the stored vector of ``qrows[i]``,
    which is left out of its own answer), scanning ``rows`` in blocks."""
    best_s = np.full((len(Q), k), -np.inf, np.float32)
    best_r = np.full((len(Q), k), -1, np.int64)
    for i in range(0, len(rows), 65_536):
        part = rows[i:i + 65_536]
        S = Q @ np.ascontiguousarray(mm[part]).T
        S[part[None, :] == qrows[:, None]] = -np.inf
        s = np.concatenate([best_s, S], axis=1)
        r = np.concatenate([best_r, np.broadcast_to(part, S.shape)], axis=1)
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
        best_s, best_r = np.take_along_axis(s, top, 1), np.take_along_axis(r, top, 1)
    return best_r


def calibrate_nprobe(idx, mm, rows: np.ndarray, *, k: int = 10, target: float | None = None,
                     queries: int | None = None) -> dict:
    """The smallest nprobe (from ``NPROBE_LADDER``, capped at nlist) at which the first stage
    (``k + RESCORE_EXTRA`` IVF candidates, then exact re-scoring) finds ``target`` of the exact
    top-``k``, measured with a sample of the index's own vectors as queries (each left out of
    its own answer). Exact re-scoring keeps a true top-``k`` row that is among the candidates,
    so recall is the share of the exact top-``k`` among them. If recall stops growing before
    the target (the quantised codes, not the lists, limit it), the nprobe where it levelled
    off is kept rather than a scan of every list. The sample comes from the data
    the index holds, so the figure holds for its distribution rather than for a constant tuned
    on another corpus; ``bench/search_peers.py`` reports how it carries to real queries."""
    import faiss

    target = RECALL_TARGET if target is None else target
    m = min(len(rows), CALIBRATION_QUERIES if queries is None else queries)
    kk = min(k, len(rows) - 1)
    if kk <= 0:
        return {"nprobe": 1, "recall_at_10": 1.0, "queries": 0, "target": target}
    qrows = np.sort(np.random.default_rng(1).choice(rows, m, replace=False))
    Q = np.ascontiguousarray(mm[qrows], dtype=np.float32)
    truth = _exact_top(mm, rows, Q, qrows, kk)
    kc = max(2 * kk, kk + RESCORE_EXTRA) + 1      # +1: the query's own row comes back too
    ladder = [p for p in NPROBE_LADDER if p < idx.nlist] + [idx.nlist]
    prev: tuple[int, float] | None = None
    plateau = False
    for p in ladder:
        _, ids = idx.search(Q, kc, params=faiss.SearchParametersIVF(nprobe=p))
        found = sum(len(set(truth[i].tolist()) & set(ids[i].tolist())) for i in range(m))
        recall = found / (kk * m)
        if recall >= target:
            break
        if prev is not None and recall - prev[1] < PLATEAU_GAIN:
            # more lists no longer help: what is missed is the 8-bit codes' ranking among
            # near-equal neighbours, not unvisited lists; keep the cheaper nprobe
            (p, recall), plateau = prev, True
            break
        prev = (p, recall)
    return {"nprobe": int(p), "recall_at_10": round(recall, 4), "queries": int(m), "target": target,
            "plateau": plateau}


def nlist_for(n: int) -> int:
    """IVF lists for ``n`` vectors: ~sqrt(n) (100k: 316, 1M: 1000)."""
    return max(16, int(round(math.sqrt(max(n, 1)))))


_threads_limited = False


def _one_thread() -> None:
    """One BLAS and one OpenMP thread for the scans of this process (see the module doc)."""
    global _threads_limited
    if _threads_limited:
        return
    import faiss
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1, user_api="blas")
    faiss.omp_set_num_threads(1)
    _threads_limited = True


def _kw_schema():
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_unsigned_field("row", indexed=True, fast=True)
    sb.add_text_field("text", tokenizer_name="whitespace", index_option="freq")
    for name in ("kind", "status", "maturity"):
        sb.add_unsigned_field(name, indexed=True)
    sb.add_unsigned_field("region", indexed=True, fast=True)
    sb.add_float_field("created", indexed=True, fast=True)
    sb.add_text_field("tag", tokenizer_name="raw", index_option="basic")  # "field:新能源", "mode:license"
    return sb.build()


def _any_of(schema, field: str, values: list):
    """Documents whose ``field`` holds one of ``values``: term queries, one per value (tantivy's
    term_set_query costs ~4x more for the one or few values a filter has: 0.22 vs 0.06 ms per
    published-only keyword query on 20k listings)."""
    from tantivy import Occur, Query

    values = list(dict.fromkeys(values))
    if len(values) == 1:
        return Query.term_query(schema, field, values[0])
    return Query.boolean_query([(Occur.Should, Query.term_query(schema, field, x)) for x in values])


def kw_text(d: IndexDoc) -> str:
    return "\n".join([d.title_tokens] * TITLE_REPEAT + [d.body_tokens] * BODY_REPEAT
                     + [d.keyword_tokens] * KEYWORDS_REPEAT)


class _Version:
    """One version directory: connection + in-memory arrays (per process)."""

    def __init__(self, path: Path, dim: int):
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.dim = dim
        self.db = sqlite3.connect(path / "meta.sqlite", timeout=60, check_same_thread=False,
                                  isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)
        self._tl = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self.vec_path = path / "vectors.f32"
        self.vec_path.touch(exist_ok=True)
        self.lock = threading.RLock()
        n0 = 1024
        self.V = np.zeros((n0, dim), np.float32)
        self.kind = np.zeros(n0, np.int8)
        self.status = np.zeros(n0, np.int8)
        self.alive = np.zeros(n0, bool)
        self.region = np.zeros(n0, np.int64)
        self.maturity = np.zeros(n0, np.int8)
        self.created = np.full(n0, np.nan)
        self.tagmask: dict[tuple[str, str], np.ndarray] = {}  # (field|mode, tag) -> rows having it
        self.n = 0  # rows in use (max row + 1)
        self.gen = -1
        self.keys: dict[int, str] = {}
        self.rows: dict[str, int] = {}
        import tantivy

        self.schema = _kw_schema()
        (path / "kw").mkdir(exist_ok=True)
        self.kw = tantivy.Index(self.schema, path=str(path / "kw"), reuse=True)
        self._searcher = None
        self.ann = None            # faiss IVF (this process's copy), ids = rows
        self.ann_name: str | None = None
        self.ann_nprobe = NPROBE   # lists a query visits with no filter (calibrated at training)
        self.ann_lock = threading.Lock()
        self.mask_cache: dict[tuple, np.ndarray] = {}

    def reader(self) -> sqlite3.Connection:
        """A read connection for the calling thread (queries may run in parallel threads)."""
        c = getattr(self._tl, "c", None)
        if c is None:
            c = sqlite3.connect(self.path / "meta.sqlite", timeout=60, check_same_thread=False,
                                isolation_level=None)
            c.execute("PRAGMA query_only=1")
            self._tl.c = c
            self._readers.append(c)
        return c

    def close(self) -> None:
        self._searcher = None
        self.ann = None
        for c in self._readers:
            try:
                c.close()
            except sqlite3.ProgrammingError:
                pass
        self._readers.clear()
        self.db.close()

    def db_gen(self, conn: sqlite3.Connection | None = None) -> int:
        r = (conn or self.reader()).execute("SELECT v FROM meta WHERE k='gen'").fetchone()
        return int(r[0]) if r else 0

    def searcher(self):
        s = self._searcher
        if s is None:
            self.kw.reload()
            s = self._searcher = self.kw.searcher()
        return s

    def _grow(self, n: int) -> None:
        cap = len(self.alive)
        if n <= cap:
            return
        # 25% headroom: new listings arrive one at a time, and every growth copies the matrix
        new = max(n + n // 4 + 1024, cap)
        def g(a, fill):
            b = np.full((new,) + a.shape[1:], fill, a.dtype)
            b[:cap] = a
            return b
        self.V = g(self.V, 0)
        self.kind, self.status = g(self.kind, 0), g(self.status, 0)
        self.alive, self.region = g(self.alive, False), g(self.region, 0)
        self.maturity, self.created = g(self.maturity, 0), g(self.created, np.nan)
        self.tagmask = {k: g(a, False) for k, a in self.tagmask.items()}

    def sync(self) -> None:
        """Load rows changed since this process last looked."""
        g = self.db_gen()
        if g == self.gen:
            return
        with self.lock:
            if g == self.gen:
                return
            rows = self.reader().execute(
                "SELECT row, key, kind, status, region, maturity, created, deleted, gen FROM docs "
                "WHERE gen > ?", (self.gen,)).fetchall()  # no ORDER BY: it would turn off docs_gen
            rows.sort()
            self._searcher = None  # the keyword index has committed since: reload on next use
            if rows:
                self._grow(rows[-1][0] + 1)
                size = self.vec_path.stat().st_size // (4 * self.dim)
                r_idx = np.array([r[0] for r in rows], np.int64)
                for row, key, kind, status, region, mat, created, deleted, _ in rows:
                    self.keys[row] = key
                    self.rows[key] = row
                    self.kind[row] = KIND_CODES.get(kind, 0)
                    self.status[row] = STATUS_CODES.get(status, 0)
                    self.region[row] = region or 0
                    self.maturity[row] = MATURITY_CODES.get(mat or "", 0)
                    self.created[row] = created if created is not None else np.nan
                    self.alive[row] = not deleted
                for a in self.tagmask.values():
                    a[r_idx] = False
                # driven by the changed docs (docs_gen), then tags_row: no scan of ``tags``
                tag_rows = self.reader().execute(
                    "SELECT row, t, tag FROM tags WHERE row IN (SELECT row FROM docs WHERE gen > ?)",
                    (self.gen,)).fetchall()
                for row, t, tag in tag_rows:
                    a = self.tagmask.get((t, tag))
                    if a is None:
                        a = self.tagmask[(t, tag)] = np.zeros(len(self.alive), bool)
                    a[row] = True
                self._read_vectors(r_idx[r_idx < size], size)
                self.n = max(self.n, int(r_idx.max()) + 1)
            self._sync_ann(rows)
            self.gen = g

    # -- dense first stage ---------------------------------------------------
    def ann_pointer(self) -> tuple[str, int, int] | None:
        """(file, generation, calibrated nprobe) of the writer's latest IVF; indexes trained
        before calibration existed record no nprobe and get ``NPROBE``."""
        r = self.reader().execute("SELECT v FROM meta WHERE k='ann'").fetchone()
        if not r:
            return None
        d = json.loads(r[0])
        return d["file"], int(d["gen"]), int(d.get("nprobe") or NPROBE)

    def _sync_ann(self, changed: list) -> None:
        """Bring this process's IVF up to date: load the writer's latest file when it changed,
        then add the rows written after that file (and re-add the updated ones)."""
        import faiss

        ptr = self.ann_pointer()
        if ptr is None:
            return
        name, agen, nprobe = ptr
        if name != self.ann_name:
            try:
                idx = faiss.read_index(str(self.path / name))
            except RuntimeError:  # replaced by a newer file meanwhile: the next sync loads that
                return
            later = [r for r in changed if r[8] > agen]
            if self.ann is not None or self.gen >= 0:  # rows synced before: take them all from SQL
                later = self.reader().execute(
                    "SELECT row, key, kind, status, region, maturity, created, deleted, gen FROM docs "
                    "WHERE gen > ?", (agen,)).fetchall()
            with self.ann_lock:
                self.ann, self.ann_name, self.ann_nprobe = idx, name, nprobe
                self._ann_apply(later)
            return
        if self.ann is not None and changed:
            with self.ann_lock:
                self._ann_apply(changed)

    def _ann_apply(self, rows: list) -> None:
        if not rows:
            return
        import faiss

        ids = np.array([r[0] for r in rows], np.int64)
        self.ann.remove_ids(faiss.IDSelectorBatch(ids))
        live = np.array([r[0] for r in rows if not r[7] and r[0] < self.n], np.int64)
        if len(live):
            self.ann.add_with_ids(self.V[live], live)

    def _read_vectors(self, rows: np.ndarray, size: int) -> None:
        """Copy rows of the vector file into ``V``: a few rows (one new listing) by pread,
        many (a process's first load) through a memory map."""
        if not len(rows):
            return
        width = 4 * self.dim
        if len(rows) <= 256:
            fd = os.open(self.vec_path, os.O_RDONLY)
            try:
                for r in rows.tolist():
                    self.V[r] = np.frombuffer(os.pread(fd, width, r * width), np.float32)
            finally:
                os.close(fd)
            return
        mm = np.memmap(self.vec_path, np.float32, "r", shape=(size, self.dim))
        try:
            self.V[rows] = mm[rows]
        finally:
            del mm


class EmbeddedBackend(SearchBackend):
    name = "embedded"

    def __init__(self, root: Path | str, dim: int, version: str | None = None):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.dim = int(dim)
        self._pinned = version
        self._v: _Version | None = None
        # the hybrid search reads BM25 in a pool thread while the dense scan runs in the
        # caller's: the first touch of ``v`` (or a switch to a new version) must open the
        # version once, not twice at once (two fresh connections racing to switch the
        # journal to WAL get "database is locked")
        self._vswitch = threading.Lock()
        self._vname: str | None = None
        self._bulk_writer = None
        self._ptr_mtime = None

    # -- versions ------------------------------------------------------------
    def _current_name(self) -> str:
        if self._pinned:
            return self._pinned
        ptr = self.root / "CURRENT"
        if not ptr.exists():
            with self._writer_lock():
                if not ptr.exists():
                    self._write_pointer("v0001")
        return ptr.read_text().strip()

    def _write_pointer(self, name: str) -> None:
        tmp = self.root / f".CURRENT.{os.getpid()}"
        tmp.write_text(name)
        os.replace(tmp, self.root / "CURRENT")

    @property
    def v(self) -> _Version:
        mt = None if self._pinned else self._current_mtime()
        if self._v is not None and mt == self._ptr_mtime:
            return self._v
        with self._vswitch:
            if self._v is None or mt != self._ptr_mtime:
                name = self._current_name()
                if self._v is None or name != self._vname:
                    old = self._v
                    self._v, self._vname = _Version(self.root / name, self.dim), name
                    if old is not None:
                        old.close()
                self._ptr_mtime = None if self._pinned else (self.root / "CURRENT").stat().st_mtime_ns
            return self._v

    def _current_mtime(self) -> int | None:
        try:  # one stat per look (this runs several times per search)
            return (self.root / "CURRENT").stat().st_mtime_ns
        except FileNotFoundError:
            return None

    @contextmanager
    def _writer_lock(self):
        with open(self.root / "writer.lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def begin_rebuild(self) -> "EmbeddedBackend":
        existing = sorted(p.name for p in self.root.glob("v[0-9]*") if p.is_dir())
        nxt = f"v{(int(existing[-1][1:]) + 1) if existing else 1:04d}"
        return EmbeddedBackend(self.root, self.dim, version=nxt)

    def commit_rebuild(self, new: "EmbeddedBackend") -> None:
        import shutil

        new.finish_bulk()
        if not self._pinned:
            self._current_name()  # creates CURRENT if missing (takes the lock itself)
        with self._writer_lock():
            old = None if self._pinned else (self.root / "CURRENT").read_text().strip()
            self._write_pointer(new._pinned)
        new.close()
        if old and old != new._pinned:
            if self._v is not None and self._vname == old:
                self._v.close()
                self._v = None
            shutil.rmtree(self.root / old, ignore_errors=True)  # open readers keep their fds

    # -- writes ----------------------------------------------------------------
    def _kw_writer(self, v: _Version):
        """The tantivy writer: kept open for a rebuild (bulk), else opened per write."""
        if self._bulk_writer is not None:
            return self._bulk_writer
        w = v.kw.writer(heap_size=WRITER_HEAP, num_threads=1)
        if self._pinned:
            # a rebuild target nobody reads yet: one writer for the whole build, committed
            # once by finish_bulk() (commit_rebuild)
            self._bulk_writer = w
        return w

    def _kw_done(self, w) -> None:
        if w is self._bulk_writer:
            return
        w.commit()
        w.wait_merging_threads()

    @staticmethod
    def _kw_delete(v: _Version, w, rows: list[int]) -> None:
        # by query: delete_documents_by_term does not match unsigned fields
        if rows:
            from tantivy import Query

            w.delete_documents_by_query(Query.term_set_query(v.schema, "row", sorted(rows)))

    @staticmethod
    def _kw_doc(schema, row: int, d: IndexDoc):
        import tantivy

        f = dict(row=[row], text=[kw_text(d)], kind=[KIND_CODES.get(d.kind, 0)],
                 status=[STATUS_CODES.get(d.status, 0)], maturity=[MATURITY_CODES.get(d.maturity or "", 0)],
                 region=[int(d.region) if d.region and str(d.region).isdigit() else 0])
        if d.created_at is not None:
            f["created"] = [float(d.created_at)]
        tags = [f"field:{t}" for t in sorted(set(d.fields or []))] + [f"mode:{t}" for t in sorted(set(d.modes or []))]
        if tags:
            f["tag"] = tags
        return tantivy.Document.from_dict(f, schema)

    def upsert(self, docs: list[IndexDoc]) -> None:
        if not docs:
            return
        v = self.v
        with self._writer_lock():
            db = v.db
            db.execute("BEGIN IMMEDIATE")
            w = None
            try:
                gen = v.db_gen(db) + 1
                w = self._kw_writer(v)
                rows = []
                existing = dict(self._select_in(db, "SELECT key, row FROM docs WHERE key IN (%s)",
                                                [d.key for d in docs]))
                self._kw_delete(v, w, list(existing.values()))  # before the adds (opstamp order)
                if existing:
                    self._select_in(db, "DELETE FROM tags WHERE row IN (%s)", list(existing.values()))
                nxt = (db.execute("SELECT max(row) FROM docs").fetchone()[0] or 0) + 1
                rows, updates, inserts, tags = [], [], [], []
                for d in docs:
                    region = int(d.region) if d.region and str(d.region).isdigit() else None
                    vals = (d.kind, str(d.id), d.status, region, d.maturity, d.created_at,
                            d.updated_at, d.content_hash, gen,
                            json.dumps(d.stored(), ensure_ascii=False, default=str))
                    row = existing.get(d.key)
                    if row is not None:
                        updates.append((*vals, row))
                    else:
                        row = existing[d.key] = nxt
                        nxt += 1
                        inserts.append((row, d.key, *vals))
                    w.add_document(self._kw_doc(v.schema, row, d))
                    tags += [(row, "field", x) for x in set(d.fields or [])]
                    tags += [(row, "mode", x) for x in set(d.modes or [])]
                    rows.append((row, d.vector))
                db.executemany("UPDATE docs SET kind=?, lid=?, status=?, region=?, maturity=?, created=?, "
                               "updated=?, hash=?, deleted=0, gen=?, data=? WHERE row=?", updates)
                db.executemany("INSERT INTO docs(row, key, kind, lid, status, region, maturity, created, "
                               "updated, hash, gen, data) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", inserts)
                db.executemany("INSERT INTO tags(row, t, tag) VALUES (?,?,?)", tags)
                self._write_vectors(v, rows)
                self._kw_done(w)
                db.execute("INSERT OR REPLACE INTO meta(k, v) VALUES ('gen', ?)", (str(gen),))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                if w is not None and w is not self._bulk_writer:
                    w.rollback()
                raise
        if self._bulk_writer is None:
            self._maybe_train(v)

    @staticmethod
    def _select_in(db, sql: str, items: list, chunk: int = 500) -> list:
        out = []
        for i in range(0, len(items), chunk):
            part = items[i:i + chunk]
            out += db.execute(sql % ",".join("?" * len(part)), part).fetchall()
        return out

    def _write_vectors(self, v: _Version, rows) -> None:
        need = max(r for r, _ in rows) + 1
        size = v.vec_path.stat().st_size // (4 * self.dim)
        with open(v.vec_path, "r+b") as f:
            if need > size:
                f.truncate(need * 4 * self.dim)
            rows = sorted(rows, key=lambda x: x[0])
            i = 0
            while i < len(rows):  # contiguous runs in one write
                j = i + 1
                while j < len(rows) and rows[j][0] == rows[j - 1][0] + 1:
                    j += 1
                arr = np.vstack([np.zeros(self.dim, np.float32) if vec is None else np.asarray(vec, np.float32)
                                 for _, vec in rows[i:j]])
                f.seek(rows[i][0] * 4 * self.dim)
                f.write(arr.astype(np.float32).tobytes())
                i = j
            f.flush()
            os.fsync(f.fileno())

    def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        v = self.v
        with self._writer_lock():
            db = v.db
            db.execute("BEGIN IMMEDIATE")
            w = None
            try:
                gen = v.db_gen(db) + 1
                w = self._kw_writer(v)
                gone = []
                for key in keys:
                    r = db.execute("SELECT row FROM docs WHERE key=? AND deleted=0", (key,)).fetchone()
                    if not r:
                        continue
                    db.execute("UPDATE docs SET deleted=1, gen=?, hash=NULL WHERE row=?", (gen, r[0]))
                    db.execute("DELETE FROM tags WHERE row=?", (r[0],))
                    gone.append(r[0])
                self._kw_delete(v, w, gone)
                self._kw_done(w)
                db.execute("INSERT OR REPLACE INTO meta(k, v) VALUES ('gen', ?)", (str(gen),))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                if w is not None and w is not self._bulk_writer:
                    w.rollback()
                raise

    def finish_bulk(self) -> None:
        """Commit a rebuild's keyword index and train its IVF (before it goes live)."""
        w, self._bulk_writer = self._bulk_writer, None
        if w is not None:
            w.commit()
            w.wait_merging_threads()
            self.v._searcher = None
        self._maybe_train(self.v)

    # -- dense first stage: training (writer side) -------------------------------
    def _maybe_train(self, v: _Version, force: bool = False) -> bool:
        """Train and persist the IVF when the index is big enough and the last training is
        too old (see the module doc). Runs in the writer process, outside the writer lock:
        readers keep their copy meanwhile."""
        n = int(v.db.execute("SELECT count(*) FROM docs WHERE deleted=0").fetchone()[0])
        if n < ANN_MIN_ROWS and not force:
            return False
        meta = v.db.execute("SELECT v FROM meta WHERE k='ann'").fetchone()
        if meta and not force:
            trained = json.loads(meta[0]).get("rows", 0)
            if n < trained * ANN_RETRAIN_GROWTH:
                return False
        self.train_ann(v)
        return True

    def train_ann(self, v: _Version | None = None) -> dict:
        import faiss

        v = v or self.v
        with self._writer_lock():
            gen = v.db_gen(v.db)
            rows = np.array([r for r, in v.db.execute("SELECT row FROM docs WHERE deleted=0 AND gen <= ?",
                                                      (gen,))], np.int64)
            size = v.vec_path.stat().st_size // (4 * self.dim)
            rows = rows[rows < size]
            if not len(rows):
                return {}
            mm = np.memmap(v.vec_path, np.float32, "r", shape=(size, self.dim))
            nlist = nlist_for(len(rows))
            rng = np.random.default_rng(0)
            sample = np.sort(rng.choice(rows, min(len(rows), nlist * TRAIN_SAMPLE), replace=False))
            quantizer = faiss.IndexFlatIP(self.dim)
            idx = faiss.IndexIVFScalarQuantizer(quantizer, self.dim, nlist, faiss.ScalarQuantizer.QT_8bit,
                                                faiss.METRIC_INNER_PRODUCT)
            idx.cp.niter = 10
            idx.train(np.ascontiguousarray(mm[sample]))
            for i in range(0, len(rows), 50_000):
                part = rows[i:i + 50_000]
                idx.add_with_ids(np.ascontiguousarray(mm[part]), part)
            cal = calibrate_nprobe(idx, mm, rows)
            del mm
            name = f"ann-{gen:08d}.faiss"
            tmp = v.path / f".{name}.{os.getpid()}"
            faiss.write_index(idx, str(tmp))
            os.replace(tmp, v.path / name)
            old = v.db.execute("SELECT v FROM meta WHERE k='ann'").fetchone()
            v.db.execute("INSERT OR REPLACE INTO meta(k, v) VALUES ('ann', ?)",
                         (json.dumps({"file": name, "gen": gen, "rows": int(len(rows)), "nlist": nlist,
                                      "nprobe": cal["nprobe"], "calibration": cal}),))
            if old:  # readers that loaded it keep it in memory; a reader opening it now retries
                prev = json.loads(old[0])["file"]
                if prev != name:
                    (v.path / prev).unlink(missing_ok=True)
            return {"file": name, "rows": int(len(rows)), "nlist": nlist, "nprobe": cal["nprobe"],
                    "calibration": cal}

    # -- reads -----------------------------------------------------------------
    def _mask(self, v: _Version, f: Filters) -> np.ndarray:
        """Rows the filters admit (read-only: cached per index generation, the same filters
        come back on every page and every query)."""
        key = (v.gen, v.n, f.kind, tuple(f.fields), f.region, tuple(f.maturity), tuple(f.modes),
               tuple(f.status), f.published_only, f.date_from, f.date_to, tuple(f.exclude))
        cache = v.mask_cache
        m = cache.get(key)
        if m is None:
            m = self._compute_mask(v, f)
            m.flags.writeable = False
            if len(cache) >= 16:
                cache.clear()
            cache[key] = m
        return m

    def _compute_mask(self, v: _Version, f: Filters) -> np.ndarray:
        n = v.n
        m = v.alive[:n].copy()
        if f.kind:
            m &= v.kind[:n] == KIND_CODES.get(f.kind, -1)
        st = f.effective_status()
        if st:
            m &= np.isin(v.status[:n], [STATUS_CODES.get(s, -1) for s in st])
        rr = f.region_range()
        if rr:
            m &= (v.region[:n] >= rr[0]) & (v.region[:n] <= rr[1])
        if f.maturity:
            m &= np.isin(v.maturity[:n], [MATURITY_CODES.get(x, -1) for x in f.maturity])
        if f.date_from is not None:
            m &= v.created[:n] >= f.date_from
        if f.date_to is not None:
            m &= v.created[:n] < f.date_to
        for t, vals in (("field", f.fields), ("mode", f.modes)):
            if vals:  # any of the values
                tm = np.zeros(n, bool)
                for val in vals:
                    a = v.tagmask.get((t, val))
                    if a is not None:
                        tm |= a[:n]
                m &= tm
        for key in f.exclude:
            r = v.rows.get(key)
            if r is not None and r < n:
                m[r] = False
        return m

    def _kw_filter(self, v: _Version, f: Filters):
        """The filters as one non-scoring tantivy clause (None: no filter)."""
        import tantivy
        from tantivy import Occur, Query

        s = v.schema
        must = []
        if f.kind:
            must.append(Query.term_query(s, "kind", KIND_CODES.get(f.kind, 0) or 99))
        st = f.effective_status()
        if st:
            must.append(_any_of(s, "status", [STATUS_CODES.get(x, 99) for x in st]))
        rr = f.region_range()
        if rr:
            must.append(Query.range_query(s, "region", tantivy.FieldType.Unsigned, rr[0], rr[1]))
        if f.maturity:
            must.append(_any_of(s, "maturity", [MATURITY_CODES.get(x, 99) for x in f.maturity]))
        if f.date_from is not None or f.date_to is not None:
            must.append(Query.range_query(s, "created", tantivy.FieldType.Float,
                                          None if f.date_from is None else float(f.date_from),
                                          None if f.date_to is None else float(f.date_to),
                                          include_upper=f.date_to is None))
        for t, vals in (("field", f.fields), ("mode", f.modes)):
            if vals:
                must.append(_any_of(s, "tag", [f"{t}:{x}" for x in vals]))
        clauses = [(Occur.Must, q) for q in must]
        ex = [v.rows[k] for k in f.exclude if k in v.rows]
        if ex:
            clauses.append((Occur.MustNot, Query.term_set_query(s, "row", ex)))
            if not must:
                clauses.append((Occur.Must, Query.all_query()))
        if not clauses:
            return None
        return Query.const_score_query(Query.boolean_query(clauses), 0.0)

    def keyword_search(self, groups, filters, k) -> list[Hit]:
        from tantivy import Occur, Query

        terms = list(dict.fromkeys(t for g in groups for t in g if t.strip()))
        if not terms or k <= 0:
            return []
        v = self.v
        v.sync()
        s = v.schema
        # a listing matches if any term matches; a synonym group's terms each count (as in FTS5)
        text = Query.boolean_query([(Occur.Should, Query.term_query(s, "text", t)) for t in terms])
        flt = self._kw_filter(v, filters)
        q = text if flt is None else Query.boolean_query([(Occur.Must, text), (Occur.Must, flt)])
        searcher = v.searcher()
        hits = searcher.search(q, k, count=False).hits
        if not hits:
            return []
        rows = searcher.fast_field_values("row", [a for _, a in hits])
        out = []
        n = v.n
        for (score, _), r in zip(hits, rows):
            if r is not None and r < n and v.alive[r]:  # written after this process synced: skip
                out.append((v.keys[r], float(score)))
        return out

    def vector_search(self, qvec, filters, k) -> list[Hit]:
        v = self.v
        v.sync()
        if v.n == 0 or k <= 0:
            return []
        _one_thread()
        mask = self._mask(v, filters)
        q = np.asarray(qvec, np.float32)
        selected = int(np.count_nonzero(mask))
        kk = min(k, selected)
        if kk <= 0:
            return []
        if v.ann is not None and selected > EXACT_MAX:
            rows = self._ann_candidates(v, q, mask, selected, max(2 * kk, kk + RESCORE_EXTRA))
            if len(rows) >= kk:
                return self._exact(v, q, rows, kk)
        return self._exact(v, q, np.flatnonzero(mask), kk)

    @staticmethod
    def _exact(v: _Version, q: np.ndarray, rows: np.ndarray, k: int) -> list[Hit]:
        """Exact top-k of ``rows`` (ascending row ids) by cosine; ties by row."""
        rows = np.sort(rows)
        if len(rows) > v.n // 4:  # most rows: scan the matrix in place rather than gather a copy
            full = v.V[:v.n] @ q
            scores = full[rows]
        else:
            scores = v.V[rows] @ q
        if k < len(rows):
            part = np.argpartition(-scores, k - 1)[:k]
            part = part[np.lexsort((rows[part], -scores[part]))]
        else:
            part = np.lexsort((rows, -scores))
        return [(v.keys[int(rows[i])], float(scores[i])) for i in part]

    @staticmethod
    def _ann_candidates(v: _Version, q: np.ndarray, mask: np.ndarray, selected: int, kc: int) -> np.ndarray:
        import faiss

        bits = np.packbits(mask, bitorder="little")
        sel = faiss.IDSelectorBitmap(len(mask), faiss.swig_ptr(bits))
        with v.ann_lock:
            ann = v.ann
            frac = selected / max(1, int(np.count_nonzero(v.alive[:v.n])))
            nprobe = min(ann.nlist, int(math.ceil(v.ann_nprobe / max(frac, 1e-3) ** 0.5)))
            params = faiss.SearchParametersIVF(sel=sel, nprobe=nprobe)
            _, ids = ann.search(q[None, :], kc, params=params)
        ids = ids[0]
        return ids[ids >= 0]

    def get_docs(self, keys) -> dict[str, dict]:
        if not keys:
            return {}
        v = self.v
        out = {}
        keys = list(keys)
        for i in range(0, len(keys), 500):
            part = keys[i:i + 500]
            q = "SELECT key, data FROM docs WHERE deleted=0 AND key IN (%s)" % ",".join("?" * len(part))
            for key, data in v.reader().execute(q, part):
                out[key] = json.loads(data)
        return out

    def browse(self, filters, offset, limit) -> Browse:
        v = self.v
        v.sync()
        mask = self._mask(v, filters)
        rows = np.flatnonzero(mask)
        total = len(rows)
        want = max(0, int(offset)) + max(0, int(limit))
        newest = -np.nan_to_num(v.created[rows], nan=-np.inf)  # ascending = newest first
        if 0 < want < total:  # only the first pages need ordering
            part = np.argpartition(newest, want - 1)[:want]
            rows, newest = rows[part], newest[part]
        keys = np.array([v.keys[int(r)] for r in rows], dtype=object)
        order = np.lexsort((keys, newest)) if len(rows) else np.array([], np.int64)
        page = keys[order][max(0, int(offset)):want]
        return Browse(keys=[str(k) for k in page], total=total, facets=self._facet_counts(v, mask))

    def facets(self, keys) -> dict[str, dict[str, int]]:
        v = self.v
        v.sync()
        mask = np.zeros(v.n, bool)
        rows = [r for r in (v.rows.get(k) for k in keys) if r is not None and r < v.n]
        mask[rows] = True
        return self._facet_counts(v, mask & v.alive[:v.n])

    @staticmethod
    def _facet_counts(v: _Version, mask: np.ndarray) -> dict[str, dict[str, int]]:
        """Facet counts over the rows in ``mask``, from the in-memory arrays (no SQL)."""
        n = len(mask)
        out: dict[str, dict[str, int]] = {}
        for name, arr, codes in (("kind", v.kind, KIND_CODES), ("status", v.status, STATUS_CODES),
                                 ("maturity", v.maturity, MATURITY_CODES)):
            counts = np.bincount(arr[:n][mask].astype(np.int64), minlength=max(codes.values()) + 1)
            pairs = [(name_, int(counts[c])) for name_, c in codes.items() if counts[c]]
            out[name] = dict(sorted(pairs, key=lambda x: -x[1]))
        reg = v.region[:n][mask]
        prov, cnt = np.unique(reg[reg > 0] // 10000, return_counts=True)
        out["region"] = {f"{int(p):02d}0000": int(c) for p, c in sorted(zip(prov, cnt), key=lambda x: -x[1])}
        out["fields"], out["modes"] = {}, {}
        for (t, tag), a in v.tagmask.items():
            c = int(np.count_nonzero(a[:n] & mask))
            if c:
                out["fields" if t == "field" else "modes"][tag] = c
        for k in ("fields", "modes"):
            out[k] = dict(sorted(out[k].items(), key=lambda x: (-x[1], x[0])))
        return {k: out[k] for k in FACET_FIELDS}

    def get_vectors(self, keys) -> dict[str, np.ndarray]:
        v = self.v
        v.sync()
        out = {}
        for key in keys:
            r = v.rows.get(key)
            if r is not None and v.alive[r]:
                out[key] = v.V[r].copy()
        return out

    def dense_scores(self, qvec, keys) -> dict[str, float]:
        v = self.v
        v.sync()
        rows = [(k, v.rows.get(k)) for k in keys]
        rows = [(k, r) for k, r in rows if r is not None and v.alive[r]]
        if not rows:
            return {}
        s = v.V[[r for _, r in rows]] @ np.asarray(qvec, np.float32)
        return {k: float(x) for (k, _), x in zip(rows, s)}

    def term_counts(self, terms) -> dict[str, int]:
        """Document frequency of each term in the keyword index."""
        terms = sorted(set(terms))
        if not terms:
            return {}
        v = self.v
        v.sync()
        searcher = v.searcher()
        return {t: int(searcher.doc_freq("text", t)) for t in terms}

    def keyword_coverage(self, groups, key) -> float | None:
        """The idf-weighted share of the query's term groups that the listing ``key`` contains."""
        from tantivy import Occur, Query

        v = self.v
        v.sync()
        row = v.rows.get(key)
        terms = sorted({t for g in groups for t in g})
        if row is None or not terms:
            return None
        searcher, s = v.searcher(), v.schema
        in_row = Query.term_query(s, "row", row)

        def has(t: str) -> bool:
            q = Query.boolean_query([(Occur.Must, in_row), (Occur.Must, Query.term_query(s, "text", t))])
            return searcher.search(q, 1, count=True).count > 0

        df = self.term_counts(terms)
        n = max(1, int(np.count_nonzero(v.alive[:v.n])))

        def idf(t: str) -> float:
            f = df.get(t, 0)
            return math.log((n - f + 0.5) / (f + 0.5) + 1.0)

        total = sum(idf(g[0]) for g in groups)
        got = sum(idf(g[0]) for g in groups if any(has(t) for t in g))
        return got / total if total > 0 else None

    def hashes(self) -> dict[str, str]:
        return {k: h for k, h in self.v.reader().execute("SELECT key, hash FROM docs WHERE deleted=0")}

    def count(self) -> int:
        return self.v.reader().execute("SELECT count(*) FROM docs WHERE deleted=0").fetchone()[0]

    def refresh(self) -> None:
        if self._bulk_writer is not None:
            self.finish_bulk()

    def close(self) -> None:
        if self._bulk_writer is not None:
            self.finish_bulk()
        if self._v is not None:
            self._v.close()
            self._v = None
