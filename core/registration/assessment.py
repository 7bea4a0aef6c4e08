"""核定技术交易额: the total less the itemised non-technical costs (equipment, instruments, parts,
materials…), except the direct cost of a reasonable quantity of deliverables. Exact, in integer fen."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from core.errors import ValidationFailed
from core.money import fen_to_yuan, yuan_to_fen


@dataclass(frozen=True)
class Line:
    amount: Decimal
    deliverable: bool  # the direct cost of a reasonable quantity of deliverables: not deducted


@dataclass(frozen=True)
class Assessment:
    total_fen: int
    deducted_fen: int
    kept_fen: int  # deliverables' costs kept in the 技术交易额

    @property
    def tech_fen(self) -> int:
        return self.total_fen - self.deducted_fen

    @property
    def tech_amount(self) -> Decimal:
        return fen_to_yuan(self.tech_fen)

    @property
    def deducted(self) -> Decimal:
        return fen_to_yuan(self.deducted_fen)


def assess(total: Decimal, lines: Iterable[Line]) -> Assessment:
    total_fen = yuan_to_fen(total)
    deducted = kept = 0
    for line in lines:
        fen = yuan_to_fen(line.amount)
        if fen < 0:
            raise ValidationFailed("非技术性费用不能为负数", field="costs")
        if line.deliverable:
            kept += fen
        else:
            deducted += fen
    if deducted > total_fen:
        raise ValidationFailed("扣除的非技术性费用超过合同成交额", field="costs", code="deductions_exceed_total")
    return Assessment(total_fen, deducted, kept)


def office_lines(costs) -> list[Line]:
    """The office's view of the application's costs (its rulings, else the applicant's)."""
    return [Line(c.office_amount if c.office_amount is not None else c.amount,
                 c.office_deliverable if c.office_deliverable is not None else c.deliverable) for c in costs]
