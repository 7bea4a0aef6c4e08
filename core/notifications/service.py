"""In-app notifications; email too when SMTP is configured."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import hooks
from core.db import session_scope, utcnow
from core.models import Notification, User
from core.settings import get_settings


def notify(session: Session, user_id: int, kind: str, title: str, body: str = "",
           link: str | None = None) -> Notification:
    n = Notification(user_id=user_id, kind=kind, title=title, body=body, link=link)
    session.add(n)
    session.flush()
    if get_settings().smtp_host:
        hooks.after_commit(session, "techmatch.send_notification_email", n.id)
    return n


def notify_org(session: Session, org_id: int, kind: str, title: str, body: str = "",
               link: str | None = None) -> list[Notification]:
    users = session.scalars(select(User).where(User.org_id == org_id, User.is_active.is_(True)))
    return [notify(session, u.id, kind, title, body, link) for u in users]


def unread(session: Session, user, limit: int = 50) -> list[Notification]:
    return list(session.scalars(
        select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .order_by(Notification.created_at.desc()).limit(limit)))


def unread_count(session: Session, user) -> int:
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.read_at.is_(None))) or 0


def list_for(session: Session, user, limit: int = 100) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.user_id == user.id)
                                .order_by(Notification.created_at.desc()).limit(limit)))


def mark_read(session: Session, user, notification_id: int | None = None) -> int:
    q = select(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        q = q.where(Notification.id == notification_id)
    items = list(session.scalars(q))
    for n in items:
        n.read_at = utcnow()
    return len(items)


def send_email(notification_id: int) -> bool:
    """Send one notification by email. Idempotent: a sent notification is not sent again."""
    s = get_settings()
    if not s.smtp_host:
        return False
    with session_scope() as session:
        n = session.get(Notification, notification_id)
        if n is None or n.emailed_at is not None:
            return False
        user = session.get(User, n.user_id)
        msg = EmailMessage()
        msg["Subject"] = n.title
        msg["From"] = s.smtp_from
        msg["To"] = user.email
        msg.set_content(n.body + (f"\n\n{n.link}" if n.link else ""))
        with smtplib.SMTP(s.smtp_host, s.smtp_port, timeout=30) as smtp:
            if s.smtp_starttls:
                smtp.starttls()
            if s.smtp_user:
                smtp.login(s.smtp_user, s.smtp_password or "")
            smtp.send_message(msg)
        n.emailed_at = utcnow()
    return True
