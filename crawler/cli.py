"""Commands: ``techmatch crawl [SOURCE]``, ``techmatch crawl-runs``, ``techmatch sources``,
``techmatch import FILE --kind ...`` and ``techmatch import-template --kind ...``."""
from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

console = Console()

COUNT_LABELS = {"found": "发现", "new": "新增", "updated": "更新", "duplicate": "重复", "unchanged": "未变化",
                "skipped": "跳过", "failed": "失败"}


def _print_run(summary) -> None:
    t = Table(title=f"采集来源 {summary.source}（运行 #{summary.run_id}，{summary.duration_seconds:.1f} 秒，"
                    f"{summary.requests} 次请求）")
    for k in COUNT_LABELS:
        t.add_column(COUNT_LABELS[k], justify="right")
    t.add_row(*(str(summary.counts.get(k, 0)) for k in COUNT_LABELS))
    console.print(t)
    if summary.log:
        lt = Table(title="跳过与失败（URL 与原因）", show_lines=False)
        lt.add_column("结果")
        lt.add_column("URL", overflow="fold")
        lt.add_column("原因", overflow="fold")
        for e in summary.log[:50]:
            lt.add_row(e["outcome"], e["url"], e["reason"])
        console.print(lt)
    if summary.status != "finished":
        console.print(f"[red]运行失败：{summary.error}[/red]")


def register(app: typer.Typer, eval_app: typer.Typer) -> None:  # noqa: ARG001
    @app.command("crawl")
    def crawl_cmd(source: str = typer.Argument(None, help="来源名（crawler/sources/*.yaml 的文件名）；省略则采集全部启用的来源"),
                  sources_dir: Path = typer.Option(None, "--sources-dir", help="来源配置目录（默认 crawler/sources）"),
                  refresh: bool = typer.Option(False, "--refresh", help="忽略上次的 ETag/哈希，全部重新抓取和解析（修改来源配置后使用）")):
        """采集外部科技成果与技术需求（遵守 robots.txt，增量、去重，显示进度）。"""
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        from crawler.config import SourceError, get_source, load_all
        from crawler.engine import crawl

        try:
            if source:
                todo = [get_source(source, sources_dir)]
            else:
                todo = [s for s in load_all(sources_dir).values() if s.enabled]
        except SourceError as e:
            console.print(f"[red]错误：[/red]{e}")
            raise typer.Exit(1) from None
        if not todo:
            console.print("没有启用的采集来源（可指定来源名运行未启用的来源）")
            return
        exit_code = 0
        for src in todo:
            with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                          console=console, transient=True) as bar:
                task = bar.add_task(f"{src.name}：开始", total=None)

                def progress(outcome, url, counts, _task=task, _name=src.name):
                    c = " ".join(f"{COUNT_LABELS[k]} {counts.get(k, 0)}" for k in COUNT_LABELS)
                    bar.update(_task, description=f"{_name}：{c}  {outcome} {url[-60:]}")

                summary = crawl(src, progress=progress, refresh=refresh)
            _print_run(summary)
            if summary.status != "finished":
                exit_code = 1
        raise typer.Exit(exit_code)

    @app.command("crawl-runs")
    def crawl_runs(source: str = typer.Option(None, help="只看某个来源"), limit: int = typer.Option(20)):
        """最近的采集运行记录及其计数。"""
        from core.db import session_scope
        from crawler.provenance import recent_runs

        t = Table(title="采集运行记录")
        for col in ("#", "来源", "状态", "开始时间", "秒", *COUNT_LABELS.values()):
            t.add_column(col)
        with session_scope() as s:
            for r in recent_runs(s, source, limit):
                t.add_row(str(r.id), r.source, r.status, r.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                          f"{r.duration_seconds or 0:.1f}", *(str(v) for v in r.counts().values()))
        console.print(t)

    @app.command("sources")
    def sources_cmd():
        """列出采集来源及其计划。"""
        from crawler.config import load_all

        t = Table(title="采集来源（crawler/sources）")
        for col in ("名称", "标题", "类型", "启用", "计划", "起始网址"):
            t.add_column(col, overflow="fold")
        for name, s in load_all().items():
            sch = s.schedule.cron if s.schedule and s.schedule.cron else (
                f"每 {s.schedule.every_seconds} 秒" if s.schedule and s.schedule.every_seconds else "")
            t.add_row(name, s.title, s.kind, "是" if s.enabled else "否", sch, "\n".join(s.start_urls))
        console.print(t)

    @app.command("import")
    def import_cmd(file: Path = typer.Argument(..., exists=True, dir_okay=False, help=".xlsx 或 .csv 文件"),
                   kind: str = typer.Option(..., "--kind", help="problem | achievement | contract"),
                   partial: bool = typer.Option(False, "--partial", help="有错误时仍导入正确的行"),
                   dry_run: bool = typer.Option(False, "--dry-run", help="只校验，不写入")):
        """批量导入技术需求、科技成果或技术合同（中文列名；默认全部正确才导入）。"""
        from core.db import session_scope
        from core.errors import DomainError
        from core.imports.service import import_file

        try:
            with session_scope() as s:
                report = import_file(s, None, file.read_bytes(), file.name, kind, partial=partial, dry_run=dry_run)
        except DomainError as e:
            console.print(f"[red]错误：[/red]{e.message}")
            raise typer.Exit(1) from None
        print_report(report)
        raise typer.Exit(1 if report.status == "rejected" else 0)

    @app.command("import-template")
    def import_template(kind: str = typer.Option(..., "--kind", help="problem | achievement | contract"),
                        fmt: str = typer.Option("xlsx", "--format", help="xlsx | csv"),
                        output: Path = typer.Option(None, "--output", "-o", help="保存路径（默认当前目录）")):
        """生成导入模板（带中文列名、必填标记、下拉选项和填写说明）。"""
        from core.errors import DomainError
        from core.imports.service import template

        try:
            data, filename, _ = template(kind, fmt)
        except DomainError as e:
            console.print(f"[red]错误：[/red]{e.message}")
            raise typer.Exit(1) from None
        path = output or Path(filename)
        path.write_bytes(data)
        console.print(f"模板已保存：{path}")


def print_report(report) -> None:
    color = {"rejected": "red", "partial": "yellow"}.get(report.status, "green")
    console.print(f"[{color}]{report.message}[/{color}]")
    console.print(f"文件：{report.filename}  数据行：{report.total_rows}  校验通过：{report.valid_rows}  "
                  f"导入：{report.imported}  重复：{len(report.duplicates)}  错误行：{report.error_rows}")
    for title, columns, items, keys in (
            ("错误（行号、列、问题）", ("行", "列", "问题"), report.errors, ("row", "column", "message")),
            ("重复（未导入）", ("行", "标题", "说明"), report.duplicates, ("row", "title", "message")),
            ("提示", ("行", "列", "说明"), report.warnings, ("row", "column", "message"))):
        if not items:
            continue
        t = Table(title=title)
        for col in columns:
            t.add_column(col, overflow="fold")
        for item in items[:200]:
            t.add_row(*(str(item[k]) for k in keys))
        console.print(t)
