"""Canonical URLs, content hashes and SimHash near-duplicate detection over jieba tokens.

SimHash (Charikar): each token's 64-bit hash votes on every bit, weighted by the token's
count; the fingerprint keeps the sign of each bit's total. Two texts that share most of
their tokens differ in few bits. Texts are tokenised with the search analyzer of
``indexes/analysis.py`` (jieba with the domain dictionary, normalisation, stopwords), so a
traditional-Chinese or full-width copy of a listing hashes like the original.
"""
from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections import Counter
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from core.listings.kinds import KINDS

# Query parameters that never change the content (tracking, sessions).
TRACKING_PARAMS = {"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "spm",
                   "from", "source", "share", "jsessionid", "phpsessid", "sid", "_t", "timestamp"}


def canonical_url(url: str, drop_params=()) -> str:
    """Lower-case scheme and host, no default port, no fragment, no tracking or session
    parameters, sorted query, '/' for an empty path, no ';jsessionid=' path parameter."""
    p = urlsplit(url.strip())
    scheme = p.scheme.lower()
    host = (p.hostname or "").lower()
    port = p.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    path = re.sub(r";jsessionid=[^/?#]*", "", p.path, flags=re.I) or "/"
    drop = TRACKING_PARAMS | {d.lower() for d in drop_params}
    query = sorted((k, v) for k, v in parse_qsl(p.query, keep_blank_values=True) if k.lower() not in drop)
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def normalize_for_hash(text: str) -> str:
    t = unicodedata.normalize("NFKC", text or "").casefold()
    return re.sub(r"[\s\W_]+", "", t)


def content_hash(*parts: str) -> str:
    """SHA-256 of the normalised extracted content (not of the raw bytes, so a new banner
    or a timestamp in the page template does not count as a change)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(normalize_for_hash(p).encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


def title_key(title: str) -> str:
    """Normalised title for exact duplicate checks (case, width, punctuation, spaces)."""
    return normalize_for_hash(title)


@functools.lru_cache(maxsize=1)
def _analyzer():
    """The search analyzer, built once per process (deliberately not a settings cache:
    its dictionary does not depend on the data directory enough to matter for SimHash, and
    building it costs seconds)."""
    try:
        from indexes.analysis import get_analyzer
    except ImportError:  # pragma: no cover - the search package is part of the product
        return None
    return get_analyzer()


def tokens(text: str) -> list[str]:
    analyzer = _analyzer()
    if analyzer is not None:
        return analyzer.tokens(text)
    import jieba  # pragma: no cover
    return [t for t in jieba.lcut_for_search(normalize_for_hash(text)) if t.strip()]  # pragma: no cover


def jaccard(a: str, b: str) -> float:
    """Jaccard similarity of the two texts' token sets."""
    sa, sb = set(tokens(a)), set(tokens(b))
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)


def listing_text(obj) -> str:
    """The main text of a listing (title and text fields), as the crawler's mapping compares it."""
    return KINDS[obj.kind].main_text(obj)


def _h64(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest(), "big")


def simhash(text: str) -> int:
    counts = Counter(tokens(text))
    if not counts:
        return 0
    v = [0] * 64
    for tok, w in counts.items():
        h = _h64(tok)
        for i in range(64):
            v[i] += w if (h >> i) & 1 else -w
    out = 0
    for i in range(64):
        if v[i] > 0:
            out |= 1 << i
    return out


def to_hex(h: int) -> str:
    return f"{h:016x}"


def from_hex(s: str) -> int:
    return int(s, 16)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


def similarity(a: int, b: int) -> float:
    return 1.0 - hamming(a, b) / 64.0
