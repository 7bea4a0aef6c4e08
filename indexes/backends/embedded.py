"""Embedded backend: SQLite FTS5 (bm25) + a float32 vector matrix on disk, exact numpy search.

Layout under ``<root>`` (default ``<data_dir>/search``)::

    CURRENT            name of the live version directory (switched atomically by a rebuild)
    v0001/meta.sqlite  docs (one row per listing; row id = vector row), tags, fts5, meta
    v0001/vectors.f32  row-major float32 matrix, row i = docs.row i

Concurrency: one writer (the Celery worker or the CLI; a file lock serialises writers),
any number of readers (API processes).  SQLite runs in WAL mode, so readers never
block.  Every write bumps ``meta.gen`` and stamps the changed docs rows with it; a
reader compares its generation on each query and reloads only the rows stamped after
it (vectors are re-read for those rows from the file).  Rows are never moved: an
update overwrites the row's vector in place, a delete leaves a tombstone, a full
rebuild writes a new version directory and switches ``CURRENT``.

Query-time filtering: kind, status, region prefix, maturity and created_at are kept
as numpy arrays in memory (one mask per query, no SQL); fields / modes filters go
through the in-memory tag masks.  Keyword hits are over-fetched by the inverse
selectivity of the mask and then masked, with an unlimited fallback.  Very common query
terms (``COMMON_FRACTION``) only add to the score of rows that match a rarer term, so that
one frequent word does not make FTS5 compute bm25() for a fifth of the index.
"""
from __future__ import annotations

import fcntl
import json
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
CREATE VIRTUAL TABLE IF NOT EXISTS fts USING fts5(
    title, body, keywords, tokenize = 'unicode61 remove_diacritics 0'
);
CREATE VIRTUAL TABLE IF NOT EXISTS fts_vocab USING fts5vocab(fts, 'row');
"""

#: bm25 column weights: title, body, keywords
BM25_WEIGHTS = (3.0, 1.0, 2.0)
_W = ", ".join(map(str, BM25_WEIGHTS))
#: FTS5 computes bm25() for every row that matches before it sorts, so a query term found in
#: a fifth of the listings costs a fifth of the index. A term in more than this share of the
#: listings (and in at least COMMON_MIN_DOCS of them) is "common": it adds to the score of
#: the listings that match a rarer query term, but does not bring in listings by itself
#: (Lucene's common-terms query). Corpora under COMMON_MIN_DOCS never split.
COMMON_FRACTION = 0.05
COMMON_MIN_DOCS = 2000
# ties broken by row, so that both plans below return the same order
SQL_FULL = f"SELECT rowid, -bm25(fts, {_W}) FROM fts WHERE fts MATCH ? ORDER BY bm25(fts, {_W}), rowid LIMIT ?"
# bm25 is a sum over the query's phrases, each once: rows matching rare AND common terms get
# the full score from the second arm, rows matching rare terms only get it from the first
SQL_RARE_FIRST = (f"SELECT r, max(s) FROM (SELECT rowid r, -bm25(fts, {_W}) s FROM fts WHERE fts MATCH ?1 "
                  f"UNION ALL SELECT rowid, -bm25(fts, {_W}) FROM fts WHERE fts MATCH ?2) "
                  f"GROUP BY r ORDER BY 2 DESC, r LIMIT ?3")
KIND_CODES = {"problem": 1, "achievement": 2}
# In-memory codes of the filter columns (the catalog stores the strings).
STATUS_CODES = {s: i + 1 for i, s in enumerate(LISTING_STATUSES)}
MATURITY_CODES = {s: i + 1 for s, i in MATURITY_ORDER.items()}


def fts_query(groups: list[list[str]]) -> str:
    parts = []
    for g in groups:
        alts = ['"%s"' % t.replace('"', '""') for t in g if t.strip()]
        if alts:
            parts.append(alts[0] if len(alts) == 1 else "(" + " OR ".join(alts) + ")")
    return " OR ".join(parts)


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
                "SELECT row, key, kind, status, region, maturity, created, deleted FROM docs "
                "WHERE gen > ?", (self.gen,)).fetchall()  # no ORDER BY: it would turn off docs_gen
            rows.sort()
            if rows:
                self._grow(rows[-1][0] + 1)
                size = self.vec_path.stat().st_size // (4 * self.dim)
                r_idx = np.array([r[0] for r in rows], np.int64)
                for row, key, kind, status, region, mat, created, deleted in rows:
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
            self.gen = g

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
        self._vname: str | None = None
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
        ptr = self.root / "CURRENT"
        mt = None if self._pinned else (ptr.stat().st_mtime_ns if ptr.exists() else None)
        if self._v is None or mt != self._ptr_mtime:
            name = self._current_name()
            self._ptr_mtime = None if self._pinned else (self.root / "CURRENT").stat().st_mtime_ns
            if self._v is None or name != self._vname:
                old = self._v
                self._v, self._vname = _Version(self.root / name, self.dim), name
                if old is not None:
                    old.close()
        return self._v

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

        with self._writer_lock():
            old = self._current_name() if not self._pinned else None
            self._write_pointer(new._pinned)
        new.close()
        if old and old != new._pinned:
            if self._v is not None and self._vname == old:
                self._v.close()
                self._v = None
            shutil.rmtree(self.root / old, ignore_errors=True)  # open readers keep their fds

    # -- writes ----------------------------------------------------------------
    def upsert(self, docs: list[IndexDoc]) -> None:
        if not docs:
            return
        v = self.v
        with self._writer_lock():
            db = v.db
            db.execute("BEGIN IMMEDIATE")
            try:
                gen = v.db_gen(db) + 1
                rows = []
                for d in docs:
                    r = db.execute("SELECT row FROM docs WHERE key=?", (d.key,)).fetchone()
                    region = int(d.region) if d.region and str(d.region).isdigit() else None
                    vals = (d.kind, str(d.id), d.status, region, d.maturity, d.created_at,
                            d.updated_at, d.content_hash, gen,
                            json.dumps(d.stored(), ensure_ascii=False, default=str))
                    if r:
                        row = r[0]
                        db.execute("UPDATE docs SET kind=?, lid=?, status=?, region=?, maturity=?, "
                                   "created=?, updated=?, hash=?, deleted=0, gen=?, data=? WHERE row=?",
                                   (*vals, row))
                        db.execute("DELETE FROM fts WHERE rowid=?", (row,))
                        db.execute("DELETE FROM tags WHERE row=?", (row,))
                    else:
                        row = db.execute(
                            "INSERT INTO docs(key, kind, lid, status, region, maturity, created, "
                            "updated, hash, gen, data) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                            (d.key, *vals)).lastrowid
                    db.execute("INSERT INTO fts(rowid, title, body, keywords) VALUES (?,?,?,?)",
                               (row, d.title_tokens, d.body_tokens, d.keyword_tokens))
                    db.executemany("INSERT INTO tags(row, t, tag) VALUES (?,?,?)",
                                   [(row, "field", x) for x in set(d.fields or [])]
                                   + [(row, "mode", x) for x in set(d.modes or [])])
                    rows.append((row, d.vector))
                self._write_vectors(v, rows)
                db.execute("INSERT OR REPLACE INTO meta(k, v) VALUES ('gen', ?)", (str(gen),))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def _write_vectors(self, v: _Version, rows) -> None:
        need = max(r for r, _ in rows) + 1
        size = v.vec_path.stat().st_size // (4 * self.dim)
        with open(v.vec_path, "r+b") as f:
            if need > size:
                f.truncate(need * 4 * self.dim)
            for row, vec in sorted(rows, key=lambda x: x[0]):
                arr = np.zeros(self.dim, np.float32) if vec is None else np.asarray(vec, np.float32)
                f.seek(row * 4 * self.dim)
                f.write(arr.tobytes())
            f.flush()
            os.fsync(f.fileno())

    def delete(self, keys: list[str]) -> None:
        if not keys:
            return
        v = self.v
        with self._writer_lock():
            db = v.db
            db.execute("BEGIN IMMEDIATE")
            try:
                gen = v.db_gen(db) + 1
                for key in keys:
                    r = db.execute("SELECT row FROM docs WHERE key=? AND deleted=0", (key,)).fetchone()
                    if not r:
                        continue
                    db.execute("UPDATE docs SET deleted=1, gen=?, hash=NULL WHERE row=?", (gen, r[0]))
                    db.execute("DELETE FROM fts WHERE rowid=?", (r[0],))
                    db.execute("DELETE FROM tags WHERE row=?", (r[0],))
                db.execute("INSERT OR REPLACE INTO meta(k, v) VALUES ('gen', ?)", (str(gen),))
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    # -- reads -----------------------------------------------------------------
    def _mask(self, v: _Version, f: Filters) -> np.ndarray:
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

    def keyword_search(self, groups, filters, k) -> list[Hit]:
        q = fts_query(groups)
        if not q or k <= 0:
            return []
        v = self.v
        v.sync()
        mask = self._mask(v, filters)
        n = len(mask)
        sel = max(float(mask.mean()) if n else 0.0, 1e-3)
        limit = int(min(max(k / sel * 1.5, k), 1_000_000))

        def run(sql, args):
            rows = db.execute(sql, (*args, limit)).fetchall()
            out = [(v.keys[r], s) for r, s in rows if r < n and mask[r]]
            if len(out) < k and len(rows) == limit:  # the filters dropped too many: no limit
                rows = db.execute(sql, (*args, -1)).fetchall()
                out = [(v.keys[r], s) for r, s in rows if r < n and mask[r]]
            return out

        try:
            db = v.reader()
            rare, common = self._split_common(db, v, groups)
            if rare and common:
                out = run(SQL_RARE_FIRST, (fts_query(rare), f"({fts_query(rare)}) AND ({fts_query(common)})"))
                if len(out) >= k:
                    return out[:k]
                # fewer than k listings match the rarer terms: the common ones must fill the list
            return run(SQL_FULL, (q,))[:k]
        except sqlite3.OperationalError:
            return []

    def _split_common(self, db, v: _Version, groups) -> tuple[list, list]:
        """(rare groups, common groups); a synonym group is common if any of its terms is."""
        live = int(np.count_nonzero(v.alive[:v.n]))
        cut = max(COMMON_MIN_DOCS, COMMON_FRACTION * live)
        if live <= cut or len(groups) < 2:
            return groups, []
        terms = sorted({t for g in groups for t in g})
        df = dict(db.execute("SELECT term, doc FROM fts_vocab WHERE term IN (%s)" % ",".join("?" * len(terms)),
                             terms).fetchall())
        common = [g for g in groups if max(df.get(t, 0) for t in g) > cut]
        return [g for g in groups if g not in common], common

    def vector_search(self, qvec, filters, k) -> list[Hit]:
        v = self.v
        v.sync()
        if v.n == 0 or k <= 0:
            return []
        mask = self._mask(v, filters)
        n = len(mask)
        scores = v.V[:n] @ np.asarray(qvec, np.float32)
        scores[~mask] = -np.inf
        kk = min(k, int(mask.sum()))
        if kk <= 0:
            return []
        idx = np.argpartition(-scores, kk - 1)[:kk] if kk < n else np.arange(n)
        idx = idx[np.argsort(-scores[idx], kind="stable")]
        return [(v.keys[int(i)], float(scores[i])) for i in idx if np.isfinite(scores[i])][:kk]

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

    def hashes(self) -> dict[str, str]:
        return {k: h for k, h in self.v.reader().execute("SELECT key, hash FROM docs WHERE deleted=0")}

    def count(self) -> int:
        return self.v.reader().execute("SELECT count(*) FROM docs WHERE deleted=0").fetchone()[0]

    def close(self) -> None:
        if self._v is not None:
            self._v.close()
            self._v = None
