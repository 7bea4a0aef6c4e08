"""Server-side sessions: one row per login (a page cookie or an API bearer token).

The client holds a random secret (in the signed session cookie, or as the bearer token);
the table holds its SHA-256. A session is valid while it is neither expired nor revoked
and its user is active. Logout revokes it; a password change or a deactivation revokes
every session of the user; each login starts a new one (the old cookie session is revoked).
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.db import utcnow
from core.models import AuthSession, User
from core.security import new_session_secret, session_key
from core.settings import get_settings

COOKIE = "cookie"
TOKEN = "token"


def _aware(dt):
    from datetime import timezone

    return dt if dt is None or dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


def start(session: Session, user: User, kind: str, *, address: str = "", user_agent: str = "") -> str:
    """Start a session for the user; returns the secret the client keeps."""
    s = get_settings()
    ttl = s.session_ttl_seconds if kind == COOKIE else s.token_ttl_seconds
    secret = new_session_secret()
    now = utcnow()
    session.add(AuthSession(id=session_key(secret), user_id=user.id, kind=kind, created_at=now,
                            expires_at=now + timedelta(seconds=ttl), address=(address or "")[:64],
                            user_agent=(user_agent or "")[:200]))
    session.flush()
    return secret


def resolve(session: Session, secret: str | None, kind: str) -> User | None:
    """The active user of a live session, or None."""
    if not secret or not isinstance(secret, str) or len(secret) > 200:
        return None
    row = session.get(AuthSession, session_key(secret))
    if row is None or row.kind != kind or row.revoked_at is not None or _aware(row.expires_at) <= utcnow():
        return None
    user = session.get(User, row.user_id)
    return user if user is not None and user.is_active else None


def revoke(session: Session, secret: str | None) -> bool:
    """Revoke one session (logout). True if a live session was revoked."""
    if not secret or not isinstance(secret, str):
        return False
    row = session.get(AuthSession, session_key(secret))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    session.flush()
    return True


def revoke_all(session: Session, user_id: int) -> int:
    """Revoke every live session of a user (password change, deactivation)."""
    result = session.execute(update(AuthSession)
                             .where(AuthSession.user_id == user_id, AuthSession.revoked_at.is_(None))
                             .values(revoked_at=utcnow())
                             .execution_options(synchronize_session="fetch"))
    session.flush()
    return result.rowcount or 0


def live_sessions(session: Session, user_id: int) -> list[AuthSession]:
    now = utcnow()
    rows = session.scalars(select(AuthSession).where(AuthSession.user_id == user_id,
                                                     AuthSession.revoked_at.is_(None))).all()
    return [r for r in rows if _aware(r.expires_at) > now]
