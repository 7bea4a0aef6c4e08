"""The demo profiles land on every rung of the ladder for the 嘉兴 bureau, and load idempotently."""
from __future__ import annotations

from datetime import date

from rich.console import Console
from sqlalchemy import select


def test_demo_profiles_cover_every_rung(settings, db):
    from core.db import session_scope
    from core.demo import loader
    from core.demo import qualification as demo
    from core.models import User
    from core.qualification import service as Q

    with session_scope() as s:
        loader.load_orgs_and_users(s)
    console = Console(quiet=True)
    first = demo.load(console)
    assert first["profiles"] == 8
    assert demo.load(console) == {"profiles": 0}
    bureau = db.scalar(select(User).where(User.email == "bureau@demo.techmatch.cn"))
    out = Q.pool(db, bureau, 2026, today=date(2026, 12, 1))
    counts = {k: n for k, _, n in out["counts"]}
    assert set(counts) == {k for k, _ in Q.RUNGS} and all(counts.values()), counts
    by_name = {r.org.name: r.rung for r in out["rows"]}
    assert by_name["平湖锂想电池材料有限公司"] == "sme_registered"
    assert any("嘉善明晟新能源科技有限公司" in m for m in out["reminders"])  # certificate of 2023
    ent = db.scalar(select(User).where(User.email == "enterprise@demo.techmatch.cn"))
    check = Q.self_check(db, ent, ent.org_id)
    assert {"rd", "ip"} <= set(check.needs)
