"""Proposals: never duplicated, idempotent recompute, rejected pairs stay rejected until a
material change, open proposals withdrawn when a listing closes."""
from __future__ import annotations

from sqlalchemy import func, select

from core.listings import service as listings
from core.listings.schemas import AchievementUpdate, ProblemUpdate
from core.matches import service as M
from core.models import Match, MatchReview
from matcher.proposals import match_listing
from tests.matcher.conftest import PROBLEM


def _pairs(db):
    return list(db.execute(select(Match.problem_id, Match.achievement_id)).all())


def test_recompute_is_idempotent_and_never_duplicates(db, factory, people, listings_set):
    problem = factory.problem(people["ent"], **PROBLEM)
    assert db.scalar(select(func.count()).select_from(Match)) >= 1
    runs = [("problem", problem.id)] + [("achievement", a.id) for a in listings_set]

    def state():
        return {(m.problem_id, m.achievement_id): (m.id, m.status, round(m.score, 6))
                for m in db.scalars(select(Match))}

    for kind, lid in runs:
        match_listing(db, kind, lid)
    db.commit()
    first = state()
    for kind, lid in runs:  # the same tasks again: the same state
        match_listing(db, kind, lid)
        match_listing(db, kind, lid)
    db.commit()
    pairs = _pairs(db)
    assert len(pairs) == len(set(pairs))
    assert state() == first
    # the unique constraint itself
    m = db.scalars(select(Match)).first()
    import pytest
    from sqlalchemy.exc import IntegrityError
    with pytest.raises(IntegrityError):
        with db.begin_nested():
            db.add(Match(problem_id=m.problem_id, achievement_id=m.achievement_id, score=0.5))
            db.flush()


def test_rejected_pair_is_not_reproposed_until_material_change(db, factory, people, listings_set):
    battery = listings_set[0]
    problem = factory.problem(people["ent"], **PROBLEM)
    m = M.find_pair(db, problem.id, battery.id)
    M.reject(db, people["broker"], m.id, "成熟度不足", "需要量产级方案")
    db.commit()
    assert m.reject_reason == "maturity"
    # recompute from both sides: still rejected
    match_listing(db, "problem", problem.id)
    match_listing(db, "achievement", battery.id)
    db.commit()
    db.refresh(m)
    assert m.status == "rejected"
    # a non-material edit (contact phone) does not re-open the pair
    listings.update(db, people["ent"], "problem", problem.id, ProblemUpdate(contact_phone="13900001111"))
    db.commit()
    db.refresh(m)
    assert m.status == "rejected"
    # the university updates the achievement: it is now production-ready -> proposed again
    listings.update(db, people["uni"], "achievement", battery.id,
                    AchievementUpdate(maturity="industrial", trl=8))
    db.commit()
    db.refresh(m)
    assert m.status == "proposed" and m.reject_reason is None
    assert db.scalar(select(func.count()).select_from(MatchReview)
                     .where(MatchReview.match_id == m.id, MatchReview.action == "repropose")) == 1
    assert len(_pairs(db)) == len(set(_pairs(db)))


def test_closing_a_listing_withdraws_its_open_proposals(db, factory, people, listings_set):
    problem = factory.problem(people["ent"], **PROBLEM)
    ms = list(db.scalars(select(Match).where(Match.problem_id == problem.id)))
    assert ms
    M.accept(db, people["broker"], ms[0].id)
    db.commit()
    listings.transition(db, people["ent"], "problem", problem.id, "closed", "已自行解决")
    db.commit()
    for m in ms:
        db.refresh(m)
        assert m.status == "withdrawn"
    # an introduced deal is not withdrawn
    other = factory.problem(people["ent"], **{**PROBLEM, "title": "三元正极材料高温产气问题"})
    m2 = db.scalars(select(Match).where(Match.problem_id == other.id).order_by(Match.score.desc())).first()
    M.accept(db, people["broker"], m2.id)
    M.introduce(db, people["broker"], m2.id)
    db.commit()
    listings.transition(db, people["ent"], "problem", other.id, "closed")
    db.commit()
    db.refresh(m2)
    assert m2.status == "introduced"
