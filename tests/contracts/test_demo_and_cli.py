"""Demo contracts (deterministic, idempotent) and the CLI commands."""
from __future__ import annotations

from datetime import date

from rich.console import Console
from sqlalchemy import func, select

from core.models.contracts import Contract
from core.models.events import Event
from core.models.targets import IndicatorTarget


def test_demo_contracts_load_is_idempotent(settings, db, factory):
    from core.db import session_scope
    from core.demo import contracts as demo
    from core.demo import loader
    from core.models import Match

    with session_scope() as s:
        loader.load_orgs_and_users(s)
    # One proposed match: the demo accepts it as the demo broker and registers its contract.
    p = factory.problem(factory.user("enterprise"))
    a = factory.achievement(factory.user("university"))
    db.add(Match(problem_id=p.id, achievement_id=a.id, score=0.8, status="proposed"))
    db.commit()
    console = Console(quiet=True)
    first = demo.load(console, index=False)
    assert first["contracts"] > 200 and first["contract_targets"] > 10 and first["events"] > 10
    m = db.scalar(select(Match))
    db.refresh(m)
    assert m.status == "contracted"
    assert db.scalar(select(Contract).where(Contract.match_id == m.id)).contract_type == "license"
    numbers = set(db.scalars(select(Contract.reg_number)))
    again = demo.load(console, index=False)
    assert again == {"contracts": 0, "contract_targets": 0, "events": 0}
    assert set(db.scalars(select(Contract.reg_number))) == numbers
    years = {d.year for d in db.scalars(select(Contract.registered_on))}
    assert years == {2025, 2026}
    assert db.scalar(select(func.max(Contract.registered_on))) <= date(2026, 11, 27)
    assert db.scalar(select(func.count()).select_from(IndicatorTarget)) == first["contract_targets"]
    assert db.scalar(select(func.count()).select_from(Event)) == first["events"]
    # Deterministic: the plan does not depend on the run.
    from core.demo.contracts import _org_ids, _plan
    assert [r["reg_number"] for r in _plan(_org_ids(db))] == [r["reg_number"] for r in _plan(_org_ids(db))]


def test_cli_export_and_indicators(settings, db, tmp_path):
    from typer.testing import CliRunner

    from core import cli
    from core.contracts import service as contracts
    from tests.contract_helpers import contract_data

    contracts.register(db, None, contract_data(registered_on=date(2026, 4, 1)))
    db.commit()
    cli._load_plugins()
    runner = CliRunner()
    r = runner.invoke(cli.app, ["export", "contracts", "--year", "2026", "--format", "csv", "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    [f] = list(tmp_path.glob("*.csv"))
    text = f.read_text(encoding="utf-8-sig")
    assert "登记号" in text and "100.00" in text and "1000000.00" in text
    r = runner.invoke(cli.app, ["indicators", "--year", "2026", "--region", "330100"])
    assert r.exit_code == 0 and "100.00" in r.output, r.output
    r = runner.invoke(cli.app, ["export", "indicators", "--year", "2026", "--region", "999999"])
    assert r.exit_code == 1 and "不存在" in r.output


def test_cli_acts_for_an_account_and_its_jurisdiction(settings, db, factory, tmp_path):
    """`--as EMAIL`: the CLI applies the same jurisdiction as the API and the pages."""
    from typer.testing import CliRunner

    from core import cli
    from core.contracts import service as contracts
    from tests.contract_helpers import contract_data

    hn = factory.user("bureau", org=factory.org("bureau", region="330481", name="海宁市科学技术局"))
    contracts.register(db, None, contract_data(seller={"name": "海宁甲公司", "region": "330481",
                                                       "party_type": "enterprise"}))
    contracts.register(db, None, contract_data())  # 杭州 seller, 平湖 buyer: outside 海宁
    db.commit()
    runner = CliRunner()
    r = runner.invoke(cli.app, ["export", "contracts", "--format", "csv", "--out", str(tmp_path / "all.csv")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli.app, ["export", "contracts", "--format", "csv", "--as", hn.email,
                                "--out", str(tmp_path / "hn.csv")])
    assert r.exit_code == 0, r.output
    rows = lambda p: len((tmp_path / p).read_text(encoding="utf-8-sig").strip().splitlines())  # noqa: E731
    assert rows("all.csv") == 2 + 2 and rows("hn.csv") == 1 + 2  # header + contracts + 合计
    r = runner.invoke(cli.app, ["indicators", "--year", "2026", "--as", hn.email])
    assert r.exit_code == 0 and "海宁" in r.output, r.output
    r = runner.invoke(cli.app, ["indicators", "--year", "2026", "--region", "330100", "--as", hn.email])
    assert r.exit_code == 1 and "管辖范围" in r.output, r.output
