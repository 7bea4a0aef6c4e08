"""CLI of the matcher package: ``techmatch match`` and ``techmatch eval match``."""
from __future__ import annotations

import json
from pathlib import Path

import typer


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    @app.command("match")
    def match(
        all_: bool = typer.Option(False, "--all", help="为所有已发布的需求和成果重新计算推荐"),
        refit: bool = typer.Option(False, "--refit", help="根据经纪人的采纳/驳回记录重新拟合评分权重"),
        problem: int | None = typer.Option(None, "--problem", help="只计算这一项需求"),
        achievement: int | None = typer.Option(None, "--achievement", help="只计算这一项成果"),
        direction: str = typer.Option("both", help="--all 时的方向：problems | achievements | both"),
        workers: int = typer.Option(1, help="--all 时的并行进程数（PostgreSQL 上可设为 CPU 核数）"),
    ):
        """计算撮合推荐（增量或全部），或用经纪人决策重新拟合评分模型。"""
        from rich.console import Console

        console = Console()
        if not (all_ or refit or problem or achievement):
            console.print("请指定 --all、--refit、--problem ID 或 --achievement ID")
            raise typer.Exit(2)
        if refit:
            _refit(console)
        if problem or achievement:
            from core.db import session_scope
            from matcher.proposals import match_listing

            with session_scope() as s:
                for kind, lid in (("problem", problem), ("achievement", achievement)):
                    if lid:
                        console.print(json.dumps({kind: lid, **match_listing(s, kind, lid)}, ensure_ascii=False))
        if all_:
            run_all(console, direction, workers=workers)

    @eval_app.command("match")
    def eval_match(
        achievements: Path = typer.Option(..., exists=True, help="JSONL：成果（id, title, body/abstract, 可选结构化字段）"),
        problems: Path = typer.Option(..., exists=True, help="JSONL：需求（id, text, relevant, 可选结构化字段）"),
        no_diversity: bool = typer.Option(False, "--no-diversity", help="撮合结果不做多样性重排"),
    ):
        """在临时数据库和索引上评测撮合：关键词、语义、混合检索与完整撮合的 nDCG@10、Recall@20、MRR。"""
        from matcher.eval import main

        typer.echo(json.dumps(main(achievements, problems, diversity=not no_diversity), ensure_ascii=False, indent=1))


def run_all(console, direction: str = "both", workers: int = 1) -> dict:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from core.db import session_scope
    from matcher.proposals import match_all

    kinds = {"problems": ("problem",), "achievements": ("achievement",),
             "both": ("problem", "achievement")}.get(direction)
    if kinds is None:
        raise typer.BadParameter("direction 应为 problems、achievements 或 both")
    labels = {"problem": "需求→成果", "achievement": "成果→需求"}
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console) as bar:
        tasks: dict[str, int] = {}

        def progress(kind: str, n: int, total: int) -> None:
            if kind not in tasks:
                tasks[kind] = bar.add_task(labels[kind], total=total)
            bar.advance(tasks[kind], n)

        stats = match_all(session_scope, kinds=kinds, progress=progress, workers=workers)
    console.print(json.dumps(stats, ensure_ascii=False))
    return stats


def _refit(console) -> None:
    from rich.table import Table

    from core.db import session_scope
    from matcher.refit import refit

    with session_scope() as s:
        report = refit(s)
    if "refit" not in report:
        console.print(report["message"])
        return
    t = Table(title="评分模型重新拟合（留出集）")
    t.add_column("模型")
    for col in ("held-out log-loss", "held-out AUC", "benchmark nDCG@10"):
        t.add_column(col, justify="right")
    for name in ("current", "hand_set", "refit"):
        r = report.get(name)
        if r:
            t.add_row(r.get("label", name), *(f"{r.get(k):.4f}" if isinstance(r.get(k), float) else "-"
                                               for k in ("log_loss", "auc", "bench_ndcg10")))
    console.print(t)
    console.print(report["message"])
    if report.get("weights_before"):
        console.print("权重（前 → 后）：" + "，".join(
            f"{k} {report['weights_before'][k]:.2f}→{report['weights_after'].get(k, 0):.2f}"
            for k in report["weights_before"]))
