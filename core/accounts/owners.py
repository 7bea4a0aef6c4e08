"""Owner organizations of crawled and imported listings.

Resolution order:
1. a credit code (统一社会信用代码) on the page or in the row: the organization with that
   code, or a new one with it, created **not approved**;
2. the owner's name: an existing organization with that exact (normalised) name;
3. a name without a code: a new organization, **not approved**, with a *placeholder*
   credit code. Placeholder codes are valid GB 32100 codes built as
   ``Y9`` + region (6) + ``TM`` + 7 characters of a hash of the name + check character:
   registration authority ``Y`` (其他) and the ``TM`` marker make them recognisable
   (:func:`is_placeholder_code`); they are deterministic, so the same name maps to the same
   organization on every run and from every source;
4. no name at all: the source's declared owner (``owner:`` in its YAML), or else one
   placeholder organization per source, ``<source title>（采集来源）``.

Organizations created here stay unapproved until the bureau reviews them (with the
listings, which enter as ``pending_review``); when the real organization registers, the
bureau corrects the code in the organization record.
"""
from __future__ import annotations

import hashlib
import unicodedata

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, validation
from core.models import Organization

_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def placeholder_code(name: str, region: str) -> str:
    digest = hashlib.sha256(normalize_name(name).encode("utf-8")).digest()
    tail = "".join(_CHARS[b % len(_CHARS)] for b in digest[:7])
    body = f"Y9{region}TM{tail}"
    return body + validation.uscc_check_char(body)


def is_placeholder_code(code: str) -> bool:
    return len(code or "") == 18 and code.startswith("Y9") and code[8:10] == "TM"


def normalize_name(name: str) -> str:
    n = unicodedata.normalize("NFKC", name or "").strip()
    return "".join(n.split())


def find_by_name(session: Session, name: str) -> Organization | None:
    """An organization by exact name, tolerating spaces and full-/half-width differences."""
    raw = " ".join((name or "").split())
    if not raw:
        return None
    variants = list(dict.fromkeys([raw, raw.replace(" ", ""), normalize_name(raw)]))
    org = session.scalar(select(Organization).where(Organization.name.in_(variants))
                         .order_by(Organization.id).limit(1))
    if org is None:  # names stored with inner spaces
        org = session.scalar(select(Organization).where(
            func.replace(Organization.name, " ", "").in_(variants)).order_by(Organization.id).limit(1))
    return org


def resolve(session: Session, *, name: str | None, credit_code: str | None, kind: str, region: str,
            create: bool = True, reason: str = "crawler") -> Organization | None:
    """The owner organization, creating an unapproved one when needed (see module doc).
    ``credit_code`` must already be validated. Returns None when ``create`` is False and
    nothing matches."""
    name = " ".join((name or "").split())  # stored as written (full-width brackets stay)
    if credit_code:
        org = session.scalar(select(Organization).where(Organization.credit_code == credit_code))
        if org is not None:
            return org
    if name:
        org = find_by_name(session, name)
        if org is not None:
            return org
    if not create or not name:
        return None
    code = credit_code or placeholder_code(name, region)
    org = session.scalar(select(Organization).where(Organization.credit_code == code))
    if org is not None:
        return org
    org = Organization(kind=kind, name=name[:200], credit_code=code, region=region, approved=False)
    session.add(org)
    session.flush()
    audit.record(session, None, "org.create", "organization", org.id,
                 {"name": org.name, "credit_code": code, "approved": False, "via": reason,
                  "placeholder_code": credit_code is None})
    return org
