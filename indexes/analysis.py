"""Chinese text analysis shared by every backend: normalisation, jieba search-mode
segmentation with a domain user dictionary, stopwords and query-time synonyms.

Both sides use *search mode* (``jieba.cut_for_search``): "科技成果" is indexed as
``科技 成果 科技成果``, so a query for "成果" finds it, and a query for "科技成果"
matches the long word too.  Backends receive pre-segmented, space-joined text and
never segment on their own (SQLite FTS5 ``unicode61`` / Elasticsearch ``whitespace``).

Normalisation (applied to index and query text alike, see :func:`normalize`):
NFKC (full-width -> half-width, compatibility forms), case folding, traditional ->
simplified Chinese (zhconv, ``zh-cn``).

jieba's model cache is written to ``<data_dir>/jieba/`` instead of /tmp.
"""
from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import jieba
import zhconv

DATA = Path(__file__).parent / "data"
USERDICT = DATA / "userdict.txt"
STOPWORDS = DATA / "stopwords.txt"
SYNONYMS = DATA / "synonyms.txt"
LEARNED_NAME = "userdict_learned.txt"  # in <data_dir>/jieba/, grows with listings' keywords

jieba.setLogLevel(logging.WARNING)

_WORD = re.compile(r"\w", re.UNICODE)
_CJK = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=65536)
def _norm_char(ch: str) -> str:
    n = unicodedata.normalize("NFKC", ch).casefold()
    n = zhconv.convert(n, "zh-cn") if _CJK.search(n) else n
    return n


def normalize(text: str | None) -> str:
    """NFKC + casefold + traditional->simplified. Phrase-level zhconv conversion."""
    if not text:
        return ""
    t = unicodedata.normalize("NFKC", text).casefold()
    if _CJK.search(t):
        t = zhconv.convert(t, "zh-cn")
    return t


def normalize_aligned(text: str) -> str:
    """Character-by-character normalisation that keeps the length of ``text``
    (one output char per input char), used to locate highlights in the original."""
    fast = normalize(text)
    if len(fast) == len(text):  # the usual case: NFKC/zhconv kept every position
        return fast
    out = []
    for ch in text:
        n = _norm_char(ch)
        out.append(n if len(n) == 1 else ch.casefold()[:1] or ch)
    return "".join(out)


def _read_lines(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [l.strip() for l in path.read_text(encoding="utf-8").splitlines()
            if l.strip() and not l.lstrip().startswith("#")]


@dataclass
class QueryTerms:
    """Analysed query: ``groups`` is one list of alternatives per query term
    (the term first, then its synonyms)."""

    text: str
    groups: list[list[str]] = field(default_factory=list)

    @property
    def terms(self) -> list[str]:
        return [t for g in self.groups for t in g]

    @property
    def primary(self) -> list[str]:
        return [g[0] for g in self.groups]


_BASE: tuple[dict, int] | None = None  # jieba's main dictionary, built once per process
_BASE_LOCK = threading.Lock()


def _init_base(tk: "jieba.Tokenizer", cache_dir: Path | None) -> None:
    """Initialise ``tk`` with jieba's main dictionary. The first call in a process loads it
    through jieba (using/creating ``<cache_dir>/jieba.cache``); later calls copy it from
    memory (building the prefix dictionary takes seconds), and still leave a cache file
    in their own data directory."""
    global _BASE
    with _BASE_LOCK:
        if _BASE is None:
            tk.initialize()
            _BASE = (dict(tk.FREQ), tk.total)
            return
    tk.FREQ, tk.total = dict(_BASE[0]), _BASE[1]
    tk.initialized = True
    if cache_dir is not None and not (cache_dir / "jieba.cache").exists():
        import marshal
        import os

        tmp = cache_dir / f".jieba.cache.{os.getpid()}"
        with open(tmp, "wb") as f:
            marshal.dump(_BASE, f)
        os.replace(tmp, cache_dir / "jieba.cache")


class Analyzer:
    def __init__(self, cache_dir: Path | None = None):
        self._lock = threading.Lock()
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.tk = jieba.Tokenizer()
        if self.cache_dir:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            self.tk.tmp_dir = str(self.cache_dir)
        _init_base(self.tk, self.cache_dir)
        self.stopwords = {normalize(w) for w in _read_lines(STOPWORDS)}
        self.synonyms: dict[str, list[str]] = {}
        for line in _read_lines(SYNONYMS):
            group = [normalize(w.strip()) for w in line.split(",") if w.strip()]
            for w in group:
                self.synonyms.setdefault(w, [])
                for o in group:
                    if o != w and o not in self.synonyms[w]:
                        self.synonyms[w].append(o)
        self.tk.load_userdict(str(USERDICT))
        for w in self.synonyms:
            self.tk.add_word(w, 2000)
        self._learned: set[str] = set()
        if self.cache_dir:
            for w in _read_lines(self.cache_dir / LEARNED_NAME):
                self._learned.add(w)
                self.tk.add_word(w, 1000)

    # -- dictionary growth -------------------------------------------------
    def learn_words(self, words) -> list[str]:
        """Add listing keywords to the user dictionary (persisted in data_dir)."""
        new = []
        for w in words or []:
            w = normalize(w).strip()
            if 2 <= len(w) <= 12 and _CJK.search(w) and " " not in w and w not in self._learned:
                new.append(w)
        if not new:
            return []
        with self._lock:
            for w in new:
                self._learned.add(w)
                self.tk.add_word(w, 1000)
            if self.cache_dir:
                with open(self.cache_dir / LEARNED_NAME, "a", encoding="utf-8") as f:
                    f.writelines(w + "\n" for w in new)
        return new

    # -- segmentation ------------------------------------------------------
    def tokens(self, text: str | None, *, keep_stopwords: bool = False) -> list[str]:
        """Search-mode tokens of normalised text, without punctuation and stopwords."""
        t = normalize(text)
        if not t:
            return []
        out = []
        for tok in self.tk.cut_for_search(t):
            tok = tok.strip()
            if not tok or not _WORD.search(tok):
                continue
            if not keep_stopwords and tok in self.stopwords:
                continue
            out.append(tok)
        return out

    def index_text(self, text: str | None) -> str:
        """Space-joined tokens, what backends store in their full-text field."""
        return " ".join(self.tokens(text))

    def query(self, text: str | None) -> QueryTerms:
        seen: set[str] = set()
        groups: list[list[str]] = []
        for tok in self.tokens(text):
            if tok in seen:
                continue
            seen.add(tok)
            groups.append([tok] + [s for s in self.synonyms.get(tok, []) if s != tok])
        return QueryTerms(text=text or "", groups=groups)


_analyzers: dict[str, Analyzer] = {}
_alock = threading.Lock()


def get_analyzer(cache_dir: Path | None = None) -> Analyzer:
    """Process-wide analyzer per cache directory (defaults to settings.data_dir/jieba)."""
    if cache_dir is None:
        from indexes.config import get_settings

        cache_dir = Path(get_settings().data_dir) / "jieba"
    key = str(Path(cache_dir).resolve())
    with _alock:
        a = _analyzers.get(key)
        if a is None:
            a = _analyzers[key] = Analyzer(Path(cache_dir))
        return a


# -- highlighting ------------------------------------------------------------
def _escape(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def _spans(text: str, terms: list[str]) -> list[tuple[int, int]]:
    shadow = normalize_aligned(text)
    spans = []
    for t in sorted({t for t in terms if t}, key=len, reverse=True):
        start = 0
        while True:
            i = shadow.find(t, start)
            if i < 0:
                break
            spans.append((i, i + len(t)))
            start = i + 1
    spans.sort()
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
        else:
            merged.append((s, e))
    return merged


def highlight(text: str | None, terms: list[str]) -> str:
    """HTML-escaped ``text`` with query terms wrapped in ``<em>``."""
    text = text or ""
    spans = _spans(text, terms)
    out, pos = [], 0
    for s, e in spans:
        out.append(_escape(text[pos:s]))
        out.append("<em>" + _escape(text[s:e]) + "</em>")
        pos = e
    out.append(_escape(text[pos:]))
    return "".join(out)


def snippet(text: str | None, terms: list[str], width: int = 120) -> str:
    """The ``width``-char window of ``text`` with most term matches, highlighted."""
    text = (text or "").strip()
    if len(text) <= width:
        return highlight(text, terms)
    spans = _spans(text, terms)
    best, best_start = -1, 0
    for s, _ in spans or [(0, 0)]:
        start = max(0, min(s - width // 4, len(text) - width))
        n = sum(1 for a, b in spans if a >= start and b <= start + width)
        if n > best:
            best, best_start = n, start
    frag = text[best_start:best_start + width]
    pre = "…" if best_start > 0 else ""
    post = "…" if best_start + width < len(text) else ""
    return pre + highlight(frag, terms) + post
