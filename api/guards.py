"""Route-level permission checks, run before FastAPI validates the query and the body: an
unauthorised role gets 403 (or 401 anonymous), never a 422 about input it may not send.

Only the order is decided here; every rule is the one in core.permissions or the service, which
checks again when it runs (the CLI and the pages call the services directly).
"""
from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends

from api.deps import DB, CurrentUser
from api.params import Id
from core import permissions as perm


def allowed(rule: Callable[..., bool], message: str = "您没有执行此操作的权限"):
    """``dependencies=[allowed(perm.can_edit_targets, "…")]``: the role rule, before validation."""
    def guard(user: CurrentUser) -> None:
        perm.require(rule(user), message)
    return Depends(guard)


def listing_editable(kind: str):
    """The actor may edit this listing (own organization), before the body is validated."""
    def guard(db: DB, user: CurrentUser, listing_id: Id) -> None:
        from core.listings import service as listings

        listings.ensure_editable(db, user, kind, listing_id)
    return Depends(guard)


def contract_changeable():
    """Amend/terminate: the registering bureau or one above it, before the body is validated."""
    def guard(db: DB, user: CurrentUser, contract_id: Id) -> None:
        from core.contracts import service as contracts

        perm.require(contracts.can_manage(user), "只有科技局可以变更或终止技术合同")
        contracts.ensure_may_change(user, contracts.get_for(db, user, contract_id))
    return Depends(guard)
