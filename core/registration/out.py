"""Serialization of applications for the API and the pages (labels, deadline, eligibility, history)."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from core import regions
from core.contracts.vocab import ContractSubType, ContractType, PartyType
from core.db import local_today
from core.models import Attachment, Contract, Organization, User
from core.registration import assessment, rules
from core.registration import service as reg
from core.registration.vocab import (
    AppStatus,
    CostCategory,
    EventKind,
    ExpertConclusion,
    IpObject,
    LicenseScope,
    RefusalCode,
)


def to_dict(session: Session, app, viewer=None, today: date | None = None) -> dict:
    rs = rules.get(app.rule_set)
    today = today or local_today()
    left = rs.days_left(today, app.due_on) if app.due_on and app.status in ("reviewing", "expert_review") else None
    office = session.get(Organization, app.office_org_id) if app.office_org_id else None
    try:
        a = assessment.assess(app.total_amount, assessment.office_lines(app.costs))
        proposed = a.tech_amount
    except Exception:  # noqa: BLE001 - shown as missing by the completeness check
        proposed = None
    contract = session.get(Contract, app.contract_id) if app.contract_id else None
    names: dict[int, str] = {}

    def actor(uid):
        if uid is None:
            return "系统"
        if uid not in names:
            u = session.get(User, uid)
            names[uid] = (u.name or u.email) if u else str(uid)
        return names[uid]

    files = [{"id": f.id, "filename": f.filename, "size": f.size}
             for f in session.query(Attachment).filter(Attachment.owner_kind == "registration",
                                                       Attachment.owner_id == app.id)]
    return {
        "id": app.id, "status": app.status, "status_label": AppStatus(app.status).label,
        "rule_set": {"code": rs.code, "name": rs.name, "basis": rs.basis, "unit": rs.unit,
                     "expert_threshold": rs.expert_threshold},
        "office": {"org_id": app.office_org_id, "name": office.name if office else None,
                   "region": app.office_region},
        "on_behalf": app.on_behalf, "applicant": actor(app.applicant_id),
        "project_name": app.project_name, "contract_type": app.contract_type,
        "contract_type_label": ContractType.label_of(app.contract_type), "sub_type": app.sub_type,
        "sub_type_label": ContractSubType.label_of(app.sub_type), "signed_on": app.signed_on,
        "valid_from": app.valid_from, "valid_to": app.valid_to, "field": app.field, "ip_type": app.ip_type,
        "ip_object": app.ip_object, "ip_object_label": IpObject.label_of(app.ip_object),
        "seller": {"org_id": app.seller_org_id, "name": app.seller_name, "region": app.seller_region,
                   "region_name": regions.full_name(app.seller_region),
                   "party_type_label": PartyType.label_of(app.seller_type)},
        "buyer": {"org_id": app.buyer_org_id, "name": app.buyer_name, "region": app.buyer_region,
                  "region_name": regions.full_name(app.buyer_region) if app.buyer_region else "",
                  "party_type": app.buyer_type, "party_type_label": PartyType.label_of(app.buyer_type)},
        "common_control": app.common_control, "total_amount": app.total_amount, "tech_amount": app.tech_amount,
        "proposed_tech_amount": proposed, "expected_investment": app.expected_investment,
        "expected_output": app.expected_output, "license_years": app.license_years,
        "license_scope": app.license_scope, "license_scope_label": LicenseScope.label_of(app.license_scope),
        "related_reg_number": app.related_reg_number, "contract_text": app.contract_text, "note": app.note,
        "match_id": app.match_id, "files": files,
        "costs": [{"id": c.id, "category": c.category, "category_label": CostCategory.label_of(c.category),
                   "description": c.description, "amount": c.amount, "deliverable": c.deliverable,
                   "office_deliverable": c.office_deliverable, "office_amount": c.office_amount} for c in app.costs],
        "disputed": app.disputed, "expert_required": app.expert_required,
        "experts": [{"id": r.id, "expert_name": r.expert_name, "affiliation": r.affiliation,
                     "conclusion": r.conclusion, "conclusion_label": ExpertConclusion.label_of(r.conclusion),
                     "opinion": r.opinion, "answered_at": r.answered_at} for r in app.experts],
        "refusal_code": app.refusal_code, "refusal_label": RefusalCode.label_of(app.refusal_code),
        "refusal_reason": app.refusal_reason, "return_note": app.return_note,
        "submitted_at": app.submitted_at, "accepted_on": app.accepted_on, "due_on": app.due_on,
        "due_official": app.due_official, "days_left": left, "overdue": left is not None and left < 0,
        "decided_on": app.decided_on,
        "contract": ({"id": contract.id, "reg_number": contract.reg_number, "status": contract.status}
                     if contract else None),
        "missing": reg.missing_items(session, app) if app.status in ("draft", "returned") else [],
        "eligibility": reg.eligibility_of(session, app),
        "history": [{"kind": e.kind, "kind_label": EventKind.label_of(e.kind), "actor": actor(e.actor_id),
                     "note": e.note, "changes": e.changes, "at": e.at} for e in app.events],
        "can_edit": viewer is not None and reg.is_applicant(viewer, app) and app.status in ("draft", "returned"),
        "can_review": viewer is not None and reg.can_review(viewer, app),
    }
