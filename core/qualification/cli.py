"""``techmatch qualify --profiles FILE.jsonl``: assess profiles without storing them.

One JSON object out per non-blank input line, in input order. A line that cannot be assessed
gives ``{"line", "id", "error": {"field", "message"}}`` (and the same on stderr, in Chinese);
the other lines are still assessed, and the exit status is 1 when any line failed.
"""
from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import IO, Annotated, Iterator

import typer

from core.errors import DomainError


def qualify_lines(lines: Iterator[str], *, explain: bool = False) -> Iterator[tuple[dict, str | None]]:
    """(output object, error text or None) per non-blank line."""
    from core.qualification.assess import assess
    from core.qualification.schemas import profile_from_dict

    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        pid = None
        try:
            try:
                raw = json.loads(line, parse_float=Decimal)
            except json.JSONDecodeError as e:
                raise DomainError(f"JSON 格式错误（第 {e.colno} 列：{e.msg}）") from None
            if not isinstance(raw, dict):
                raise DomainError("每行应是一个 JSON 对象")
            pid = raw.get("id")
            out = assess(profile_from_dict(raw)).to_dict(explain=explain)
            yield out, None
        except DomainError as e:
            field = e.field
            err = {"line": n, "id": pid, "error": {"field": field, "message": e.message}}
            where = f"第 {n} 行" + (f"（{pid}）" if pid else "")
            yield err, f"{where}：{e.message}" + (f" [字段 {field}]" if field else "")


def run(src: IO[str], out: IO[str], err: IO[str], *, explain: bool = False) -> int:
    failed = 0
    for obj, message in qualify_lines(src, explain=explain):
        out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        if message:
            failed += 1
            err.write(f"错误：{message}\n")
    return 1 if failed else 0


def register(app: typer.Typer, eval_app: typer.Typer) -> None:
    @app.command()
    def qualify(
        profiles: Annotated[str, typer.Option(help="JSON Lines 文件，每行一个企业画像（金额单位万元）；- 表示标准输入")],
        explain: Annotated[bool, typer.Option(help="同时输出评价依据与每项差距的中文说明")] = False,
    ) -> None:
        """科技型中小企业、高新技术企业条件自测（不保存数据），每行输出一个 JSON。"""
        if profiles == "-":
            code = run(sys.stdin, sys.stdout, sys.stderr, explain=explain)
        else:
            path = Path(profiles)
            if not path.is_file():
                typer.echo(f"错误：找不到文件 {profiles}", err=True)
                raise typer.Exit(2)
            with path.open(encoding="utf-8-sig") as f:
                code = run(f, sys.stdout, sys.stderr, explain=explain)
        raise typer.Exit(code)
