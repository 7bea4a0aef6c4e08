"""Object-level permission rules, in one place. Every caller (API, pages, CLI) asks here.

Roles:
- enterprise: edits only its own organization's problems;
- university (universities and institutes): edits only its own organization's achievements;
- broker: reviews proposals; sees contacts only for matches assigned to them;
- bureau: acts for its organization's region (its jurisdiction, below): sees the contracts,
  indicators, events, targets and accounts inside it, registers contracts, sets targets and
  events for its own region and those below, approves accounts inside it;
- admin: everything.

Jurisdiction (GB/T 2260, core.regions): a county bureau covers its county code, a city bureau
every code under its 4-digit prefix, a province bureau its 2-digit prefix; the admin covers
everything. :func:`jurisdiction` is the one rule; every service asks it through the helpers
below (``in_jurisdiction``, ``region_clause``, ``scope_region``, ``may_change_contract``).
"""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core import regions
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


# ----------------------------------------------------------------- jurisdiction

def jurisdiction(user) -> str | None:
    """The region code a bureau account acts for (its organization's region); None = no
    regional limit (the admin, the system, and roles limited by other rules)."""
    if has_role(user, Role.bureau):
        return user.org.region
    return None


def is_regional(user) -> bool:
    """A bureau account: what it sees and changes is limited to its jurisdiction."""
    return jurisdiction(user) is not None


def in_jurisdiction(user, region_code: str | None) -> bool:
    """Whether ``region_code`` lies inside the user's jurisdiction (always, without a limit)."""
    j = jurisdiction(user)
    if j is None:
        return True
    return bool(region_code) and regions.contains(j, region_code)


def require_in_jurisdiction(user, region_code: str | None, what: str = "该地区") -> None:
    if not in_jurisdiction(user, region_code):
        raise PermissionDenied(f"{what}不在您的管辖范围（{regions.full_name(jurisdiction(user))}）内",
                               code="outside_jurisdiction")


def region_clause(user, *columns):
    """SQL filter: any of ``columns`` (region codes) inside the user's jurisdiction; None = no limit."""
    j = jurisdiction(user)
    if j is None:
        return None
    p = regions.prefix(j)
    return or_(*[c.startswith(p, autoescape=True) for c in columns])


def scope_region(user, region: str | None) -> str | None:
    """The region a regional view (dashboard, report, export) is for: the one asked for, which
    must lie inside the jurisdiction, or else the bureau's own region (None = all regions)."""
    if region:
        require_in_jurisdiction(user, region)
        return region
    return jurisdiction(user)


def registering_region(contract) -> str:
    """The registering authority's region: digits 5-10 of the 登记号 (core.contracts.vocab)."""
    return contract.reg_number[4:10]


def registered_in_clause(region_code: str):
    """SQL filter: contracts registered by an authority inside ``region_code`` (the 登记号's region)."""
    from core.models.contracts import Contract

    return Contract.reg_number.like("____" + regions.prefix(region_code) + "%")


def registering_region_clause(user):
    """SQL filter: contracts registered by an authority inside the jurisdiction; None = no limit."""
    j = jurisdiction(user)
    if j is None:
        return None
    return registered_in_clause(j)


def may_change_contract(user, contract) -> bool:
    """Amend and terminate: the registering bureau or one above it (and the admin)."""
    if has_role(user, Role.admin):
        return True
    return has_role(user, Role.bureau) and in_jurisdiction(user, registering_region(contract))


def may_set_region(user, region_code: str | None) -> bool:
    """Targets and events: only for the bureau's own region and the regions below it."""
    return in_jurisdiction(user, region_code)


def may_manage_org(user, org) -> bool:
    """Approve, change, activate accounts of an organization: staff, inside the jurisdiction."""
    return is_staff(user) and in_jurisdiction(user, org.region)


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


def broker_assigned_listings(session: Session, user, listings) -> set[tuple[str, int]] | None:
    """For a broker: the (kind, id) of ``listings`` that have a match assigned to it, in one query
    per kind (a page of matches asks this once instead of once per listing); None for others.
    Pass the result to :func:`can_see_contact` as ``assigned``."""
    if not (user is not None and user.is_active and user.role == Role.broker):
        return None
    out: set[tuple[str, int]] = set()
    for kind, col in (("problem", Match.problem_id), ("achievement", Match.achievement_id)):
        ids = sorted({x.id for x in listings if x.kind == kind})
        for i in range(0, len(ids), 500):
            rows = session.scalars(select(col).where(col.in_(ids[i:i + 500]), Match.assigned_broker_id == user.id)
                                   .distinct())
            out.update((kind, int(x)) for x in rows)
    return out


def can_see_contact(session: Session, user, listing, assigned: set[tuple[str, int]] | None = None) -> bool:
    """Contacts are hidden from other organizations until a broker introduces the parties.
    ``assigned``: :func:`broker_assigned_listings` for a page that holds ``listing``."""
    if user is None or not user.is_active:
        return False
    if is_staff(user) or is_owner(user, listing):
        return True
    if user.role == Role.broker:
        if assigned is not None:
            return (listing.kind, listing.id) in assigned
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
