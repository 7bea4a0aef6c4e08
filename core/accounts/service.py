"""Organizations and user accounts: creation, self-registration with approval, login."""
from __future__ import annotations

import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, validation
from core import permissions as perm
from core.accounts import sessions
from core.accounts.schemas import (
    OrganizationIn,
    OrganizationUpdate,
    RegistrationIn,
    UserCreate,
)
from core.db import get_or_404, utcnow
from core.errors import Conflict, NotAuthenticated, TooManyRequests, ValidationFailed
from core.models import Organization, User
from core.regions import prefix
from core.security import (
    MAX_PASSWORD_LENGTH,
    hash_password,
    login_limiter,
    login_limits,
    password_problem,
    verify_dummy,
    verify_password,
)
from core.vocab import ROLE_ORG_KINDS, Role, UserStatus

# ----------------------------------------------------------------- organizations

def get_org(session: Session, org_id: int) -> Organization:
    org = get_or_404(session, Organization, org_id, "单位不存在")
    return org


def _check_credit_code_free(session: Session, code: str, exclude_id: int | None = None) -> None:
    q = select(Organization.id).where(Organization.credit_code == code)
    if exclude_id:
        q = q.where(Organization.id != exclude_id)
    if session.scalar(q) is not None:
        raise Conflict("该统一社会信用代码已登记", field="credit_code", code="duplicate_credit_code")


def create_org(session: Session, actor, data: OrganizationIn, *, approved: bool = True) -> Organization:
    if actor is not None:
        perm.require(perm.can_manage_accounts(actor), "只有科技局或管理员可以创建单位")
        perm.require_in_jurisdiction(actor, data.region, "单位所在地区")
    _check_credit_code_free(session, data.credit_code)
    org = Organization(**data.model_dump(), approved=approved)
    session.add(org)
    session.flush()
    audit.record(session, actor, "org.create", "organization", org.id, data.model_dump())
    return org


def update_org(session: Session, actor, org_id: int, data: OrganizationUpdate) -> Organization:
    org = get_org(session, org_id)
    perm.require(perm.can_manage_accounts(actor), "只有科技局或管理员可以修改单位信息")
    perm.require_in_jurisdiction(actor, org.region, "该单位")
    values = data.model_dump(exclude_unset=True)
    validation.reject_nulls(Organization, values)
    if values.get("region"):
        perm.require_in_jurisdiction(actor, values["region"], "单位所在地区")
    changes = audit.diff(org, values)
    if changes:
        audit.record(session, actor, "org.update", "organization", org.id, changes)
    return org


def list_orgs(session: Session, *, kind: str | None = None, region: str | None = None,
              q: str | None = None, approved: bool | None = None, page: int = 1, size: int = 20):
    stmt = select(Organization)
    if kind:
        stmt = stmt.where(Organization.kind == kind)
    if region:
        stmt = stmt.where(Organization.region.startswith(prefix(region)))
    if q:
        stmt = stmt.where(Organization.name.contains(q))
    if approved is not None:
        stmt = stmt.where(Organization.approved.is_(approved))
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = session.scalars(stmt.order_by(Organization.id).offset((page - 1) * size).limit(size)).all()
    return list(items), total


# ----------------------------------------------------------------- users

def _check_role_fits_org(role: str, org: Organization) -> None:
    if org.kind not in ROLE_ORG_KINDS[Role(role)]:
        raise ValidationFailed(f"角色“{Role(role).label}”不能属于{org.name}这类单位", field="role",
                               code="role_org_mismatch")


def _check_email_free(session: Session, email: str) -> None:
    if session.scalar(select(User.id).where(func.lower(User.email) == email.lower())) is not None:
        raise Conflict("该邮箱已注册", field="email", code="duplicate_email")


def create_user(session: Session, actor, data: UserCreate) -> User:
    """An account created by an admin or the bureau (or by the CLI, actor=None): active at once."""
    if actor is not None:
        perm.require(perm.can_manage_accounts(actor), "只有科技局或管理员可以创建账号")
        if data.role == Role.admin:
            perm.require(perm.has_role(actor, Role.admin), "只有管理员可以创建管理员账号")
    org = get_org(session, data.org_id)
    if actor is not None:
        perm.require_in_jurisdiction(actor, org.region, "该单位")
    _check_role_fits_org(data.role, org)
    _check_email_free(session, data.email)
    user = User(org_id=org.id, email=data.email.lower(), name=data.name, phone=data.phone, role=data.role,
                password_hash=hash_password(data.password), is_active=True, status=UserStatus.approved)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user.create", "user", user.id, {"email": user.email, "role": user.role})
    return user


ORG_KIND_ROLE = {"enterprise": Role.enterprise, "university": Role.university,
                 "institute": Role.university, "broker_agency": Role.broker, "bureau": Role.bureau}


def register(session: Session, data: RegistrationIn) -> User:
    """Self-registration: the organization (or the existing one with that credit code) and a
    user that stays inactive until the bureau or an admin approves it."""
    _check_email_free(session, data.email)
    org = session.scalar(select(Organization).where(Organization.credit_code == data.org.credit_code))
    if org is None:
        org = Organization(**data.org.model_dump(), approved=False)
        session.add(org)
        session.flush()
    elif org.kind != data.org.kind:
        raise ValidationFailed("该统一社会信用代码已登记为其他类型的单位", field="org.kind")
    role = ORG_KIND_ROLE[data.org.kind]
    user = User(org_id=org.id, email=data.email.lower(), name=data.name, phone=data.phone, role=role,
                password_hash=hash_password(data.password), is_active=False, status=UserStatus.pending)
    session.add(user)
    session.flush()
    audit.record(session, None, "user.register", "user", user.id, {"email": user.email, "org": org.name})
    return user


def get_user(session: Session, user_id: int) -> User:
    user = get_or_404(session, User, user_id, "用户不存在")
    return user


def list_users(session: Session, actor, *, status: str | None = None, role: str | None = None,
               page: int = 1, size: int = 50):
    perm.require(perm.can_manage_accounts(actor))
    stmt = select(User)
    inside = perm.region_clause(actor, Organization.region)
    if inside is not None:
        stmt = stmt.join(Organization, User.org_id == Organization.id).where(inside)
    if status:
        stmt = stmt.where(User.status == status)
    if role:
        stmt = stmt.where(User.role == role)
    total = session.scalar(select(func.count()).select_from(stmt.subquery()))
    items = session.scalars(stmt.order_by(User.id).offset((page - 1) * size).limit(size)).unique().all()
    return list(items), total


def decide_registration(session: Session, actor, user_id: int, approve: bool) -> User:
    perm.require(perm.can_manage_accounts(actor), "只有科技局或管理员可以审核注册")
    user = get_user(session, user_id)
    perm.require(perm.may_manage_org(actor, user.org), "该账号的单位不在您的管辖范围内")
    if user.status != UserStatus.pending:
        raise Conflict("该账号不在待审核状态", code="not_pending")
    user.status = UserStatus.approved if approve else UserStatus.rejected
    user.is_active = approve
    if approve and not user.org.approved:
        user.org.approved = True
    audit.record(session, actor, "user.approve" if approve else "user.reject", "user", user.id)
    return user


def set_active(session: Session, actor, user_id: int, active: bool) -> User:
    perm.require(perm.can_manage_accounts(actor))
    user = get_user(session, user_id)
    perm.require(perm.may_manage_org(actor, user.org), "该账号的单位不在您的管辖范围内")
    if user.role == Role.admin:
        perm.require(perm.has_role(actor, Role.admin), "只有管理员可以停用管理员账号")
    user.is_active = active
    if not active:
        sessions.revoke_all(session, user.id)
    audit.record(session, actor, "user.activate" if active else "user.deactivate", "user", user.id)
    return user


# ----------------------------------------------------------------- login

LOGIN_FAILED = "邮箱或密码错误"


def _throttle_keys(email: str, address: str) -> list[tuple[str, list]]:
    limits = login_limits()
    return [(f"account:{email}", limits["account"]), (f"address:{address or '-'}", limits["address"])]


def _throttled(email: str, address: str) -> int | None:
    """Count this attempt against the account and the client address; seconds to wait if
    either is over its limit, else None. Counted before the password is checked, so that
    parallel guesses are throttled too."""
    limiter = login_limiter()
    wait = None
    for key, items in _throttle_keys(email, address):
        for item in items:
            if not limiter.hit(item, "login", key):
                reset = limiter.get_window_stats(item, "login", key).reset_time
                wait = max(wait or 0, int(reset - time.time()) + 1)
    return wait


def authenticate(session: Session, email: str, password: str, *, address: str = "") -> User:
    """Check the credentials. The same work (one argon2 verification) and the same answer
    whether or not the account exists; attempts are throttled by account and by client
    address; every failure is written to the audit log — so the caller commits the session
    also when this raises :class:`NotAuthenticated` or :class:`TooManyRequests`."""
    email = (email or "").strip().lower()[:254]
    password = str(password or "")[:MAX_PASSWORD_LENGTH * 4]
    wait = _throttled(email, address)
    if wait is not None:
        audit.record(session, None, "auth.login_throttled", "user", None, {"email": email, "address": address})
        raise TooManyRequests(f"登录尝试过于频繁，请 {max(1, round(wait / 60))} 分钟后再试",
                              retry_after=wait, code="login_throttled")
    user = session.scalar(select(User).where(func.lower(User.email) == email))
    ok = verify_password(user.password_hash, password) if user is not None else verify_dummy(password)
    reason = None
    if not ok:
        reason = "bad_credentials"
    elif user.status == UserStatus.pending:
        reason = "pending_approval"
    elif not user.is_active:
        reason = "inactive"
    if reason is not None:
        audit.record(session, None, "auth.login_failed", "user", user.id if user is not None else None,
                     {"email": email, "address": address, "reason": reason})
        if reason == "pending_approval":
            raise NotAuthenticated("账号正在等待审核", code=reason)
        if reason == "inactive":
            raise NotAuthenticated("账号已停用", code=reason)
        raise NotAuthenticated(LOGIN_FAILED, code=reason)
    for key, items in _throttle_keys(email, address)[:1]:  # a success clears the account's count
        for item in items:
            login_limiter().clear(item, "login", key)
    user.last_login_at = utcnow()
    return user


def login(session: Session, email: str, password: str, kind: str, *, address: str = "",
          user_agent: str = "", previous: str | None = None) -> tuple[User, str]:
    """Authenticate and start a new session (rotation: the client's previous session, if
    any, is revoked). Returns the user and the new session secret."""
    user = authenticate(session, email, password, address=address)
    if previous:
        sessions.revoke(session, previous)
    secret = sessions.start(session, user, kind, address=address, user_agent=user_agent)
    audit.record(session, user, "auth.login", "user", user.id, {"kind": kind, "address": address})
    return user, secret


def logout(session: Session, secret: str | None) -> None:
    sessions.revoke(session, secret)


def change_password(session: Session, actor: User, current: str, new: str) -> User:
    """The user's own password: the current one is required, the new one must pass the
    policy; every session of the user is revoked (the caller starts a new one)."""
    if actor is None:
        raise NotAuthenticated("请先登录")
    if not verify_password(actor.password_hash, current or ""):
        raise ValidationFailed("当前密码不正确", field="current_password", code="bad_current_password")
    problem = password_problem(new or "", [actor.email, actor.name])
    if problem:
        raise ValidationFailed(problem, field="new_password", code="weak_password")
    if verify_password(actor.password_hash, new):
        raise ValidationFailed("新密码不能与当前密码相同", field="new_password", code="same_password")
    actor.password_hash = hash_password(new)
    sessions.revoke_all(session, actor.id)
    audit.record(session, actor, "user.password_change", "user", actor.id)
    return actor


def user_for_token(session: Session, token: str) -> User | None:
    return sessions.resolve(session, token, sessions.TOKEN)


def user_for_cookie(session: Session, secret: str | None) -> User | None:
    return sessions.resolve(session, secret, sessions.COOKIE)
