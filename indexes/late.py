"""Sentence-level late interaction with the dense encoder.

A listing's pooled vector averages all of its sentences, so an abstract whose one sentence
answers an enterprise's problem is diluted by the others (method, set-up, figures). Beside
the pooled cosine, each candidate also gets

* ``smax``: the best cosine between the whole query and one of the listing's sentences
  (its title counts as a sentence), and
* ``sli``: for each clause of the query (split at ，。；：…), the best cosine with one of the
  listing's sentences, averaged over the clauses (ColBERT's MaxSim, at sentence level).

The dense score used for ranking is ``z(pooled) + a * z(smax) + b * z(sli)``, each z over the
candidate pool (:func:`late_scores`). Sentence vectors are encoded at index time and kept in
the embedding cache (keyed by text, like the chunk vectors), so at query time only the
query's clauses are encoded. A candidate whose sentence vectors are not in the cache keeps
its pooled cosine for both. Figures: bench/README.md (CSL dev problems).
"""
from __future__ import annotations

import re

import numpy as np

_END = re.compile(r"(?<=[。！？；!?;])|(?<=\.)(?=[\u4e00-\u9fff])")
_CLAUSE = re.compile(r"(?<=[。！？；!?;，,：:])")
MAX_SENTENCES = 24      # per listing (the first ones: title, then the text's opening)
MAX_TEXT = 1500         # characters of the text split into sentences


def _split(text: str, rx: re.Pattern, min_chars: int) -> list[str]:
    out: list[str] = []
    cur = ""
    for s in rx.split(text or ""):
        s = s.strip()
        if not s:
            continue
        cur += s
        if len(cur) >= min_chars:
            out.append(cur)
            cur = ""
    if cur:
        if out:
            out[-1] += cur
        else:
            out.append(cur)
    return out


def sentences(title: str, text: str) -> list[str]:
    """A listing's units: its title, then the sentences of its text (short ones joined on)."""
    out = [t for t in [(title or "").strip()] if t] + _split((text or "")[:MAX_TEXT], _END, 6)
    return out[:MAX_SENTENCES]


def clauses(query: str) -> list[str]:
    return _split(query, _CLAUSE, 8) or [query]


def _z(x: np.ndarray) -> np.ndarray:
    sd = float(x.std())
    return (x - x.mean()) / (sd if sd > 1e-9 else 1.0)


def late_scores(pooled: np.ndarray, smax: np.ndarray, sli: np.ndarray, a: float, b: float) -> np.ndarray:
    return _z(pooled) + a * _z(smax) + b * _z(sli)


def interaction(qvec: np.ndarray, clause_vecs: np.ndarray, sent_vecs: list[np.ndarray | None],
                pooled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(smax, sli) per candidate; a candidate without sentence vectors gets its pooled cosine."""
    smax = pooled.astype(np.float64).copy()
    sli = pooled.astype(np.float64).copy()
    for i, S in enumerate(sent_vecs):
        if S is None or not len(S):
            continue
        smax[i] = float((S @ qvec).max())
        sli[i] = float((clause_vecs @ S.T).max(1).mean())
    return smax, sli
