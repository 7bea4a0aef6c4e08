"""Unit tests: working-day deadlines across holiday shifts (调休), the 核定 arithmetic in exact fen,
eligibility flags, the rule sets and the office chain."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from core.errors import ValidationFailed
from core.registration import assessment, eligibility, jurisdiction, rules, workdays


def test_working_days_skip_national_day_and_count_the_shifted_saturday():
    # 2026 国庆: 10-01..10-07 off; Saturday 10-10 is a working day (调休).
    due = workdays.add_working_days(date(2026, 9, 29), 3)
    assert due == workdays.Due(date(2026, 10, 9), True)  # 09-30, 10-08, 10-09
    due = workdays.add_working_days(date(2026, 10, 9), 1)
    assert due.on == date(2026, 10, 10)  # the shifted Saturday is a working day
    assert workdays.add_working_days(date(2026, 10, 10), 1).on == date(2026, 10, 12)


def test_spring_festival_2026_shift():
    # 2026 春节: 02-15..02-23 off; Saturday 02-14 and Saturday 02-28 are working days.
    assert workdays.is_working_day(date(2026, 2, 14)) == (True, True)
    assert workdays.is_working_day(date(2026, 2, 16)) == (False, True)
    assert workdays.add_working_days(date(2026, 2, 13), 2).on == date(2026, 2, 24)


def test_fifteen_working_days_from_acceptance_2024_draft():
    rs = rules.get("2024-draft")
    due = rs.due_date(date(2026, 9, 25), expert=False)
    # 9-28,29,30 (3) 10-8,9,10 (6) 12..16 (11) 19..22 (15)
    assert due.on == date(2026, 10, 22) and due.official
    assert rs.due_date(date(2026, 9, 25), expert=True).on > due.on
    assert rs.days_left(date(2026, 10, 9), due.on) == 10  # 10-10, 10-12..16, 10-19..22
    assert rs.days_left(date(2026, 10, 23), due.on) == -1
    assert rs.days_left(due.on, due.on) == 0


def test_2000_rules_count_calendar_days_and_have_no_threshold():
    rs = rules.get("2000")
    assert rs.due_date(date(2026, 9, 25), expert=False).on == date(2026, 10, 25)
    assert not rs.needs_expert_review(Decimal("90000000.00"), disputed=False)
    assert rs.needs_expert_review(Decimal("1.00"), disputed=True)


def test_threshold_is_inclusive_at_500_wan():
    rs = rules.get("2024-draft")
    assert rs.expert_threshold == Decimal("5000000.00")
    assert rs.needs_expert_review(Decimal("5000000.00"), disputed=False)
    assert not rs.needs_expert_review(Decimal("4999999.99"), disputed=False)


def test_beyond_the_published_calendar_falls_back_to_weekdays_and_says_so():
    due = workdays.add_working_days(date(2026, 12, 28), 5)
    assert due.on.year == 2027 and due.official is False


def test_unknown_rule_set_is_refused():
    with pytest.raises(ValidationFailed):
        rules.get("1987")


def test_assessment_in_exact_fen():
    lines = [assessment.Line(Decimal("0.10"), False), assessment.Line(Decimal("0.20"), False),
             assessment.Line(Decimal("123456.78"), True)]
    a = assessment.assess(Decimal("1000000.00"), lines)
    assert a.deducted_fen == 30 and a.kept_fen == 12345678
    assert a.tech_amount == Decimal("999999.70")  # 0.1 + 0.2 deducted exactly
    with pytest.raises(ValidationFailed):
        assessment.assess(Decimal("10.00"), [assessment.Line(Decimal("10.01"), False)])
    assert assessment.assess(Decimal("10.00"), [assessment.Line(Decimal("10.00"), False)]).tech_amount == 0


def test_vat_flags():
    assert eligibility.vat("transfer").eligible is True
    assert eligibility.vat("development").eligible is True
    assert eligibility.vat("license").eligible is True
    assert eligibility.vat("consulting").eligible is False
    assert eligibility.vat("service", related_type="development").eligible is True
    assert eligibility.vat("service", related_type="service").eligible is False


def test_cit_flags():
    assert eligibility.cit("transfer", "patent", None, False).eligible is True
    assert eligibility.cit("license", "software_copyright", 5, False).eligible is True
    assert eligibility.cit("license", "software_copyright", 4, False).eligible is False
    assert eligibility.cit("transfer", "patent", None, True).eligible is False  # 100% common control
    assert eligibility.cit("transfer", "know_how", None, False).eligible is False
    assert eligibility.cit("development", "patent", None, False).eligible is False
    assert eligibility.cit("transfer", "patent", None, None).eligible is None  # relationship not declared
    assert eligibility.cit("transfer", None, None, False).eligible is None


def test_local_conversion_levels():
    assert eligibility.local_level("330421", "330421") == "county"
    assert eligibility.local_level("330421", "330482") == "city"
    assert eligibility.local_level("330421", "330106") == "province"
    assert eligibility.local_level("330421", "320102") is None


def test_license_years_include_the_last_day():
    assert eligibility.license_years_of(date(2026, 1, 1), date(2030, 12, 31)) == 5
    assert eligibility.license_years_of(date(2026, 1, 1), date(2030, 12, 30)) == 4


def test_office_chain_is_county_city_province():
    assert jurisdiction.office_chain("330421") == ["330421", "330400", "330000"]
    assert jurisdiction.office_chain("330400") == ["330400", "330000"]
