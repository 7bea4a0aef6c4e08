"""Attachments: files under data_dir/attachments with their extracted text."""
from __future__ import annotations

import hashlib
import re
import uuid
from pathlib import Path

from sqlalchemy.orm import Session

from core import audit, hooks
from core import permissions as perm
from core.attachments.extract import ExtractionError, extract_text
from core.contracts import service as contracts
from core.db import get_or_404
from core.errors import NotFound, ValidationFailed
from core.listings import service as listings
from core.models import Attachment
from core.settings import get_settings

ALLOWED = {"application/pdf", "text/plain",
           "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def _safe_name(filename: str) -> str:
    name = Path(filename or "file").name
    name = re.sub(r"[^\w.\-\u4e00-\u9fff]+", "_", name)[:120]
    return name or "file"


def add(session: Session, actor, owner_kind: str, owner_id: int, filename: str, data: bytes,
        *, check_permission: bool = True) -> Attachment:
    """Store a file and its text. The text is indexed with its listing."""
    if owner_kind in listings.KINDS:
        owner = listings.get(session, owner_kind, owner_id)
        if check_permission and actor is not None:
            perm.require(perm.can_edit_listing(actor, owner), "您只能为本单位的信息上传附件")
    elif owner_kind == "contract":
        contract = contracts.get_for(session, actor, owner_id)  # 404 unless visible
        if check_permission:
            perm.require(contracts.can_attach(actor, contract), "您不能为该合同上传附件")
    else:
        raise ValidationFailed(f"未知的附件归属：{owner_kind}")
    settings = get_settings()
    if not data:
        raise ValidationFailed("文件为空", field="file", code="empty_file")
    if len(data) > settings.max_upload_bytes:
        raise ValidationFailed(f"文件过大（最大 {settings.max_upload_bytes // (1024 * 1024)} MB）",
                               field="file", code="file_too_large")
    try:
        ctype, text = extract_text(data, filename)
    except ExtractionError as e:
        raise ValidationFailed(str(e), field="file", code="unreadable_file") from None
    if ctype not in ALLOWED:
        raise ValidationFailed("不支持的文件类型", field="file", code="unsupported_file")
    sha = hashlib.sha256(data).hexdigest()
    rel = Path("attachments") / owner_kind / str(owner_id) / f"{uuid.uuid4().hex[:12]}_{_safe_name(filename)}"
    path = settings.ensure_data_dir() / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)
    att = Attachment(owner_kind=owner_kind, owner_id=owner_id, filename=_safe_name(filename),
                     content_type=ctype, path=str(rel), size=len(data), sha256=sha,
                     extracted_text=text, uploaded_by_id=getattr(actor, "id", None))
    session.add(att)
    session.flush()
    # If the transaction rolls back, the file must not linger.
    session.info.setdefault("techmatch_files_on_rollback", []).append(path)
    audit.record(session, actor, "attachment.add", owner_kind, owner_id, {"file": att.filename, "size": att.size})
    if owner_kind in listings.KINDS:
        hooks.after_commit(session, "techmatch.index_listing", owner_kind, owner_id)
    return att


def get(session: Session, attachment_id: int) -> Attachment:
    att = get_or_404(session, Attachment, attachment_id, "附件不存在")
    return att


def get_for_download(session: Session, viewer, attachment_id: int) -> tuple[Attachment, Path]:
    att = get(session, attachment_id)
    if att.owner_kind in listings.KINDS:
        listings.get_for(session, viewer, att.owner_kind, att.owner_id)  # 404 if not visible
    elif att.owner_kind == "contract":
        contracts.get_for(session, viewer, att.owner_id)  # parties, their broker, the bureau
    elif att.owner_kind == "registration":
        from core.registration import service as registration

        registration.get_for(session, viewer, att.owner_id)  # the applicant and the office
    else:
        perm.require(viewer is not None and perm.is_staff(viewer))
    path = get_settings().data_dir / att.path
    if not path.exists():
        raise NotFound("附件文件缺失")
    return att, path


def _cleanup_files(session, previous_transaction):
    if previous_transaction.parent is None:
        for p in session.info.pop("techmatch_files_on_rollback", []):
            Path(p).unlink(missing_ok=True)


def _forget_files(session):
    session.info.pop("techmatch_files_on_rollback", None)


from sqlalchemy import event  # noqa: E402
from sqlalchemy.orm import Session as _S  # noqa: E402

event.listen(_S, "after_soft_rollback", _cleanup_files)
event.listen(_S, "after_commit", _forget_files)
