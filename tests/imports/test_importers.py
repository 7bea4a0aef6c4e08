"""Spreadsheet imports: good files, bad files (row errors, nothing written), duplicates,
contracts, the template, the API and the CLI."""
from __future__ import annotations

import io
from decimal import Decimal

import openpyxl
import pytest
from sqlalchemy import func, select

ACH_HEADERS = ["成果名称*", "成果持有单位*", "统一社会信用代码", "单位类型", "所在地区*", "成果简介*", "技术领域",
               "关键词", "成熟度*", "技术就绪度", "知识产权", "转化方式", "转让价格（万元）", "完成人", "联系人", "联系电话"]

ACH_ROWS = [
    ["高镍三元正极材料表面包覆改性技术", "示例理工大学", None, "高校", "浙江省杭州市西湖区",
     "通过原子层沉积氧化铝包覆，使高镍正极循环 1000 次容量保持率达 90% 以上。", "新能源", "正极材料、包覆",
     "中试", 6, "ZL202310000001.X（发明专利）；ZL202220000002.3（实用新型）", "许可、转让", 80.5, "孙明、李华",
     "孙老师", "0571-88888888"],
    ["秸秆生物质颗粒燃料成型技术", "示例农业科学研究院", "12330000MB0000001U", "科研院所", "330421",
     "以玉米、小麦秸秆为原料，经粉碎、调质、环模挤压成型制成高密度颗粒燃料。", "现代农业", None,
     "产业化", None, None, "转让", "面议", None, None, 13800000000],
]


def _xlsx(headers, rows) -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(headers)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _credit(seed: int, region="330000", cat="12") -> str:
    from core.validation import uscc_check_char

    body = f"{cat}{region}{seed:09d}"
    return body + uscc_check_char(body)


@pytest.fixture
def rows():
    r = [list(x) for x in ACH_ROWS]
    r[1][2] = _credit(1)
    return r


def _count(db, model):
    db.expire_all()
    return db.scalar(select(func.count()).select_from(model))


def test_import_good_xlsx(db, factory, rows, enqueued):
    from core.accounts.owners import is_placeholder_code
    from core.imports.service import import_file
    from core.models import Achievement, Organization

    univ = factory.org(kind="university", name="示例理工大学", region="330106")
    report = import_file(db, None, _xlsx(ACH_HEADERS, rows), "成果.xlsx", "achievement")
    db.commit()
    assert report.status == "imported" and report.ok
    assert (report.total_rows, report.valid_rows, report.imported) == (2, 2, 2)
    assert report.errors == [] and report.duplicates == []
    assert [w["row"] for w in report.warnings] == [3]  # the institute is new (created unapproved)
    a, b = (db.get(Achievement, i) for i in report.created_ids)
    assert a.org_id == univ.id and (a.status, a.source) == ("pending_review", "imported")
    assert a.asking_price == Decimal("805000.00")  # 80.5 万元, exact
    assert a.patents == [{"number": "ZL202310000001.X", "type": "invention"},
                         {"number": "ZL202220000002.3", "type": "utility_model"}]
    assert (a.maturity, a.trl, a.transfer_modes, a.inventors, a.region) == (
        "pilot", 6, ["license", "transfer"], ["孙明", "李华"], "330106")
    assert b.asking_price is None and b.contact_phone == "13800000000"
    inst = db.get(Organization, b.org_id)
    assert (inst.name, inst.kind, inst.approved, inst.credit_code) == ("示例农业科学研究院", "institute", False,
                                                                        rows[1][2])
    assert not is_placeholder_code(inst.credit_code)
    # imported listings enter the pipeline like any other
    assert {("achievement", i) for i in report.created_ids} <= {args for n, args in enqueued
                                                                if n == "techmatch.index_listing"}


def test_import_bad_xlsx_writes_nothing(db, factory, rows, enqueued):
    from core.imports.service import import_file
    from core.models import Achievement, Organization

    bad = [list(r) for r in rows]
    bad[0][8] = "试验阶段"  # maturity
    bad[1][0] = None  # title missing
    bad[1][15] = "12345"  # phone
    good_extra = list(rows[0])
    good_extra[0] = "另一项成果：高效电机控制算法"
    good_extra[9] = 9  # TRL 9 with 中试: inconsistent
    orgs_before = _count(db, Organization)
    report = import_file(db, None, _xlsx(ACH_HEADERS, bad + [good_extra]), "bad.xlsx", "achievement")
    db.commit()
    assert report.status == "rejected" and not report.ok and report.imported == 0
    assert [(e["row"], e["column"]) for e in report.errors] == [
        (2, "成熟度"), (3, "成果名称"), (3, "联系电话"), (4, "技术就绪度")]
    assert report.errors[0]["message"] == "成熟度“试验阶段”无效，可选：实验室、小试、中试、产业化"
    assert report.errors[1]["message"] == "必填项不能为空"
    assert "联系电话格式不正确" in report.errors[2]["message"]
    assert "TRL 9" in report.errors[3]["message"]
    assert _count(db, Achievement) == 0 and _count(db, Organization) == orgs_before
    assert not [c for c in enqueued if c[0] == "techmatch.index_listing"]

    # the same file with partial=True imports nothing bad and reports the same rows
    mixed = bad + [rows[1]]
    rep2 = import_file(db, None, _xlsx(ACH_HEADERS, mixed), "bad.xlsx", "achievement", partial=True)
    db.commit()
    assert rep2.status == "partial" and rep2.imported == 1 and rep2.error_rows == 2
    assert _count(db, Achievement) == 1


def test_dry_run_and_duplicates(db, factory, rows, enqueued):
    from core.imports.service import import_file
    from core.models import Achievement

    factory.org(kind="university", name="示例理工大学", region="330106")
    data = _xlsx(ACH_HEADERS, rows + [rows[0]])  # row 4 repeats row 2
    dry = import_file(db, None, data, "x.xlsx", "achievement", dry_run=True)
    db.commit()
    assert dry.status == "dry_run" and dry.imported == 0 and _count(db, Achievement) == 0
    assert [(d["row"], d["message"]) for d in dry.duplicates] == [(4, "与第 2 行重复")]

    first = import_file(db, None, data, "x.xlsx", "achievement")
    db.commit()
    assert first.imported == 2 and len(first.duplicates) == 1
    again = import_file(db, None, data, "x.xlsx", "achievement")
    db.commit()
    assert again.status == "imported" and again.imported == 0
    assert sorted((d["row"], d["existing_id"]) for d in again.duplicates) == [
        (2, first.created_ids[0]), (3, first.created_ids[1]), (4, first.created_ids[0])]
    assert _count(db, Achievement) == 2


def test_problem_csv_gbk_with_aliases(db, factory, enqueued):
    from core.imports.service import import_file
    from core.models import TechProblem

    ent = factory.org(kind="enterprise", name="嘉善示例食品有限公司")
    text = ("标题,企业名称,地区,需求内容,行业领域,预算下限,预算上限,合作方式,截止日期,联系电话\n"
            "速冻水饺破皮率高,嘉善示例食品有限公司,浙江省嘉兴市嘉善县,速冻水饺解冻蒸煮后破皮率达到 8%，需要改进面皮配方。,"
            "食品加工,10,50.25,技术开发、技术咨询,2026/12/31,0573-84000000\n"
            "预算颠倒的需求,嘉善示例食品有限公司,330421,这是一条预算下限高于上限的需求描述。,食品加工,60,50,,,\n")
    report = import_file(db, None, text.encode("gbk"), "需求.csv", "problem", partial=True)
    db.commit()
    assert report.imported == 1
    assert [(e["row"], e["message"]) for e in report.errors] == [(3, "预算下限不能高于预算上限")]
    p = db.scalar(select(TechProblem))
    assert (p.org_id, p.budget_min, p.budget_max, p.coop_modes, p.deadline.isoformat(), p.region) == (
        ent.id, Decimal("100000.00"), Decimal("502500.00"), ["development", "consulting"], "2026-12-31", "330421")


def test_header_errors_and_unreadable(db, enqueued):
    from core.errors import ValidationFailed
    from core.imports.service import import_file

    report = import_file(db, None, _xlsx(["成果名称", "备注栏"], [["x", "y"]]), "x.xlsx", "achievement")
    assert report.status == "rejected"
    assert {e["column"] for e in report.errors} == {"成果持有单位", "所在地区", "成果简介", "成熟度"}
    assert all(e["row"] == 1 for e in report.errors)
    assert report.warnings[0]["message"] == "无法识别的列“备注栏”，已忽略"
    with pytest.raises(ValidationFailed, match="仅支持 .xlsx 和 .csv"):
        import_file(db, None, b"hello", "x.pdf", "achievement")
    with pytest.raises(ValidationFailed, match="无法读取 Excel"):
        import_file(db, None, b"PK\x03\x04broken", "x.xlsx", "achievement")


def test_template_roundtrip(db, factory, enqueued):
    from core.imports.service import columns, import_file, template

    for kind in ("problem", "achievement", "contract"):
        data, name, media = template(kind)
        wb = openpyxl.load_workbook(io.BytesIO(data))
        headers = [c.value for c in wb.worksheets[0][1]]
        assert headers == [c.template_header for c in columns(kind)]
        assert wb.sheetnames[1] == "填写说明" and name.endswith("导入模板.xlsx")
        # the empty template imports as "no data"
        assert import_file(db, None, data, name, kind).status == "empty"
        csv_data, csv_name, _ = template(kind, "csv")
        assert csv_data.startswith(b"\xef\xbb\xbf") and csv_name.endswith(".csv")
    # the template filled in: example values of the guide sheet import cleanly
    factory.org(kind="university", name="示例理工大学", region="330106")
    data, _, _ = template("achievement")
    wb = openpyxl.load_workbook(io.BytesIO(data))
    examples = [row[3] for row in wb["填写说明"].iter_rows(min_row=2, values_only=True)][:len(columns("achievement"))]
    wb.worksheets[0].append([e or None for e in examples])
    buf = io.BytesIO()
    wb.save(buf)
    report = import_file(db, None, buf.getvalue(), "filled.xlsx", "achievement")
    assert report.status == "imported" and report.imported == 1, report.errors


CONTRACT_HEADERS = ["登记号*", "项目名称*", "合同类型*", "合同子类", "签订日期*", "登记日期*", "卖方名称*",
                    "卖方统一社会信用代码", "卖方所在地区*", "卖方单位类型*", "买方名称*", "买方所在地区*",
                    "买方单位类型*", "合同成交额（万元）*", "技术交易额（万元）*", "技术领域"]


def test_import_contracts(db, factory, enqueued):
    from core.imports.service import import_file
    from core.models.contracts import Contract

    seller = factory.org(kind="university", name="示例理工大学", region="330106")
    good = ["2026330400000123", "高镍正极材料包覆技术许可", "技术许可", None, "2026-03-01", "2026-03-10",
            "示例理工大学", seller.credit_code, "330106", "高等院校", "外省某电池公司", "320500", "企业",
            120, 100.5, "新能源"]
    bad = ["2026330400000124", "技术交易额超过成交额", "技术开发", "委托开发", "2026-03-01", "2026-03-10",
           "示例理工大学", None, "330106", "高等院校", "外省某电池公司", "320500", "企业", 50, 60, "新能源"]
    report = import_file(db, None, _xlsx(CONTRACT_HEADERS, [good, bad]), "合同.xlsx", "contract")
    db.commit()
    assert report.status == "rejected" and _count(db, Contract) == 0
    assert [(e["row"], e["message"]) for e in report.errors] == [
        (3, "技术交易额不能大于合同成交额（技术交易额不含设备、材料等非技术性费用）")]
    report = import_file(db, None, _xlsx(CONTRACT_HEADERS, [good]), "合同.xlsx", "contract")
    db.commit()
    assert report.imported == 1 and _count(db, Contract) == 1
    c = db.get(Contract, report.created_ids[0])
    assert (c.seller_org_id, c.buyer_org_id, c.total_amount, c.tech_amount, c.source) == (
        seller.id, None, Decimal("1200000.00"), Decimal("1005000.00"), "imported")
    again = import_file(db, None, _xlsx(CONTRACT_HEADERS, [good]), "合同.xlsx", "contract")
    assert again.imported == 0 and again.duplicates[0]["message"] == f"登记号 2026330400000123 已登记（合同 #{c.id}）"


def test_write_failure_rejects_whole_file(db, factory, enqueued, monkeypatch):
    """All-or-nothing: a row refused at write time (after validation passed) undoes the rows
    already written and the file is reported as rejected, not imported."""
    from core.contracts import service as contracts
    from core.errors import Conflict
    from core.imports.service import import_file
    from core.models.contracts import Contract

    seller = factory.org(kind="university", name="示例理工大学", region="330106")
    first = ["2026330400000131", "高镍正极材料包覆技术许可", "技术许可", None, "2026-03-01", "2026-03-10",
             "示例理工大学", seller.credit_code, "330106", "高等院校", "外省某电池公司", "320500", "企业",
             120, 100.5, "新能源"]
    second = list(first)
    second[0], second[1] = "2026330400000132", "磷酸铁锂回收技术转让"
    real_register = contracts.register

    def register(session, actor, data, **kw):
        if data.reg_number.endswith("132"):
            raise Conflict("登记号已被占用", field="reg_number")
        return real_register(session, actor, data, **kw)

    monkeypatch.setattr(contracts, "register", register)
    report = import_file(db, None, _xlsx(CONTRACT_HEADERS, [first, second]), "合同.xlsx", "contract")
    db.commit()
    assert report.status == "rejected" and not report.ok
    assert (report.imported, report.created_ids) == (0, [])
    assert [(e["row"], e["message"]) for e in report.errors] == [(3, "登记号已被占用")]
    assert _count(db, Contract) == 0


def test_import_api(client, factory, login, rows, enqueued):
    bureau = factory.user("bureau")
    enterprise = factory.user("enterprise")
    factory.org(kind="university", name="示例理工大学", region="330106")
    files = {"file": ("成果.xlsx", _xlsx(ACH_HEADERS, rows),
                      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")}
    r = client.post("/api/imports/achievement", files=files, headers=login(enterprise))
    assert r.status_code == 403
    r = client.post("/api/imports/achievement", files=files, data={"dry_run": "true"}, headers=login(bureau))
    assert r.status_code == 200 and r.json()["status"] == "dry_run" and r.json()["valid_rows"] == 2
    r = client.post("/api/imports/achievement", files=files, headers=login(bureau))
    body = r.json()
    assert r.status_code == 200 and body["status"] == "imported" and body["imported"] == 2, body
    assert body["message"] == "已导入科技成果 2 条"
    r = client.get("/api/achievements?status=pending_review&source=imported", headers=login(bureau))
    assert r.json()["total"] == 2
    r = client.get("/api/imports/problem/template", headers=login(bureau))
    assert r.status_code == 200 and r.content.startswith(b"PK")
    assert "attachment" in r.headers["content-disposition"]
    r = client.get("/api/imports/nonsense/template", headers=login(bureau))
    assert r.status_code == 422


def test_import_cli(settings, tmp_path, enqueued):
    from typer.testing import CliRunner

    from core.accounts import service as accounts
    from core.accounts.schemas import OrganizationIn
    from core.cli import _load_plugins, app
    from core.db import session_scope
    from core.models import Organization

    with session_scope() as s:
        accounts.create_org(s, None, OrganizationIn(kind="university", name="示例理工大学", region="330106",
                                                    credit_code=_credit(77, "330106")))
    _load_plugins()
    runner = CliRunner()
    path = tmp_path / "成果.xlsx"
    path.write_bytes(_xlsx(ACH_HEADERS, [ACH_ROWS[0]]))
    r = runner.invoke(app, ["import", str(path), "--kind", "achievement", "--dry-run"])
    assert r.exit_code == 0, r.output
    assert "校验完成（未写入）" in r.output
    r = runner.invoke(app, ["import", str(path), "--kind", "achievement"])
    assert r.exit_code == 0 and "已导入科技成果 1 条" in r.output, r.output
    tpl = tmp_path / "t.xlsx"
    r = runner.invoke(app, ["import-template", "--kind", "problem", "-o", str(tpl)])
    assert r.exit_code == 0 and tpl.read_bytes().startswith(b"PK")
    bad = tmp_path / "bad.csv"
    bad.write_text("成果名称,成果持有单位,所在地区,成果简介,成熟度\n短,示例理工大学,330106,太短,中试\n", encoding="utf-8")
    r = runner.invoke(app, ["import", str(bad), "--kind", "achievement"])
    assert r.exit_code == 1 and "导入未执行" in r.output
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Organization)) == 1
