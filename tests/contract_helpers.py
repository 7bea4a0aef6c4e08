"""Helpers shared by the contracts tests (imported as a top-level module by pytest's rootdir insertion)."""
from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

_serial = itertools.count(1)


def contract_data(**kw) -> dict:
    """A valid registration (off-platform parties) with overrides; 'reg' picks the year."""
    registered_on = kw.pop("registered_on", date(2026, 3, 15))
    d = dict(
        reg_number=f"{registered_on.year}330400{next(_serial):06d}",
        project_name="高镍三元正极材料包覆改性技术开发",
        contract_type="development", sub_type="entrusted",
        signed_on=kw.pop("signed_on", registered_on),
        registered_on=registered_on,
        seller={"name": "浙北理工大学", "region": "330106", "party_type": "university"},
        buyer={"name": "平湖锂想新能源有限公司", "region": "330482", "party_type": "enterprise"},
        total_amount=Decimal("1000000.00"), tech_amount=Decimal("800000.00"), field="新能源",
    )
    d.update(kw)
    return d
