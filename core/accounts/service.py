"""Organizations and user accounts: creation, self-registration with approval, login."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, validation
from core import permissions as perm
from core.accounts.schemas import (
    OrganizationIn,
    OrganizationUpdate,
    RegistrationIn,
    UserCreate,
)
from core.db import get_or_404, utcnow
from core.errors import Conflict, NotAuthenticated, ValidationFailed
from core.models import Organization, User
from core.regions import prefix
from core.security import (
    create_token,
    hash_password,
    read_token,
    token_matches,
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
    audit.record(session, actor, "user.activate" if active else "user.deactivate", "user", user.id)
    return user


# ----------------------------------------------------------------- login

def authenticate(session: Session, email: str, password: str) -> User:
    user = session.scalar(select(User).where(func.lower(User.email) == (email or "").strip().lower()))
    if user is None or not verify_password(user.password_hash, password or ""):
        raise NotAuthenticated("邮箱或密码错误", code="bad_credentials")
    if user.status == UserStatus.pending:
        raise NotAuthenticated("账号正在等待审核", code="pending_approval")
    if not user.is_active:
        raise NotAuthenticated("账号已停用", code="inactive")
    user.last_login_at = utcnow()
    return user


def issue_token(user: User) -> str:
    return create_token(user.id, user.password_hash)


def user_from_token(session: Session, token: str) -> User | None:
    parsed = read_token(token)
    if parsed is None:
        return None
    user = session.get(User, parsed[0])
    if user is None or not user.is_active or not token_matches(user.password_hash, parsed[1]):
        return None
    return user


def active_user(session: Session, user_id: int | None) -> User | None:
    if not user_id:
        return None
    user = session.get(User, user_id)
    return user if user is not None and user.is_active else None
