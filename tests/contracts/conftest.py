"""Fixtures for the contracts and indicators tests."""
from __future__ import annotations

import pytest

from contract_helpers import contract_data  # noqa: E402


@pytest.fixture(autouse=True)
def _no_listing_tasks(request):
    """Listing index/match tasks are not under test here: keep them out (and the tests fast)."""
    if "db" in request.fixturenames:
        from core import hooks

        hooks.suppress(request.getfixturevalue("db"))


@pytest.fixture
def make_contract(db):
    from core.services import contracts

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
