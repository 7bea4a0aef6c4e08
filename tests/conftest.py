"""Shared fixtures. Tests that touch the database take the `db` fixture, which runs them
on SQLite and on PostgreSQL (127.0.0.1:5432, trust auth; a private database per run).

`pytest --db sqlite` or `--db postgresql` runs one of them only.
"""
from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.contract_helpers import contract_data

PG_ADMIN_URL = os.environ.get("TECHMATCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pytest_addoption(parser):
    parser.addoption("--db", default="both", choices=["both", "sqlite", "postgresql"],
                     help="which databases the db-backed tests run on")


def pytest_generate_tests(metafunc):
    if "db_url" in metafunc.fixturenames:
        choice = metafunc.config.getoption("--db")
        params = ["sqlite", "postgresql"] if choice == "both" else [choice]
        metafunc.parametrize("db_url", params, indirect=True, scope="session")


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing():
    """argon2's production parameters cost ~0.1 s per hash; tests use the same algorithm
    with minimal cost (passwords themselves are tested in tests/core)."""
    from argon2 import PasswordHasher

    from core import security

    saved = security._hasher
    security._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    security._hasher = saved


@pytest.fixture(scope="session")
def _pg_database():
    name = f"techmatch_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    yield url
    from core.db import get_engine
    get_engine.cache_clear()
    with admin.connect() as c:
        c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}' "
                       "AND pid <> pg_backend_pid()"))
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="session")
def db_url(request, tmp_path_factory):
    """A migrated database URL (session-wide)."""
    from core import migrate

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    else:
        url = request.getfixturevalue("_pg_database")
    migrate.upgrade("head", url=url)
    return url


def _truncate_all(url: str) -> None:
    from core.db import Base, get_engine

    engine = get_engine()
    tables = [t.name for t in Base.metadata.sorted_tables]
    with engine.begin() as c:
        if url.startswith("postgresql"):
            c.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for t in reversed(tables):
                c.execute(text(f'DELETE FROM "{t}"'))
            c.execute(text("DELETE FROM sqlite_sequence")) if c.execute(
                text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first() else None


@pytest.fixture
def settings(db_url, tmp_path):
    """Fresh settings per test: own data dir (so own search index), shared migrated database."""
    from core import settings as settings_mod

    s = settings_mod.configure(data_dir=tmp_path / "data", database_url=db_url,
                               secret_key="test-secret", celery_broker_url=None, celery_eager=True)
    _truncate_all(db_url)
    yield s
    settings_mod.configure(data_dir=tmp_path / "data", database_url=db_url, secret_key="test-secret",
                           celery_eager=True)


@pytest.fixture
def db(settings):
    """A session on a clean database. Commit explicitly when code under test needs it."""
    from core.db import get_sessionmaker

    session = get_sessionmaker()()
    yield session
    session.rollback()
    session.close()


@pytest.fixture
def client(settings):
    from fastapi.testclient import TestClient

    from api.main import create_app

    with TestClient(create_app()) as c:
        yield c


# ----------------------------------------------------------------- factories

def make_credit_code(seed: int, region: str = "330421", category: str = "91") -> str:
    from core.validation import uscc_check_char

    body = f"{category}{region}{seed:09d}"
    return body + uscc_check_char(body)


@dataclass
class Factory:
    session: object
    counter: int = 0

    def org(self, kind: str = "enterprise", region: str = "330421", name: str | None = None, **kw):
        from core.accounts import service as accounts
        from core.accounts.schemas import OrganizationIn

        self.counter += 1
        data = OrganizationIn(kind=kind, name=name or f"测试单位{self.counter}", region=region,
                              credit_code=make_credit_code(self.counter * 7919, region), **kw)
        org = accounts.create_org(self.session, None, data)
        self.session.commit()
        return org

    def user(self, role: str = "enterprise", org=None, password: str = "copper-lantern-42", **kw):
        from core.accounts import service as accounts
        from core.accounts.schemas import UserCreate

        kind = {"enterprise": "enterprise", "university": "university", "broker": "broker_agency",
                "bureau": "bureau", "admin": "bureau"}[role]
        # The default bureau is the province's (浙江省): it covers every region the tests use;
        # jurisdiction tests create county and city bureaus explicitly.
        org = org or (self.org(kind=kind, region="330000") if kind == "bureau" else self.org(kind=kind))
        self.counter += 1
        u = accounts.create_user(self.session, None, UserCreate(
            org_id=org.id, email=f"user{self.counter}@example.com", password=password, role=role, **kw))
        self.session.commit()
        return u

    def problem(self, user, publish: bool = True, **kw):
        from core.listings import service as listings
        from core.listings.schemas import ProblemIn

        data = dict(title="锂电池正极材料循环寿命不足", region="330421", fields=["新能源"],
                    description="我公司生产的三元正极材料循环 500 次后容量保持率低于 80%，需要改性技术。",
                    budget_min=Decimal("100000"), budget_max=Decimal("500000"), coop_modes=["development"],
                    contact_name="王经理", contact_phone="13800000000", publish=publish)
        data.update(kw)
        obj = listings.create(self.session, user, "problem", ProblemIn(**data))
        self.session.commit()
        return obj

    def achievement(self, user, publish: bool = True, **kw):
        from core.listings import service as listings
        from core.listings.schemas import AchievementIn

        data = dict(title="高镍三元正极材料表面包覆改性技术", region="330106", fields=["新能源"],
                    abstract="通过原子层沉积氧化铝包覆，使高镍正极循环 1000 次容量保持率达 90% 以上。",
                    maturity="pilot", trl=6, transfer_modes=["license"], asking_price=Decimal("800000"),
                    contact_name="孙老师", contact_phone="13900000000", publish=publish)
        data.update(kw)
        obj = listings.create(self.session, user, "achievement", AchievementIn(**data))
        self.session.commit()
        return obj


@pytest.fixture
def factory(db):
    return Factory(db)


def auth_headers(client, user, password: str = "copper-lantern-42") -> dict:
    r = client.post("/api/auth/token", data={"username": user.email, "password": password})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@pytest.fixture
def login(client):
    def _login(user, password: str = "copper-lantern-42") -> dict:
        return auth_headers(client, user, password)
    return _login


# ----------------------------------------------------------------- domain fixtures shared by several packages

#: packages whose tests keep the listing index/match tasks out (not under test there)
NO_LISTING_TASKS = ("contracts", "indicators", "matches", "registration")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.fspath)).parent.name in NO_LISTING_TASKS and "no_listing_tasks" not in item.fixturenames:
            item.fixturenames.insert(0, "no_listing_tasks")


@pytest.fixture
def enqueued(monkeypatch):
    """Tasks enqueued after commits (index/match), recorded instead of run: the search
    service is tested in its own package; here we check that listings enter the pipeline."""
    from core import hooks

    calls: list[tuple[str, tuple]] = []
    monkeypatch.setattr(hooks, "enqueue", lambda name, *args, **kw: calls.append((name, args)))
    return calls


@pytest.fixture
def no_listing_tasks(request):
    """Listing index/match tasks are not under test here: keep them out (and the tests fast)."""
    if "db" in request.fixturenames:
        from core import hooks

        hooks.suppress(request.getfixturevalue("db"))


@pytest.fixture
def make_contract(db):
    from core.contracts import service as contracts

    def _make(actor=None, **kw):
        c = contracts.register(db, actor, contract_data(**kw))
        db.commit()
        return c
    return _make


@pytest.fixture
def bureau(factory):
    return factory.user("bureau")


@pytest.fixture
def broker(factory):
    return factory.user("broker")


@pytest.fixture
def accepted_match(db, factory, broker):
    """A problem, an achievement and a match a broker accepted (assigned to ``broker``)."""
    from core.models import Match

    ent = factory.user("enterprise", org=factory.org("enterprise", region="330482", name="平湖锂想新能源有限公司"))
    uni = factory.user("university", org=factory.org("university", region="330106", name="浙北理工大学"))
    p = factory.problem(ent)
    a = factory.achievement(uni, transfer_modes=["license", "transfer"])
    m = Match(problem_id=p.id, achievement_id=a.id, score=0.9, status="accepted",
              assigned_broker_id=broker.id)
    from core.db import utcnow
    m.decided_at = utcnow()
    db.add(m)
    db.commit()
    return m, ent, uni
