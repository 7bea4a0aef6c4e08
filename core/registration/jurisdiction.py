"""Which registration office (登记机构) handles a region, and whether a bureau may act on it.

ONE place for the rule, so that it can follow the shared jurisdiction rule of core/permissions.py:
- the office of a region is the bureau organization whose region is the region's county, else its
  city, else its province (the nearest bureau up the GB/T 2260 hierarchy);
- a bureau user may act on a region inside its jurisdiction (the shared rule of core/permissions.py:
  a city bureau also on its counties); admins everywhere.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import permissions as perm
from core import regions
from core.models import Organization
from core.vocab import OrgKind, Role


def office_chain(region: str) -> list[str]:
    """The region codes to look for an office in, nearest first: county, city, province."""
    out: list[str] = []
    for code in (region, regions.city_of(region), regions.province_of(region)):
        if code not in out:
            out.append(code)
    return out


def office_for_region(session: Session, region: str) -> Organization | None:
    for code in office_chain(region):
        org = session.scalars(select(Organization).where(
            Organization.kind == OrgKind.bureau, Organization.region == code,
            Organization.approved.is_(True)).order_by(Organization.id).limit(1)).first()
        if org is not None:
            return org
    return None


def may_act(user, region: str | None) -> bool:
    """A bureau on a region inside its jurisdiction (``core.permissions.in_jurisdiction``); the admin anywhere."""
    if perm.has_role(user, Role.admin):
        return True
    return perm.has_role(user, Role.bureau) and bool(region) and perm.in_jurisdiction(user, region)
