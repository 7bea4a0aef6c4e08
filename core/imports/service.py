"""Importers for the spreadsheets bureaus exchange: XLSX/CSV with Chinese column headers.

``import_file(session, actor, data, filename, kind, partial=False, dry_run=False)`` reads a
file of technical problems (``problem``), achievements (``achievement``) or technology
contracts (``contract``) and returns an :class:`ImportReport`:

- every row is validated first; each problem is reported with its spreadsheet row number,
  the column and a Chinese message;
- all-or-nothing by default: one bad row and nothing is written; ``partial=True`` writes the
  good rows and reports the bad ones; ``dry_run=True`` validates and writes nothing;
- rows that duplicate an existing listing (same normalised title and owner) or contract
  (same 登记号), or an earlier row of the file, are reported and not imported;
- listings enter as ``source="imported"``, ``status="pending_review"`` (the bureau publishes
  them after review) and are indexed after commit like any other listing; owners are
  resolved as the crawler does (:mod:`core.accounts.owners`): by credit code, then by name, else
  a new organization, not approved (with a placeholder credit code when the row has none);
- contracts are registered through ``core.contracts.service.register`` (source
  ``imported``); parties that match a platform organization (by credit code or exact name)
  are linked to it.

The caller owns the transaction (the service flushes, never commits).
``template(kind, fmt)`` builds the downloadable template with the same headers.
"""
from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import audit
from core import permissions as perm
from core.accounts import owners
from core.contracts import service as contracts
from core.contracts.schemas import ContractIn, PartyIn
from core.contracts.vocab import (
    ContractSubType,
    ContractType,
    ConversionMode,
    PartyType,
)
from core.errors import DomainError, ValidationFailed, pydantic_error_details
from core.imports import values as V
from core.listings import dedup
from core.listings import service as listings
from core.listings.schemas import AchievementIn, ProblemIn
from core.listings.vocab import CoopMode, Maturity, TransferMode
from core.models import Organization
from core.models.contracts import Contract
from core.models.listings import LISTING_MODELS
from core.validation import check_credit_code, check_phone
from core.vocab import FIELDS, OrgKind, PatentType

KINDS = ("problem", "achievement", "contract")
KIND_LABELS = {"problem": "技术需求", "achievement": "科技成果", "contract": "技术合同"}
MAX_ROWS = 10000
MAX_ERRORS = 1000


# ----------------------------------------------------------------------------- columns

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


def _text(v) -> str:
    return V.number_text(v) if not isinstance(v, str) else v.strip()


def _phone(v) -> str:
    return check_phone(_text(v))


def _credit(v) -> str:
    return check_credit_code(_text(v))


def _org_kind(v) -> str:
    try:
        return OrgKind.from_label(_text(v)).value
    except ValueError:
        raise ValueError("单位类型无效，可选：企业、高校、科研院所") from None


def _keywords(v) -> list[str]:
    return V.split_list(v)


def _trl(v) -> int:
    return V.parse_int(v, "技术就绪度")


def _money(v):
    return V.parse_money(v, default_unit="wan")


def _date(v):
    return V.parse_date(v)


def _required_maturity(v):
    return V.parse_maturity(v)


def _labels(enum) -> tuple[str, ...]:
    return tuple(m.label for m in enum)


LIST_HELP = "多个值用顿号、逗号或分号分隔"

PROBLEM_COLUMNS: tuple[Column, ...] = (
    Column("title", "需求名称", True, _text, "2–200 字", "锂电池正极材料循环寿命提升", aliases=("标题", "需求标题")),
    Column("org_name", "需求单位", True, _text, "已在平台登记的单位按名称或信用代码匹配；未登记的将新建（待审核）",
           "嘉善示例电池有限公司", aliases=("单位名称", "企业名称")),
    Column("org_credit_code", "统一社会信用代码", False, _credit, "18 位，可选", "913304215555555551"),
    Column("region", "所在地区", True, V.parse_region, "6 位行政区划代码或完整名称", "浙江省嘉兴市嘉善县",
           aliases=("地区", "行政区划代码")),
    Column("description", "需求描述", True, _text, "至少 10 个字", "三元正极材料循环 500 次后容量保持率低于 80%，需要改性技术。",
           aliases=("需求内容", "需求简介")),
    Column("indicators", "技术指标", False, _text, "", "循环 1000 次容量保持率不低于 90%"),
    Column("conditions", "现有条件", False, _text, "", "有中试线一条"),
    Column("fields", "技术领域", False, V.parse_fields, f"{LIST_HELP}；可选：{'、'.join(FIELDS)}", "新能源",
           choices=FIELDS, aliases=("行业领域",)),
    Column("keywords", "关键词", False, _keywords, LIST_HELP, "正极材料、包覆"),
    Column("budget_min", "预算下限（万元）", False, _money, "万元，可填“面议”", "10", aliases=("预算下限",)),
    Column("budget_max", "预算上限（万元）", False, _money, "万元，可填“面议”", "50",
           aliases=("预算上限", "预算金额（万元）", "预算（万元）")),
    Column("coop_modes", "合作方式", False, V.parse_coop_modes, f"{LIST_HELP}；可选：{'、'.join(_labels(CoopMode))}",
           "技术开发、技术许可", choices=_labels(CoopMode)),
    Column("required_maturity", "所需成熟度", False, _required_maturity, "、".join(_labels(Maturity)), "中试",
           choices=_labels(Maturity)),
    Column("deadline", "截止日期", False, _date, "YYYY-MM-DD", "2026-12-31"),
    Column("contact_name", "联系人", False, _text, "", "王经理"),
    Column("contact_phone", "联系电话", False, _phone, "手机号或带区号的座机", "13800000000"),
)

ACHIEVEMENT_COLUMNS: tuple[Column, ...] = (
    Column("title", "成果名称", True, _text, "2–200 字", "高镍三元正极材料表面包覆改性技术", aliases=("标题",)),
    Column("org_name", "成果持有单位", True, _text, "已在平台登记的单位按名称或信用代码匹配；未登记的将新建（待审核）",
           "示例理工大学", aliases=("单位名称", "完成单位")),
    Column("org_credit_code", "统一社会信用代码", False, _credit, "18 位，可选", ""),
    Column("org_kind", "单位类型", False, _org_kind, "高校、科研院所或企业（新建单位时使用，默认高校）", "高校",
           choices=("高校", "科研院所", "企业")),
    Column("region", "所在地区", True, V.parse_region, "6 位行政区划代码或完整名称", "浙江省杭州市西湖区",
           aliases=("地区", "行政区划代码")),
    Column("abstract", "成果简介", True, _text, "至少 10 个字", "通过原子层沉积氧化铝包覆，使高镍正极循环 1000 次容量保持率达 90% 以上。",
           aliases=("简介", "成果摘要")),
    Column("body", "详细介绍", False, _text, "", ""),
    Column("fields", "技术领域", False, V.parse_fields, f"{LIST_HELP}；可选：{'、'.join(FIELDS)}", "新能源",
           choices=FIELDS),
    Column("keywords", "关键词", False, _keywords, LIST_HELP, "正极材料、原子层沉积"),
    Column("maturity", "成熟度", True, V.parse_maturity, "、".join(_labels(Maturity)), "中试",
           choices=_labels(Maturity), aliases=("成熟程度",)),
    Column("trl", "技术就绪度", False, _trl, "1–9，与成熟度相符", "6", aliases=("TRL", "技术就绪度(TRL)")),
    Column("patents", "知识产权", False, V.parse_patents,
           f"专利号（类型），{LIST_HELP}；类型：{'、'.join(_labels(PatentType))}", "ZL202310000001.X（发明专利）"),
    Column("transfer_modes", "转化方式", False, V.parse_transfer_modes,
           f"{LIST_HELP}；可选：{'、'.join(_labels(TransferMode))}", "许可、转让", choices=_labels(TransferMode)),
    Column("asking_price", "转让价格（万元）", False, _money, "万元，可填“面议”", "80", aliases=("参考价格（万元）", "价格（万元）")),
    Column("inventors", "完成人", False, V.split_list, LIST_HELP, "孙明、李华"),
    Column("contact_name", "联系人", False, _text, "", "孙老师"),
    Column("contact_phone", "联系电话", False, _phone, "手机号或带区号的座机", "0571-88888888"),
)


def _contract_columns() -> tuple[Column, ...]:

    def enum_parser(enum, label):
        def p(v):
            try:
                return enum.from_label(_text(v)).value
            except ValueError:
                raise ValueError(f"{label}无效，可选：{'、'.join(_labels(enum))}") from None
        return p

    def field_one(v):
        f = _text(v)
        if f not in FIELDS:
            raise ValueError(f"技术领域“{f}”不在可选范围内：{'、'.join(FIELDS)}")
        return f

    party = enum_parser(PartyType, "单位类型")
    return (
        Column("reg_number", "登记号", True, _text, "16 位：年度 + 登记机构行政区划代码 + 流水号", "2026330400000123"),
        Column("project_name", "项目名称", True, _text, "", "高镍正极材料包覆技术许可"),
        Column("contract_type", "合同类型", True, enum_parser(ContractType, "合同类型"), "、".join(_labels(ContractType)),
               "技术许可", choices=_labels(ContractType)),
        Column("sub_type", "合同子类", False, enum_parser(ContractSubType, "合同子类"),
               "技术开发、技术转让合同必填：" + "、".join(_labels(ContractSubType)), "",
               choices=_labels(ContractSubType)),
        Column("conversion_mode", "转化方式", False, enum_parser(ConversionMode, "转化方式"),
               "作价投资时填写；转让/许可合同默认按合同类型计", "", choices=_labels(ConversionMode)),
        Column("signed_on", "签订日期", True, _date, "YYYY-MM-DD", "2026-03-01"),
        Column("registered_on", "登记日期", True, _date, "YYYY-MM-DD，年度与登记号一致", "2026-03-10"),
        Column("valid_from", "有效期起", False, _date, "YYYY-MM-DD", ""),
        Column("valid_to", "有效期止", False, _date, "YYYY-MM-DD", ""),
        Column("seller_name", "卖方名称", True, _text, "平台已登记单位按信用代码或名称自动关联", "示例理工大学"),
        Column("seller_credit_code", "卖方统一社会信用代码", False, _credit, "可选", ""),
        Column("seller_region", "卖方所在地区", True, V.parse_region, "6 位代码或完整名称", "浙江省杭州市西湖区"),
        Column("seller_type", "卖方单位类型", True, party, "、".join(_labels(PartyType)), "高等院校",
               choices=_labels(PartyType)),
        Column("buyer_name", "买方名称", True, _text, "", "嘉善示例电池有限公司"),
        Column("buyer_credit_code", "买方统一社会信用代码", False, _credit, "可选", ""),
        Column("buyer_region", "买方所在地区", True, V.parse_region, "6 位代码或完整名称", "浙江省嘉兴市嘉善县"),
        Column("buyer_type", "买方单位类型", True, party, "、".join(_labels(PartyType)), "企业",
               choices=_labels(PartyType)),
        Column("total_amount", "合同成交额（万元）", True, _money, "万元，精确到分", "120"),
        Column("tech_amount", "技术交易额（万元）", True, _money, "万元，不大于合同成交额", "100"),
        Column("field", "技术领域", False, field_one, "、".join(FIELDS), "新能源", choices=FIELDS),
        Column("ip_type", "知识产权类型", False, enum_parser(PatentType, "知识产权类型"), "、".join(_labels(PatentType)),
               "发明专利", choices=_labels(PatentType)),
        Column("note", "备注", False, _text, "", ""),
    )


def columns(kind: str) -> tuple[Column, ...]:
    if kind == "problem":
        return PROBLEM_COLUMNS
    if kind == "achievement":
        return ACHIEVEMENT_COLUMNS
    if kind == "contract":
        return _contract_columns()
    raise ValidationFailed(f"未知的导入类型：{kind}（可选：problem、achievement、contract）", field="kind")


# ----------------------------------------------------------------------------- report

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
        label = KIND_LABELS.get(self.kind, self.kind)
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

def _norm_header(h) -> str:
    t = unicodedata.normalize("NFKC", str(h or "")).strip()
    t = t.replace("*", "").replace("（必填）", "").replace("(必填)", "")
    return "".join(t.split()).lower()


def _read_rows(data: bytes, filename: str) -> list[tuple[int, list]]:
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


def _map_headers(header: list, cols: tuple[Column, ...], report: ImportReport, header_row: int) -> dict[str, int]:
    by_name: dict[str, Column] = {}
    for c in cols:
        for n in (c.header, *c.aliases):
            by_name[_norm_header(n)] = c
    index: dict[str, int] = {}
    for i, h in enumerate(header):
        if V.is_blank(h):
            continue
        col = by_name.get(_norm_header(h))
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


# ----------------------------------------------------------------------------- import

def can_import(user) -> bool:
    """Bulk imports are the bureau's (and admin's) work."""
    return perm.is_staff(user)


@dataclass
class _Row:
    number: int
    values: dict
    data: Any = None  # the validated schema object
    org: Organization | None = None
    new_org: dict | None = None


def import_file(session: Session, actor, data: bytes, filename: str, kind: str, *,
                partial: bool = False, dry_run: bool = False) -> ImportReport:
    """Validate and import a spreadsheet; see the module docstring. Raises ValidationFailed
    only for an unreadable file; row problems are in the report."""
    cols = columns(kind)
    if actor is not None:
        perm.require(can_import(actor), "只有科技局可以批量导入")
    report = ImportReport(kind=kind, filename=Path(filename or "").name, dry_run=dry_run, partial=partial)
    if not data:
        raise ValidationFailed("文件为空", field="file", code="empty_file")
    rows = _read_rows(data, filename)
    if not rows:
        report.status = "empty"
        return report
    header_row, header = rows[0]
    index = _map_headers(header, cols, report, header_row)
    body = rows[1:]
    report.total_rows = len(body)
    if report.errors:
        report.status = "rejected"
        return report
    if not body:
        report.status = "empty"
        return report

    by_key = {c.key: c for c in cols}
    parsed: list[_Row] = []
    for number, cells in body:
        values, ok = {}, True
        for key, i in index.items():
            col = by_key[key]
            cell = cells[i] if i < len(cells) else None
            if V.is_blank(cell):
                if col.required:
                    report.add_error(number, col.header, "必填项不能为空", key)
                    ok = False
                continue
            try:
                values[key] = col.parse(cell) if col.parse else cell
            except ValueError as e:
                report.add_error(number, col.header, str(e), key)
                ok = False
        if ok:
            row = _Row(number, values)
            if _validate_row(session, kind, row, by_key, report):
                parsed.append(row)
    report.valid_rows = len(parsed)
    to_write = _drop_duplicates(session, kind, parsed, report)

    if dry_run:
        report.status = "dry_run"
        return report
    if report.errors and not partial:
        report.status = "rejected"
        return report
    if _write(session, actor, kind, to_write, report):
        report.status = "partial" if report.errors else "imported"
    else:
        report.status = "rejected"
    audit.record(session, actor, "import.file", kind, None,
                 {"file": report.filename, "rows": report.total_rows, "imported": report.imported,
                  "errors": report.error_rows, "duplicates": len(report.duplicates),
                  "ids": report.created_ids[:1000]})
    return report


# Cross-field rules have no field in pydantic's errors: the column they are about.
_RULE_COLUMNS = (("TRL", "trl"), ("预算", "budget_min"), ("技术交易额", "tech_amount"),
                 ("合同成交额", "total_amount"), ("登记号", "reg_number"), ("登记日期", "registered_on"),
                 ("子类", "sub_type"), ("转化方式", "conversion_mode"), ("有效期", "valid_to"),
                 ("当事人", "seller_name"))


def _schema_errors(exc: ValidationError, row: int, by_key: dict, report: ImportReport, prefix_map=None) -> None:
    for d in pydantic_error_details(exc.errors()):
        fld = (d.get("field") or "").split(".")[0]
        if not fld:
            fld = next((k for word, k in _RULE_COLUMNS if word in d["message"] and k in by_key), "")
        if prefix_map and fld in prefix_map:
            fld = prefix_map[fld]
        col = by_key.get(fld)
        report.add_error(row, col.header if col else (d.get("label") or ""), d["message"], fld or None)


def _validate_row(session: Session, kind: str, row: _Row, by_key: dict, report: ImportReport) -> bool:
    v = row.values
    if kind in ("problem", "achievement"):

        schema = ProblemIn if kind == "problem" else AchievementIn
        fields = {k: x for k, x in v.items() if k not in ("org_name", "org_credit_code", "org_kind")}
        try:
            row.data = schema(**fields)
        except ValidationError as e:
            _schema_errors(e, row.number, by_key, report)
            return False
        org_kind = v.get("org_kind") or ("enterprise" if kind == "problem" else "university")
        org = owners.resolve(session, name=v.get("org_name"), credit_code=v.get("org_credit_code"),
                             kind=org_kind, region=row.data.region, create=False)
        if org is None:
            row.new_org = {"name": v["org_name"], "credit_code": v.get("org_credit_code"), "kind": org_kind,
                           "region": row.data.region}
            how = "" if v.get("org_credit_code") else "，使用临时信用代码"
            report.warnings.append({"row": row.number, "column": by_key["org_name"].header,
                                    "message": f"单位“{v['org_name']}”未在平台登记，将新建（待审核{how}）"})
        else:
            row.org = org
            if v.get("org_credit_code") and owners.normalize_name(org.name) != owners.normalize_name(v["org_name"]):
                report.warnings.append({"row": row.number, "column": by_key["org_credit_code"].header,
                                        "message": f"该信用代码已登记为“{org.name}”，按信用代码归属"})
        return True

    # contracts
    payload = {k: x for k, x in v.items() if not k.startswith(("seller_", "buyer_"))}
    for side in ("seller", "buyer"):
        org = owners.resolve(session, name=v.get(f"{side}_name"), credit_code=v.get(f"{side}_credit_code"),
                             kind="enterprise", region=v.get(f"{side}_region") or "110000", create=False)
        payload[side] = PartyIn(org_id=org.id if org else None, name=v.get(f"{side}_name"),
                                region=v.get(f"{side}_region"), party_type=v.get(f"{side}_type"))
    try:
        row.data = ContractIn(**payload)
    except ValidationError as e:
        _schema_errors(e, row.number, by_key, report,
                       prefix_map={"seller": "seller_name", "buyer": "buyer_name"})
        return False
    return True


def _drop_duplicates(session: Session, kind: str, rows: list[_Row], report: ImportReport) -> list[_Row]:
    keep: list[_Row] = []
    if kind == "contract":

        numbers = [r.data.reg_number for r in rows]
        existing = dict(session.execute(select(Contract.reg_number, Contract.id)
                                        .where(Contract.reg_number.in_(numbers))).all()) if numbers else {}
        seen: dict[str, int] = {}
        for r in rows:
            n = r.data.reg_number
            if n in existing:
                report.duplicates.append({"row": r.number, "title": r.data.project_name, "existing_id": existing[n],
                                          "message": f"登记号 {n} 已登记（合同 #{existing[n]}）"})
            elif n in seen:
                report.duplicates.append({"row": r.number, "title": r.data.project_name, "existing_id": None,
                                          "message": f"与第 {seen[n]} 行登记号相同"})
            else:
                seen[n] = r.number
                keep.append(r)
        return keep

    model = LISTING_MODELS[kind]
    existing: dict[tuple[str, str], int] = {}
    stmt = select(model.id, model.title, Organization.name).join(Organization, Organization.id == model.org_id)
    for lid, title, org_name in session.execute(stmt):
        existing.setdefault((dedup.title_key(title), owners.normalize_name(org_name)), lid)
    seen_rows: dict[tuple[str, str], int] = {}
    for r in rows:
        owner_name = r.org.name if r.org is not None else r.new_org["name"]
        key = (dedup.title_key(r.data.title), owners.normalize_name(owner_name))
        if key in existing:
            report.duplicates.append({"row": r.number, "title": r.data.title, "existing_id": existing[key],
                                      "message": f"与已有{KIND_LABELS[kind]} #{existing[key]} 重复（同一单位、同名）"})
        elif key in seen_rows:
            report.duplicates.append({"row": r.number, "title": r.data.title, "existing_id": None,
                                      "message": f"与第 {seen_rows[key]} 行重复"})
        else:
            seen_rows[key] = r.number
            keep.append(r)
    return keep


def _write(session: Session, actor, kind: str, rows: list[_Row], report: ImportReport) -> bool:
    """Each row in a savepoint: with ``partial`` a row that fails on write is reported and
    the others stay; without it the first failure undoes every row of the file and the
    result is False (the file is rejected)."""
    def write_one(r: _Row) -> int:
        if kind == "contract":
            return contracts.register(session, actor, r.data, source="imported").id
        org = r.org
        if org is None:
            org = owners.resolve(session, name=r.new_org["name"], credit_code=r.new_org["credit_code"],
                                 kind=r.new_org["kind"], region=r.new_org["region"], reason="import")
        return listings.create(session, None, kind, r.data, org_id=org.id, source="imported",
                               status="pending_review").id

    if report.partial:
        for r in rows:
            try:
                with session.begin_nested():
                    report.created_ids.append(write_one(r))
            except DomainError as e:
                report.add_error(r.number, "", e.message, e.field)
        report.imported = len(report.created_ids)
        return True
    created: list[int] = []
    try:
        with session.begin_nested():
            for r in rows:
                created.append(write_one(r))
    except DomainError as e:
        report.add_error(r.number, "", e.message, e.field)
        report.created_ids, report.imported = [], 0
        return False
    report.created_ids, report.imported = created, len(created)
    return True


# ----------------------------------------------------------------------------- template

def template(kind: str, fmt: str = "xlsx") -> tuple[bytes, str, str]:
    """(bytes, filename, media type) of the import template for ``kind``."""
    cols = columns(kind)
    label = KIND_LABELS[kind]
    if fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf).writerow([c.template_header for c in cols])
        return buf.getvalue().encode("utf-8-sig"), f"{label}导入模板.csv", "text/csv; charset=utf-8"
    if fmt != "xlsx":
        raise ValidationFailed("模板格式只能是 xlsx 或 csv", field="format")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = f"{label}"
    bold = Font(bold=True)
    red = Font(bold=True, color="C00000")
    fill = PatternFill("solid", fgColor="FFF2CC")
    for i, c in enumerate(cols, start=1):
        cell = ws.cell(row=1, column=i, value=c.template_header)
        cell.font = red if c.required else bold
        cell.fill = fill
        cell.alignment = Alignment(horizontal="center", vertical="center")
        if c.help:
            cell.comment = Comment(c.help, "techmatch")
        ws.column_dimensions[get_column_letter(i)].width = max(12, min(40, len(c.template_header) * 2 + 4))
        if c.choices and c.parse not in (V.parse_fields, V.parse_coop_modes, V.parse_transfer_modes):
            formula = '"' + ",".join(c.choices) + '"'
            if len(formula) <= 255:
                dv = DataValidation(type="list", formula1=formula, allow_blank=True)
                dv.error = f"请从列表中选择{c.header}"
                ws.add_data_validation(dv)
                dv.add(f"{get_column_letter(i)}2:{get_column_letter(i)}{MAX_ROWS + 1}")
    ws.freeze_panes = "A2"
    guide = wb.create_sheet("填写说明")
    guide.append(["列名", "是否必填", "说明", "示例"])
    for cell in guide[1]:
        cell.font = bold
    for c in cols:
        guide.append([c.header, "必填" if c.required else "选填", c.help, c.example])
    guide.append([])
    guide.append(["说明", "", "第一个工作表第一行为列名，请勿修改；从第二行起每行一条记录。带 * 的列必填。"
                  "默认全部校验通过才导入；与平台已有记录重复的行不会导入，并在报告中列出。", ""])
    for col, width in zip("ABCD", (22, 10, 70, 40)):
        guide.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return (buf.getvalue(), f"{label}导入模板.xlsx",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
