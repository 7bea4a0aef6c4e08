"""How each listing kind is shaped: its model, label, statuses, and which of its fields carry
text, maturity, modes and money. The one place that maps a problem or an achievement to its parts;
fingerprints, the index document, the matcher's profile, dedup and the crawler's mapping use it."""
from __future__ import annotations

from dataclasses import dataclass

from core.errors import ValidationFailed
from core.listings.vocab import (
    ACHIEVEMENT_TRANSITIONS,
    PROBLEM_TRANSITIONS,
    AchievementStatus,
    CoopMode,
    ProblemStatus,
    TransferMode,
)
from core.models import Achievement, TechProblem


@dataclass(frozen=True)
class KindSpec:
    kind: str
    model: type
    label: str
    transitions: dict[str, set[str]]
    statuses: type
    #: the text fields after the title, main one first (description / abstract)
    text_fields: tuple[str, ...]
    maturity_field: str
    modes_field: str
    modes: type
    #: amounts that are matching-relevant (budget / asking price)
    money_fields: tuple[str, ...]

    @staticmethod
    def _get(obj, name):
        return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)

    def texts(self, obj) -> list[str]:
        """The text fields' values, in order ('' for none)."""
        return [self._get(obj, f) or "" for f in self.text_fields]

    def body(self, obj) -> str:
        """The text fields joined, empty ones left out."""
        return "\n".join(t for t in self.texts(obj) if t)

    def main_text(self, obj) -> str:
        """Title and every text field, one per line (what dedup compares)."""
        return "\n".join([self._get(obj, "title") or "", *self.texts(obj)])

    def maturity(self, obj) -> str | None:
        return self._get(obj, self.maturity_field)

    def mode_values(self, obj) -> list[str]:
        return list(self._get(obj, self.modes_field) or [])

    def money(self, obj) -> list:
        return [self._get(obj, f) for f in self.money_fields]


KINDS: dict[str, KindSpec] = {
    "problem": KindSpec("problem", TechProblem, "技术需求", PROBLEM_TRANSITIONS, ProblemStatus,
                        ("description", "indicators", "conditions"), "required_maturity", "coop_modes", CoopMode,
                        ("budget_min", "budget_max")),
    "achievement": KindSpec("achievement", Achievement, "科技成果", ACHIEVEMENT_TRANSITIONS, AchievementStatus,
                            ("abstract", "body"), "maturity", "transfer_modes", TransferMode, ("asking_price",)),
}


def spec(kind: str) -> KindSpec:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValidationFailed(f"未知的类型：{kind}", field="kind") from None
