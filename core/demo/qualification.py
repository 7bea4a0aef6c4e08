"""Demo profiles for 梯度培育 (``data/profiles.jsonl``): enterprises of 嘉兴 on every rung of the
ladder — not yet assessed, 科小 candidate, 科小 入库, 高企 candidate, 参评, 认定 — and the demo
enterprise account (平湖锂想) with gaps that become draft needs."""
from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from sqlalchemy import select

from core.db import session_scope
from core.models import EnterpriseProfile, Organization
from core.qualification import service as Q
from core.qualification.schemas import StoredProfileIn, parse_profile

DATA = Path(__file__).with_name("data") / "profiles.jsonl"


def load(console: Console | None = None, index: bool = True) -> dict:
    console = console or Console()
    created = 0
    with session_scope() as session:
        for line in DATA.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            name = row.pop("org")
            org = session.scalars(select(Organization).where(Organization.name == name)).first()
            if org is None:
                raise RuntimeError(f"demo profile for unknown organization {name}")
            exists = session.scalars(select(EnterpriseProfile.id).where(
                EnterpriseProfile.org_id == org.id,
                EnterpriseProfile.evaluation_year == row["evaluation_year"])).first()
            if exists:
                continue
            Q.save_profile(session, None, org.id, parse_profile(row, StoredProfileIn), source="demo")
            created += 1
    console.print(f"梯度培育演示数据：企业画像 {created} 份")
    return {"profiles": created}
