"""Working days on the official calendar of the State Council (法定节假日 and 调休), kept by the
``chinese-calendar`` package. Years the package does not cover yet (the calendar is published each
November for the next year) fall back to Monday–Friday and the result says so (``official=False``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar


@dataclass(frozen=True)
class Due:
    on: date
    official: bool  # False: part of the count used Monday–Friday outside the published calendar


def is_working_day(d: date) -> tuple[bool, bool]:
    """(is a working day, from the official calendar)."""
    try:
        return chinese_calendar.is_workday(d), True
    except NotImplementedError:
        return d.weekday() < 5, False


def add_working_days(start: date, n: int) -> Due:
    """The n-th working day after ``start`` (``start`` itself not counted)."""
    if n < 0:
        raise ValueError("n must be >= 0")
    d, count, official = start, 0, True
    while count < n:
        d += timedelta(days=1)
        work, known = is_working_day(d)
        official = official and known
        if work:
            count += 1
    return Due(d, official)


def add_calendar_days(start: date, n: int) -> Due:
    return Due(start + timedelta(days=n), True)


def working_days_left(today: date, due: date) -> int:
    """Working days after ``today`` up to and including ``due``; negative when ``due`` has passed
    (minus the working days after ``due`` up to and including ``today``)."""
    if today <= due:
        return _count(today, due)
    return -_count(due, today)


def _count(a: date, b: date) -> int:
    """Working days in (a, b]."""
    n, d = 0, a
    while d < b:
        d += timedelta(days=1)
        if is_working_day(d)[0]:
            n += 1
    return n
