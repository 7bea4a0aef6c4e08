"""Demo data: organizations across several counties of 浙江省, users for every role,
listings written as real ones read, and (from the contracts work) a year of contracts.
Loading is idempotent: records are keyed by credit code, e-mail and listing title."""
from __future__ import annotations

import json
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import select

from core import hooks
from core.accounts import service as accounts
from core.accounts.schemas import OrganizationIn, UserCreate
from core.db import session_scope
from core.listings import service as listings
from core.listings.schemas import AchievementIn, ProblemIn
from core.models import Achievement, Organization, TechProblem, User

DATA = Path(__file__).parent / "data"
USERS = Path(__file__).parent / "users.json"


def read_jsonl(pattern: str) -> list[dict]:
    rows = []
    for path in sorted(DATA.glob(pattern)):
        with path.open(encoding="utf-8") as f:
            rows += [json.loads(line) for line in f if line.strip()]
    return rows


def load_orgs_and_users(session) -> dict[str, int]:
    keys: dict[str, int] = {}
    for row in json.loads((DATA / "organizations.json").read_text(encoding="utf-8")):
        data = OrganizationIn(**{k: v for k, v in row.items() if k != "key"})
        org = session.scalar(select(Organization).where(Organization.credit_code == data.credit_code))
        if org is None:
            org = accounts.create_org(session, None, data)
        keys[row["key"]] = org.id
    for row in json.loads(USERS.read_text(encoding="utf-8")):
        if session.scalar(select(User.id).where(User.email == row["email"])) is None:
            accounts.create_user(session, None, UserCreate(org_id=keys[row["org"]], email=row["email"],
                                                           password=row["password"], role=row["role"],
                                                           name=row["name"]))
    return keys


def _listing_rows(kind: str) -> list[dict]:
    return read_jsonl("problems_*.jsonl" if kind == "problem" else "achievements_*.jsonl")


def load_listings(session, keys: dict[str, int], progress: Progress | None = None) -> dict[str, int]:
    """Create the demo listings as the system (actor None). Returns demo id -> database id."""
    ids: dict[str, int] = {}
    for kind, model, schema in (("achievement", Achievement, AchievementIn), ("problem", TechProblem, ProblemIn)):
        rows = _listing_rows(kind)
        task = progress.add_task(f"载入{listings.spec(kind).label}", total=len(rows)) if progress else None
        existing = {t: i for t, i in session.execute(select(model.title, model.id))}
        for row in rows:
            if row["title"] in existing:
                ids[row["id"]] = existing[row["title"]]
            else:
                org_id = keys[row["org"]]
                region = row.get("region") or session.get(Organization, org_id).region
                fields = {k: v for k, v in row.items() if k not in ("id", "org", "status")}
                data = schema(**fields, region=region)
                obj = listings.create(session, None, kind, data, org_id=org_id, source="demo",
                                      status=row.get("status", "published"))
                ids[row["id"]] = obj.id
            if progress:
                progress.advance(task)
    return ids


def load_all(console: Console | None = None, index: bool = True, compute_matches: bool = False) -> dict:
    console = console or Console()
    with Progress(console=console) as progress:
        with session_scope() as session:
            keys = load_orgs_and_users(session)
            # Bulk load: per-listing index/match tasks are suppressed; the steps below
            # index and match everything in batches instead.
            hooks.suppress(session)
            ids = load_listings(session, keys, progress)
    summary = {"organizations": len(keys), "listings": len(ids)}
    for step in _extra_steps():
        extra = {"compute": compute_matches} if step.__module__ == "matcher.demo" else {}
        summary.update(step(console=console, index=index, **extra) or {})
    console.print("演示数据已载入：" + "，".join(f"{k} {v}" for k, v in summary.items()))
    console.print("演示账号见 README（例如 bureau@demo.techmatch.cn / bureau-demo-2026）")
    return summary


def _extra_steps():
    """Demo steps of the other packages, in order: index, match (and the demo broker's
    decisions), then a year of contracts, targets and events."""
    from core.demo import contracts, qualification
    from indexes import demo as index_demo
    from matcher import demo as match_demo

    return [index_demo.load, match_demo.load, contracts.load, qualification.load]
