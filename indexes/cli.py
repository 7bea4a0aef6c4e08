"""CLI commands of the indexes package: ``techmatch reindex``, ``techmatch index-check``,
``techmatch eval search``."""
from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    @app.command("reindex")
    def reindex(full: bool = typer.Option(False, "--full", help="重建新版本索引并原子切换（不停服）"),
                batch: int = typer.Option(64, help="每批编码的条目数")):
        """从数据库重建检索索引（未变化的条目不重新编码）。"""
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TimeElapsedColumn,
        )

        from core.db import session_scope
        from indexes.service import get_search_service

        svc = get_search_service()
        with session_scope() as session:
            total = svc.count_listings(session)
            with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                          TimeElapsedColumn()) as bar:
                task = bar.add_task("reindex", total=total)
                stats = svc.reindex(session, full=full, batch=batch,
                                    progress=lambda n: bar.advance(task, n))
        typer.echo(json.dumps(stats, ensure_ascii=False))

    @app.command("index-check")
    def index_check(repair: bool = typer.Option(True, "--repair/--no-repair", help="修复缺失或过期的索引条目")):
        """检查索引与数据库是否一致：缺失、过期、孤立条目，并修复。"""
        from core.db import session_scope
        from indexes.service import get_search_service

        with session_scope() as session:
            report = get_search_service().index_check(session, repair=repair)
        summary = {k: (len(v) if isinstance(v, list) else v) for k, v in report.items()}
        typer.echo(json.dumps({"summary": summary, **{k: v[:50] for k, v in report.items()
                                                       if isinstance(v, list)}}, ensure_ascii=False))
        if not repair and (report["missing"] or report["stale"] or report["orphans"]):
            raise typer.Exit(1)

    @eval_app.command("search")
    def eval_search(corpus: Path = typer.Option(..., exists=True, help="JSONL: id, title, body[, fields, keywords]"),
                    queries: Path = typer.Option(..., exists=True, help="JSONL: id, text, relevant"),
                    mode: str = typer.Option("all", help="keyword|semantic|hybrid|all"),
                    fusion: str = typer.Option("adaptive", help="adaptive|rrf")):
        """在临时索引上评测检索：每种模式的 MRR@10、Recall@10、Recall@50、nDCG@10。"""
        from indexes.eval import main

        typer.echo(json.dumps(main(corpus, queries, mode, fusion), ensure_ascii=False))
