"""Rule sets as versioned data, keyed by their document number (文号).

Each ``rulesets/*.json`` file is one version of one rule set. A revision (for example
国科发政〔2022〕67号 for 科技型中小企业) is added as another file beside the old one; the engine
reads every threshold, tier and point band from the data, so no code branches on the version.
By default the version in force on the application date is used (latest ``effective_from``
not after it); a caller may name a document number explicitly.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from core.errors import ValidationFailed

RULESET_DIR = Path(__file__).with_name("rulesets")
KINDS = {"sme": "科技型中小企业", "hnte": "高新技术企业"}


@dataclass(frozen=True)
class RuleSet:
    kind: str
    document: str
    title: str
    effective_from: date
    data: dict

    def __getitem__(self, key):
        return self.data[key]

    @property
    def citation(self) -> str:
        return f"《{self.title}》（{self.document}）"


@lru_cache(maxsize=1)
def all_rulesets() -> dict[str, RuleSet]:
    out = {}
    for path in sorted(RULESET_DIR.glob("*.json")):
        raw = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
        rs = RuleSet(raw["kind"], raw["document"], raw["title"],
                     date.fromisoformat(raw["effective_from"]), raw)
        if rs.document in out:
            raise RuntimeError(f"duplicate rule set {rs.document} in {path.name}")
        out[rs.document] = rs
    return out


def get(document: str) -> RuleSet:
    try:
        return all_rulesets()[document]
    except KeyError:
        raise ValidationFailed(f"未知的评价依据：{document}", field="ruleset") from None


def in_force(kind: str, on: date, document: str | None = None) -> RuleSet:
    """The rule set of ``kind`` in force on ``on`` (or the named one)."""
    if document:
        rs = get(document)
        if rs.kind != kind:
            raise ValidationFailed(f"{document} 不是{KINDS[kind]}的评价依据", field="ruleset")
        return rs
    candidates = [r for r in all_rulesets().values() if r.kind == kind and r.effective_from <= on]
    if not candidates:
        raise ValidationFailed(f"{on.isoformat()} 时没有生效的{KINDS[kind]}评价依据", field="application_date")
    return max(candidates, key=lambda r: r.effective_from)
