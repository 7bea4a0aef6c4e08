"""What happens next to a published listing, as its owner sees it.

The owner sees a proposal only once a broker accepted it (``service.for_listing``), so right
after publishing its page would say "no proposals" while several wait for a broker. This
module tells the owner where its listing stands instead: how many proposals are under review,
how many a broker accepted, and how long brokers have taken to decide lately (measured from
the review history, not promised)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from statistics import median

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import permissions as perm
from core.db import utcnow
from core.matches.vocab import ACCEPTED_STATUSES, INTRODUCED_STATUSES
from core.models import Match, MatchReview

#: matching runs after publishing (in-process or on a worker); until then "nothing found"
#: would be premature
MATCHING_GRACE = timedelta(minutes=5)
#: the review history that "brokers usually decide within ..." is measured on
REVIEW_WINDOW = timedelta(days=180)


@dataclass
class NextSteps:
    state: str            # not_published | matching | reviewing | accepted | nothing
    waiting: int          # proposals a broker has not decided yet
    accepted: int         # accepted by a broker (and every later stage)
    introduced: int       # the parties were introduced
    review_hours: float | None  # median hours from proposal to a broker's decision, lately
    decided: int          # decisions that median is measured on


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt  # naive values are UTC


def review_hours(session: Session, now=None) -> tuple[float | None, int]:
    """Median hours from a proposal to a broker's accept/reject over the last 180 days."""
    now = now or utcnow()
    rows = session.execute(
        select(Match.proposed_at, func.min(MatchReview.at))
        .join(MatchReview, MatchReview.match_id == Match.id)
        .where(MatchReview.action.in_(("accept", "reject")), MatchReview.at >= now - REVIEW_WINDOW)
        .group_by(Match.id, Match.proposed_at)).all()
    hours = [max(0.0, (_utc(at) - _utc(proposed)).total_seconds() / 3600) for proposed, at in rows
             if proposed and at]
    return (round(median(hours), 1) if hours else None), len(hours)


def for_owner(session: Session, viewer, kind: str, obj, now=None) -> NextSteps | None:
    """None unless ``viewer`` belongs to the listing's organization."""
    if not perm.is_owner(viewer, obj):
        return None
    now = now or utcnow()
    col = Match.problem_id if kind == "problem" else Match.achievement_id
    counts = dict(session.execute(select(Match.status, func.count()).where(col == obj.id)
                                  .group_by(Match.status)).all())
    waiting = int(counts.get("proposed", 0))
    accepted = sum(int(counts.get(s, 0)) for s in ACCEPTED_STATUSES)
    introduced = sum(int(counts.get(s, 0)) for s in INTRODUCED_STATUSES)
    hours, decided = review_hours(session, now)
    if obj.status != "published":
        state = "not_published"
    elif waiting:
        state = "reviewing"
    elif accepted:
        state = "accepted"
    elif not counts and obj.published_at and now - _utc(obj.published_at) < MATCHING_GRACE:
        state = "matching"
    else:
        state = "nothing"
    return NextSteps(state, waiting, accepted, introduced, hours, decided)
