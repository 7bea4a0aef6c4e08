"""Rule sets of 技术合同认定登记 (deadlines, expert-review threshold) as versioned data.

The data lives in ``rules.json`` beside this module; each application stores the code of the rule
set it was submitted under, so a later change of the default never moves an old deadline.
The default is the setting ``registration_rule_set`` when set, else the file's ``default``.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from core.errors import ValidationFailed
from core.money import fen_to_yuan
from core.registration import workdays

_FILE = Path(__file__).with_name("rules.json")


@dataclass(frozen=True)
class RuleSet:
    code: str
    name: str
    basis: str
    deadline_kind: str  # "calendar" or "working"
    deadline_days: int
    expert_deadline_days: int
    expert_threshold_fen: int | None  # None: expert review only when disputed

    @property
    def expert_threshold(self) -> Decimal | None:
        return None if self.expert_threshold_fen is None else fen_to_yuan(self.expert_threshold_fen)

    def needs_expert_review(self, tech_amount: Decimal | None, disputed: bool) -> bool:
        if disputed:
            return True
        if self.expert_threshold_fen is None or tech_amount is None:
            return False
        return int(tech_amount * 100) >= self.expert_threshold_fen

    def days(self, expert: bool) -> int:
        return self.expert_deadline_days if expert else self.deadline_days

    def due_date(self, accepted_on: date, expert: bool) -> workdays.Due:
        """The last day of the office's time limit, counted from the day after acceptance."""
        n = self.days(expert)
        if self.deadline_kind == "working":
            return workdays.add_working_days(accepted_on, n)
        return workdays.add_calendar_days(accepted_on, n)

    def days_left(self, today: date, due: date) -> int:
        """Days left until ``due`` in this rule set's unit (negative: overdue by that many)."""
        if self.deadline_kind == "working":
            return workdays.working_days_left(today, due)
        return (due - today).days

    @property
    def unit(self) -> str:
        return "个工作日" if self.deadline_kind == "working" else "日"


@functools.lru_cache(maxsize=1)
def _load() -> tuple[str, dict[str, RuleSet]]:
    raw = json.loads(_FILE.read_text(encoding="utf-8"))
    sets = {r["code"]: RuleSet(**r) for r in raw["rule_sets"]}
    return raw["default"], sets


def all_rule_sets() -> list[RuleSet]:
    return list(_load()[1].values())


def get(code: str) -> RuleSet:
    sets = _load()[1]
    if code not in sets:
        raise ValidationFailed(f"认定登记规则“{code}”不存在，可选：{'、'.join(sets)}", field="rule_set")
    return sets[code]


def current() -> RuleSet:
    from core.settings import get_settings

    code = get_settings().registration_rule_set or _load()[0]
    return get(code)
