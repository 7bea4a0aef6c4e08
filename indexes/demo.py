"""Demo step: index every demo listing in batches (the loader suppresses per-row tasks)."""
from __future__ import annotations

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn


def load(console=None, index: bool = True) -> dict:
    if not index:
        return {}
    from core.db import session_scope
    from indexes.service import get_search_service

    svc = get_search_service()
    with session_scope() as session:
        total = svc.count_listings(session)
        with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console) as bar:
            task = bar.add_task("建立检索索引", total=total)
            stats = svc.reindex(session, progress=lambda n: bar.advance(task, n))
    return {"indexed": stats["listings"], "encoded_chunks": stats["encoded_chunks"]}
