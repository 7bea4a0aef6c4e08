"""CLI: `techmatch export contracts|indicators` and `techmatch indicators` (summary table)."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from core.contracts import exports as contract_exports
from core.db import local_today
from core.indicators import exports as indicator_exports

console = Console()
export_app = typer.Typer(help="导出技术合同与指标表（XLSX/CSV，金额万元）", no_args_is_help=True)


def _fail(message: str) -> None:
    console.print(f"[red]错误：[/red]{message}")
    raise typer.Exit(1)


#: ``--as EMAIL``: act as that account, with its permissions and its jurisdiction (a bureau
#: exports its own region, core.permissions); without it the CLI reads everything (system).
AsAccount = Annotated[str | None, typer.Option("--as", help="以该账号（邮箱）的权限与管辖范围执行；省略为系统（全部）")]


def _viewer(session, email: str | None):
    if not email:
        return None
    from sqlalchemy import func, select

    from core.models import User

    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None or not user.is_active:
        _fail(f"账号 {email} 不存在或已停用")
    return user


def _write(content: bytes, filename: str, out: Path | None) -> None:
    path = out or Path(filename)
    if path.is_dir():
        path = path / filename
    path.write_bytes(content)
    console.print(f"已导出：{path.resolve()}（{len(content):,} 字节）")


@export_app.command("contracts")
def export_contracts(
    year: Annotated[int | None, typer.Option(help="登记年度")] = None,
    region: Annotated[str | None, typer.Option(help="行政区划代码（按前缀汇总）")] = None,
    side: Annotated[str, typer.Option(help="seller（输出）、buyer（吸纳）或 any（任一方或登记机构）")] = "seller",
    fmt: Annotated[str, typer.Option("--format", help="xlsx 或 csv")] = "xlsx",
    out: Annotated[Path | None, typer.Option(help="输出文件或目录")] = None,
    as_account: AsAccount = None,
) -> None:
    """Export the technology-contract list."""
    from core.contracts.service import ContractFilters
    from core.db import session_scope
    from core.errors import DomainError

    try:
        with session_scope() as s:
            viewer = _viewer(s, as_account)
            content, name, _ = contract_exports.export_contracts(
                s, viewer, ContractFilters(year=year, region=region, side=side), fmt, as_system=viewer is None)
    except DomainError as e:
        _fail(e.message)
    _write(content, name, out)


@export_app.command("indicators")
def export_indicators(
    year: Annotated[int, typer.Option(help="年度")] = local_today().year,
    region: Annotated[str | None, typer.Option(help="行政区划代码")] = None,
    fmt: Annotated[str, typer.Option("--format", help="xlsx 或 csv")] = "xlsx",
    table: Annotated[str | None, typer.Option(help="CSV 时选择的表名，如 按技术领域")] = None,
    out: Annotated[Path | None, typer.Option(help="输出文件或目录")] = None,
    as_account: AsAccount = None,
) -> None:
    """Export the indicator tables (summary, targets, months, regions, types, fields, 成果转化)."""
    from core.db import session_scope
    from core.errors import DomainError

    try:
        with session_scope() as s:
            content, name, _ = indicator_exports.export_indicators(s, _viewer(s, as_account), year, region, fmt,
                                                                   table)
    except DomainError as e:
        _fail(e.message)
    _write(content, name, out)


def indicators_command(
    year: Annotated[int, typer.Option(help="年度")] = local_today().year,
    region: Annotated[str | None, typer.Option(help="行政区划代码，如 330400")] = None,
    as_account: AsAccount = None,
) -> None:
    """打印年度指标、目标进度与年末预测。"""
    from core.db import session_scope
    from core.errors import DomainError
    from core.indicators import service as indicators
    from core.money import to_wan

    try:
        with session_scope() as s:
            sm = indicators.summary(s, _viewer(s, as_account), year, region)
    except DomainError as e:
        _fail(e.message)
    c, a = sm["contracts"], sm["absorbed"]
    t = Table(title=f"{year} 年科技指标 · {sm['region_name']} · 截至 {sm['as_of']}")
    for col in ("指标", "本年累计", "上年同期", "同比%"):
        t.add_column(col, justify="right" if col != "指标" else "left")
    t.add_row("技术合同成交额（输出，万元）", str(c["total_amount_wan"]),
              str(c["last_year_same_period"]["total_amount_wan"]), str(c["growth_pct"]["total_amount"] or "—"))
    t.add_row("技术交易额（输出，万元）", str(c["tech_amount_wan"]),
              str(c["last_year_same_period"]["tech_amount_wan"]), str(c["growth_pct"]["tech_amount"] or "—"))
    t.add_row("技术合同成交额（吸纳，万元）", str(a["total_amount_wan"]),
              str(a["last_year_same_period"]["total_amount_wan"]), str(a["growth_pct"]["total_amount"] or "—"))
    t.add_row("技术合同登记数（项）", str(c["count"]), str(c["last_year_same_period"]["count"]),
              str(c["growth_pct"]["count"] or "—"))
    t.add_row("成果转化（项 / 万元）", f"{sm['conversion']['items']} / {sm['conversion']['amount_wan']}", "", "")
    for v in sm["activities"].values():
        t.add_row(v["label"], str(v["value"]), str(v["last_year_same_period"]), str(v["growth_pct"] or "—"))
    console.print(t)
    if sm["targets"]:
        tt = Table(title="目标进度")
        for col in ("指标", "目标", "完成", "完成率%", "预计全年", "方法", "状态"):
            tt.add_column(col)
        for r in sm["targets"]:
            money = r["unit"] == "money"
            f = (lambda v: str(to_wan(v)) if money and v is not None else str(v))
            tt.add_row(r["label"] + ("（万元）" if money else ""), f(r["target"]), f(r["actual"]),
                       str(r["progress_pct"]), f(r["projection"]), r["projection_method_label"],
                       "[red]滞后[/red]" if r["behind_schedule"] else r["status_label"])
        console.print(tt)


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    app.add_typer(export_app, name="export")
    app.command("indicators")(indicators_command)
