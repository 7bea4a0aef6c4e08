"""The import machinery shared by every domain that imports spreadsheets: columns and cell
parsers, reading XLSX/CSV, header mapping, row-level error reports. The domains supply their
columns and row rules as an :class:`ImportKind` (core/listings/importers.py,
core/contracts/importers.py); core/imports/service.py runs them."""
from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import openpyxl
from pydantic import ValidationError

from core.errors import ValidationFailed, pydantic_error_details
from core.imports import values as V
from core.models import Organization
from core.validation import check_credit_code, check_phone
from core.vocab import OrgKind

MAX_ROWS = 10000
MAX_ERRORS = 1000


@dataclass(frozen=True)
class Column:
    key: str  # the schema field (or an importer key such as org_name)
    header: str  # Chinese header in the template (without the required mark)
    required: bool = False
    parse: Callable[[Any], Any] | None = None  # cell -> value, raises ValueError
    help: str = ""
    example: str = ""
    choices: tuple[str, ...] = ()  # drop-down in the template
    aliases: tuple[str, ...] = ()

    @property
    def template_header(self) -> str:
        return f"{self.header}*" if self.required else self.header


def text_cell(v) -> str:
    return V.number_text(v) if not isinstance(v, str) else v.strip()


def phone_cell(v) -> str:
    return check_phone(text_cell(v))


def credit_cell(v) -> str:
    return check_credit_code(text_cell(v))


def org_kind_cell(v) -> str:
    try:
        return OrgKind.from_label(text_cell(v)).value
    except ValueError:
        raise ValueError("单位类型无效，可选：企业、高校、科研院所") from None


def keywords_cell(v) -> list[str]:
    return V.split_list(v)


def trl_cell(v) -> int:
    return V.parse_int(v, "技术就绪度")


def money_cell(v):
    return V.parse_money(v, default_unit="wan")


def date_cell(v):
    return V.parse_date(v)


def maturity_cell(v):
    return V.parse_maturity(v)


def labels(enum) -> tuple[str, ...]:
    return tuple(m.label for m in enum)


LIST_HELP = "多个值用顿号、逗号或分号分隔"



@dataclass(frozen=True)
class ImportKind:
    """What a domain supplies to import its rows: the columns, and how a parsed row is checked,
    deduplicated against the platform and written (each row in its own savepoint)."""
    kind: str
    label: str
    columns: Callable[[], tuple[Column, ...]]
    #: (session, row, columns by key, report) -> ok; sets row.data (and owner fields) or reports errors
    validate_row: Callable[..., bool]
    #: (session, rows, report) -> the rows to write; duplicates go to report.duplicates
    drop_duplicates: Callable[..., list]
    #: (session, actor, row) -> the new record's id
    write_row: Callable[..., int]


@dataclass
class ImportReport:
    kind: str
    filename: str
    dry_run: bool = False
    partial: bool = False
    total_rows: int = 0
    valid_rows: int = 0
    imported: int = 0
    created_ids: list[int] = field(default_factory=list)
    # {row, column, field, message}; row 1 is the header row
    errors: list[dict] = field(default_factory=list)
    # {row, title, existing_id, message}
    duplicates: list[dict] = field(default_factory=list)
    # {row, column, message}: accepted, but worth a look (e.g. a new organization)
    warnings: list[dict] = field(default_factory=list)
    label: str = ""  # the kind's Chinese label (技术需求 …)
    status: str = "pending"  # imported | partial | rejected | dry_run | empty

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_rows(self) -> int:
        return len({e["row"] for e in self.errors})

    def add_error(self, row: int, column: str | None, message: str, field_name: str | None = None) -> None:
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"row": row, "column": column or "", "field": field_name or "", "message": message})

    @property
    def message(self) -> str:
        label = self.label or self.kind
        dup = f"，重复 {len(self.duplicates)} 行未导入" if self.duplicates else ""
        if self.status == "dry_run":
            return (f"校验完成（未写入）：共 {self.total_rows} 行，可导入 {self.valid_rows - len(self.duplicates)} 行，"
                    f"有错误 {self.error_rows} 行{dup}")
        if self.status == "rejected":
            return (f"导入未执行：{self.error_rows} 行有错误，请修改后重新上传（全部正确才会导入；"
                    f"也可选择“仅导入正确的行”）")
        if self.status == "empty":
            return "文件中没有数据行"
        if self.status == "partial":
            return f"已导入{label} {self.imported} 条，{self.error_rows} 行有错误未导入{dup}"
        return f"已导入{label} {self.imported} 条{dup}"

    def to_dict(self) -> dict:
        d = asdict(self)
        d.update(ok=self.ok, message=self.message, error_rows=self.error_rows)
        return d


# ----------------------------------------------------------------------------- reading

def norm_header(h) -> str:
    t = unicodedata.normalize("NFKC", str(h or "")).strip()
    t = t.replace("*", "").replace("（必填）", "").replace("(必填)", "")
    return "".join(t.split()).lower()


def read_rows(data: bytes, filename: str) -> list[tuple[int, list]]:
    """[(spreadsheet row number, cells)] including the header row; empty rows dropped."""
    name = (filename or "").lower()
    if name.endswith(".xls"):
        raise ValidationFailed("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 后上传", field="file",
                               code="unsupported_file")
    if name.endswith(".xlsx") or data.startswith(b"PK\x03\x04"):

        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # noqa: BLE001 - openpyxl raises many types on bad files
            raise ValidationFailed("无法读取 Excel 文件（文件损坏或不是 .xlsx 格式）", field="file",
                                   code="unreadable_file") from None
        ws = wb.worksheets[0]
        rows = []
        for i, row in enumerate(ws.iter_rows(values_only=True), start=1):
            cells = list(row)
            if any(not V.is_blank(c) for c in cells):
                rows.append((i, cells))
            if len(rows) > MAX_ROWS + 1:
                raise ValidationFailed(f"一次最多导入 {MAX_ROWS} 行", field="file", code="too_many_rows")
        wb.close()
        return rows
    if name.endswith(".csv") or name.endswith(".txt"):
        text = None
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        if text is None:
            raise ValidationFailed("无法识别 CSV 文件的编码（请使用 UTF-8 或 GBK）", field="file", code="unreadable_file")
        rows = []
        for i, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
            if any(c.strip() for c in cells):
                rows.append((i, cells))
            if len(rows) > MAX_ROWS + 1:
                raise ValidationFailed(f"一次最多导入 {MAX_ROWS} 行", field="file", code="too_many_rows")
        return rows
    raise ValidationFailed("仅支持 .xlsx 和 .csv 文件", field="file", code="unsupported_file")


def map_headers(header: list, cols: tuple[Column, ...], report: ImportReport, header_row: int) -> dict[str, int]:
    by_name: dict[str, Column] = {}
    for c in cols:
        for n in (c.header, *c.aliases):
            by_name[norm_header(n)] = c
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        if V.is_blank(h):
            continue
        col = by_name.get(norm_header(h))
        if col is None:
            report.warnings.append({"row": header_row, "column": str(h), "message": f"无法识别的列“{h}”，已忽略"})
            continue
        if col.key in index:
            report.add_error(header_row, str(h), f"列“{col.header}”重复")
            continue
        index[col.key] = i
    for c in cols:
        if c.required and c.key not in index:
            report.add_error(header_row, c.header, f"缺少必填列“{c.header}”（请使用下载的模板）")
    return index


@dataclass
class Row:
    number: int
    values: dict
    data: Any = None  # the validated schema object
    org: Organization | None = None
    new_org: dict | None = None


# Cross-field rules have no field in pydantic's errors: the column they are about.
RULE_COLUMNS = (("TRL", "trl"), ("预算", "budget_min"), ("技术交易额", "tech_amount"),
                 ("合同成交额", "total_amount"), ("登记号", "reg_number"), ("登记日期", "registered_on"),
                 ("子类", "sub_type"), ("转化方式", "conversion_mode"), ("有效期", "valid_to"),
                 ("当事人", "seller_name"))


def schema_errors(exc: ValidationError, row: int, by_key: dict, report: ImportReport, prefix_map=None) -> None:
    for d in pydantic_error_details(exc.errors()):
        fld = (d.get("field") or "").split(".")[0]
        if not fld:
            fld = next((k for word, k in RULE_COLUMNS if word in d["message"] and k in by_key), "")
        if prefix_map and fld in prefix_map:
            fld = prefix_map[fld]
        col = by_key.get(fld)
        report.add_error(row, col.header if col else (d.get("label") or ""), d["message"], fld or None)


def keep_first(rows: list[Row], report: ImportReport, key, title, existing: dict, existing_message, seen_message: str) -> list[Row]:
    """The rows to write: a row whose ``key`` is already on the platform (``existing``: key -> id) or
    on an earlier row of the file goes to ``report.duplicates`` instead. ``existing_message(key, id)``
    and ``seen_message`` (formatted with the earlier row's number) say why."""
    keep: list[Row] = []
    seen: dict = {}
    for r in rows:
        k = key(r)
        if k in existing:
            report.duplicates.append({"row": r.number, "title": title(r), "existing_id": existing[k],
                                      "message": existing_message(k, existing[k])})
        elif k in seen:
            report.duplicates.append({"row": r.number, "title": title(r), "existing_id": None,
                                      "message": seen_message.format(seen[k])})
        else:
            seen[k] = r.number
            keep.append(r)
    return keep
