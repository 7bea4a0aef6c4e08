"""Object-level permission rules, in one place. Every caller (API, pages, CLI) asks here.

Roles:
- enterprise: edits only its own organization's problems;
- university (universities and institutes): edits only its own organization's achievements;
- broker: reviews proposals; sees contacts only for matches assigned to them;
- bureau: sees everything read-only, registers contracts, sets targets, approves accounts;
- admin: everything.
"""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core.errors import PermissionDenied
from core.listings.vocab import PUBLIC_ACHIEVEMENT_STATUSES, PUBLIC_PROBLEM_STATUSES
from core.matches.vocab import INTRODUCED_STATUSES
from core.models import Achievement, Match, TechProblem
from core.vocab import Role

EDITOR_ROLE = {"problem": Role.enterprise, "achievement": Role.university}


def has_role(user, *roles: str) -> bool:
    return user is not None and user.is_active and user.role in roles


def is_staff(user) -> bool:
    """Bureau and admin: see everything."""
    return has_role(user, Role.bureau, Role.admin)


def can_see_unpublished(user) -> bool:
    return is_staff(user)


def is_public(listing) -> bool:
    public = PUBLIC_PROBLEM_STATUSES if listing.kind == "problem" else PUBLIC_ACHIEVEMENT_STATUSES
    return listing.status in public


def is_owner(user, listing) -> bool:
    return user is not None and user.is_active and user.org_id == listing.org_id


def can_create_listing(user, kind: str) -> bool:
    return has_role(user, EDITOR_ROLE[kind], Role.admin)


def can_edit_listing(user, listing) -> bool:
    if has_role(user, Role.admin):
        return True
    return has_role(user, EDITOR_ROLE[listing.kind]) and is_owner(user, listing)


def can_review_listing(user) -> bool:
    """Bureau review of crawled/imported listings before publication."""
    return is_staff(user)


def can_view_listing(session: Session, user, listing) -> bool:
    if is_public(listing) or is_staff(user) or is_owner(user, listing):
        return True
    # A broker may see an unpublished listing that is part of a match assigned to them.
    return has_role(user, Role.broker) and _broker_has_match(session, user, listing)


def _match_filter(listing):

    col = Match.problem_id if listing.kind == "problem" else Match.achievement_id
    return col == listing.id


def _broker_has_match(session: Session, user, listing) -> bool:

    q = select(Match.id).where(_match_filter(listing), Match.assigned_broker_id == user.id).limit(1)
    return session.scalar(q) is not None


def can_see_contact(session: Session, user, listing) -> bool:
    """Contacts are hidden from other organizations until a broker introduces the parties."""
    if user is None or not user.is_active:
        return False
    if is_staff(user) or is_owner(user, listing):
        return True
    if user.role == Role.broker:
        return _broker_has_match(session, user, listing)
    # The other party of an introduced match.
    if listing.kind == "problem":
        q = (select(Match.id).join(Achievement, Match.achievement_id == Achievement.id)
             .where(Match.problem_id == listing.id, Achievement.org_id == user.org_id,
                    Match.status.in_(INTRODUCED_STATUSES)))
    else:
        q = (select(Match.id).join(TechProblem, Match.problem_id == TechProblem.id)
             .where(Match.achievement_id == listing.id, TechProblem.org_id == user.org_id,
                    Match.status.in_(INTRODUCED_STATUSES)))
    return session.scalar(q.limit(1)) is not None


def can_review_matches(user) -> bool:
    return has_role(user, Role.broker, Role.bureau, Role.admin)


def can_manage_accounts(user) -> bool:
    return is_staff(user)


def can_register_contracts(user) -> bool:
    return has_role(user, Role.bureau, Role.admin, Role.broker)


def can_edit_targets(user) -> bool:
    return is_staff(user)


def visible_listing_clause(model, user):
    """SQL filter for listings a user may see in lists and search."""
    public = PUBLIC_PROBLEM_STATUSES if model.kind == "problem" else PUBLIC_ACHIEVEMENT_STATUSES
    if is_staff(user):
        return None
    if user is not None and user.is_active:
        return or_(model.status.in_(public), model.org_id == user.org_id)
    return model.status.in_(public)


def require(condition: bool, message: str = "您没有执行此操作的权限") -> None:
    if not condition:
        raise PermissionDenied(message)
