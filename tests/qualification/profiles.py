"""Profile builders for the qualification tests (amounts in 万元 strings, as the input format)."""
from __future__ import annotations

import copy

BASE = {
    "id": "base", "name": "测试企业", "evaluation_year": 2026, "application_date": "2026-06-15",
    "registered_on": "2015-03-20", "resident": True, "employees": 100, "tech_staff": 30,
    "sales": {"2023": "3200.00", "2024": "3600.00", "2025": "4000.00"},
    "rd_expense": {"2023": "200.00", "2024": "200.00", "2025": "240.00"},
    "rd_expense_domestic": {"2023": "200.00", "2024": "200.00", "2025": "240.00"},
    "net_assets": {"2023": "1000.00", "2024": "1200.00", "2025": "1500.00"},
    "total_assets": "5200.00", "total_costs": "3500.00", "hitech_income": "2800.00", "total_income": "4100.00",
    "ip_class1": 1, "ip_class2": 2, "conversions": {"2023": 2, "2024": 2, "2025": 2}, "field_supported": True,
    "hnte_certificate_valid": False, "national_award_top3_5y": False, "provincial_rd_institution": False,
    "led_standard_5y": False, "prohibited_products": False, "major_incident": False, "on_blacklist": False,
}


def raw(**changes) -> dict:
    """BASE with top-level changes; yearly dicts replace the whole dict."""
    out = copy.deepcopy(BASE)
    out.update(changes)
    return out


def profile(**changes):
    from core.qualification.schemas import profile_from_dict

    return profile_from_dict(raw(**changes))
