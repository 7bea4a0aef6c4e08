"""Extracted page fields -> AchievementIn / ProblemIn, leniently.

A crawled page is not a form: a value the platform cannot use (an unknown 领域, a phone
number in an odd format) is dropped, not fatal; a missing required value falls back to the
source's ``defaults``; what still fails validation makes the page skipped, with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import ValidationError

from core.errors import validation_failed_from_pydantic
from core.imports import values as V
from core.listings.kinds import KINDS
from core.listings.schemas import AchievementIn, ProblemIn
from core.validation import check_credit_code, check_phone

# Fields a source may declare, per kind (besides title/body/owner/date/attachments).
TEXT_FIELDS = {
    "achievement": ("abstract", "body"),
    "problem": ("description", "indicators", "conditions"),
}


class MappingError(ValueError):
    pass


@dataclass
class Mapped:
    kind: str
    data: AchievementIn | ProblemIn
    owner_name: str | None = None
    owner_credit_code: str | None = None
    published_on: str | None = None
    dropped: list[str] = field(default_factory=list)  # values ignored, for the log

    def main_text(self) -> str:
        return KINDS[self.kind].main_text(self.data)


def _text(v) -> str:
    if v is None:
        return ""
    if isinstance(v, list):
        return "\n".join(str(x) for x in v)
    return str(v).strip()


def _first(raw: dict, *names):
    for n in names:
        if not V.is_blank(raw.get(n)) and raw.get(n) != []:
            return raw.get(n)
    return None


def map_fields(kind: str, raw: dict, *, defaults: dict, field_map: dict, region: str) -> Mapped:
    """Raises MappingError with a Chinese reason when the page cannot become a listing."""
    dropped: list[str] = []
    merged = {k: v for k, v in defaults.items()}
    merged.update({k: v for k, v in raw.items() if not V.is_blank(v) and v != []})

    title = _text(merged.get("title"))[:200]
    data: dict = {"title": title}

    try:
        data["region"] = V.parse_region(merged["region"]) if merged.get("region") else region
    except ValueError as e:
        dropped.append(f"region: {e}")
        data["region"] = region

    data["fields"] = V.parse_fields(merged.get("fields"), field_map, strict=False)[:5]
    if merged.get("fields") and not data["fields"]:
        dropped.append(f"fields: {merged.get('fields')}")
    data["keywords"] = [k[:30] for k in V.split_list(merged.get("keywords"))][:20]

    contact_name = _text(merged.get("contact_name"))[:50]
    data["contact_name"] = contact_name
    phone = _text(merged.get("contact_phone"))
    if phone:
        try:
            data["contact_phone"] = check_phone(phone)
        except ValueError:
            dropped.append(f"contact_phone: {phone}")

    body = _text(merged.get("body"))
    if kind == "achievement":
        abstract = _text(merged.get("abstract")) or body[:500]
        data.update(abstract=abstract[:20000], body=body if body != abstract else "")
        if merged.get("maturity"):
            try:
                data["maturity"] = V.parse_maturity(merged["maturity"])
            except ValueError:
                dropped.append(f"maturity: {merged['maturity']}")
                if defaults.get("maturity"):
                    data["maturity"] = V.parse_maturity(defaults["maturity"])
        if merged.get("trl"):
            try:
                data["trl"] = V.parse_int(merged["trl"])
            except ValueError:
                dropped.append(f"trl: {merged['trl']}")
        data["transfer_modes"] = V.parse_transfer_modes(merged.get("transfer_modes"), strict=False)
        if merged.get("asking_price"):
            try:
                data["asking_price"] = V.parse_money(merged["asking_price"])
            except ValueError:
                dropped.append(f"asking_price: {merged['asking_price']}")
        data["inventors"] = [n[:50] for n in V.split_list(merged.get("inventors"))][:30]
        if merged.get("patents"):
            try:
                data["patents"] = V.parse_patents(merged["patents"])[:50]
            except ValueError:
                dropped.append(f"patents: {merged['patents']}")
        schema = AchievementIn
    else:
        description = _text(merged.get("description")) or body
        data.update(description=description[:20000], indicators=_text(merged.get("indicators"))[:20000],
                    conditions=_text(merged.get("conditions"))[:20000])
        data["coop_modes"] = V.parse_coop_modes(merged.get("coop_modes"), strict=False)
        for key, target in (("budget_min", "budget_min"), ("budget_max", "budget_max"), ("budget", "budget_max")):
            if merged.get(key) and target not in data:
                try:
                    data[target] = V.parse_money(merged[key])
                except ValueError:
                    dropped.append(f"{key}: {merged[key]}")
        if merged.get("deadline"):
            try:
                data["deadline"] = V.parse_date(merged["deadline"])
            except ValueError:
                dropped.append(f"deadline: {merged['deadline']}")
        schema = ProblemIn

    try:
        obj = schema(**data)
    except ValidationError as e:
        # A TRL inconsistent with the maturity is the site's mistake: drop the TRL, retry.
        if kind == "achievement" and "trl" in data and any("TRL" in str(x.get("msg", "")) for x in e.errors()):
            dropped.append(f"trl: {data.pop('trl')}")
            try:
                obj = schema(**data)
            except ValidationError as e2:
                raise MappingError(validation_failed_from_pydantic(e2).message) from None
        else:
            raise MappingError(validation_failed_from_pydantic(e).message) from None

    code = _text(merged.get("owner_credit_code")).upper() or None
    if code:
        try:
            code = check_credit_code(code)
        except ValueError:
            dropped.append(f"owner_credit_code: {code}")
            code = None
    return Mapped(kind=kind, data=obj, owner_name=_text(merged.get("owner")) or None,
                  owner_credit_code=code, published_on=V.find_date(_text(merged.get("date"))),
                  dropped=dropped)
