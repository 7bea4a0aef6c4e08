"""The match routes return amounts as exact strings ("1234567.89"), as the listings API does,
never as JSON floats."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from core.models import Match
from tests.matcher.conftest import PROBLEM

PRICE, BUDGET = Decimal("1234567.89"), Decimal("2345678.91")


@pytest.fixture
def priced(db, factory, people, listings_set):
    problem = factory.problem(people["ent"], **PROBLEM)
    m = db.scalars(select(Match).where(Match.problem_id == problem.id).order_by(Match.score.desc())).first()
    m.achievement.asking_price = PRICE
    m.problem.budget_max = BUDGET
    db.commit()
    return m


def test_match_routes_return_money_as_exact_strings(client, db, people, priced, login):
    b = login(people["broker"])
    listing = client.get(f"/api/achievements/{priced.achievement_id}", headers=b).json()
    assert listing["asking_price"] == "1234567.89"

    d = client.get(f"/api/matches/{priced.id}", headers=b).json()
    assert d["achievement"]["asking_price"] == "1234567.89"
    assert d["problem"]["budget_max"] == "2345678.91"
    assert d["achievement_full"]["asking_price"] == "1234567.89"
    assert d["problem_full"]["budget_max"] == "2345678.91"

    items = client.get("/api/matches", headers=b, params={"problem_id": priced.problem_id}).json()["items"]
    row = next(x for x in items if x["id"] == priced.id)
    assert row["achievement"]["asking_price"] == "1234567.89" and row["problem"]["budget_max"] == "2345678.91"

    r = client.post(f"/api/matches/{priced.id}/accept", headers=b, json={})
    assert r.status_code == 200 and r.json()["achievement_full"]["asking_price"] == "1234567.89"
    board = client.get("/api/matches/pipeline", headers=b).json()
    accepted = next(s for s in board["stages"] if s["stage"] == "accepted")
    assert accepted["items"][0]["problem"]["budget_max"] == "2345678.91"
    e = login(people["ent"])
    items = client.get(f"/api/problems/{priced.problem_id}/matches", headers=e).json()["items"]
    assert items[0]["achievement"]["asking_price"] == "1234567.89"
