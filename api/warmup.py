"""Warm-up at server start: the first request that searches, publishes or matches would
otherwise pay for loading jieba's dictionary, the encoder and the scoring model (19 s for the
first publish on a loaded 2-core machine, 0.5 s for the next ones). ``techmatch serve`` turns
it on (TECHMATCH_WARMUP=1); it runs in a background thread, so the server answers at once."""
from __future__ import annotations

import logging
import os
import threading
import time
from contextlib import asynccontextmanager

log = logging.getLogger("techmatch.warmup")

SAMPLE = "退役动力电池梯次利用与回收技术，企业希望降低拆解成本"


def warm_up() -> float:
    """Load what the first search/publish/match needs; returns the seconds it took."""
    t0 = time.perf_counter()
    from indexes.service import get_search_service
    from matcher import explain
    from matcher.model import load

    svc = get_search_service()
    svc.analyzer.tokens(SAMPLE)          # jieba dictionary, user words, synonyms
    svc.encode_query(SAMPLE)             # the encoder's weights
    svc.search(SAMPLE, size=1)           # the index: rows' filter arrays, keyword searcher, IVF
    explain._idf()                       # jieba's IDF table (matching, explanations)
    load()                               # the scoring model
    return time.perf_counter() - t0


def _run() -> None:
    try:
        log.warning("预热完成（%.1f 秒）：分词、编码模型与撮合模型已载入", warm_up())
    except Exception:  # noqa: BLE001 - warming up is an optimisation; requests load lazily anyway
        log.exception("warm-up failed")


def enabled() -> bool:
    return os.environ.get("TECHMATCH_WARMUP") == "1"


@asynccontextmanager
async def lifespan(app):
    if enabled():
        threading.Thread(target=_run, name="techmatch-warmup", daemon=True).start()
    yield
