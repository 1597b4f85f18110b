"""The quarterly access review: which quarter a day is in, and which quarter's review is overdue."""

from __future__ import annotations

from datetime import date


def quarter_of(day: date) -> str:
    """2026-Q4 for any day of October to December 2026."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarter_start(quarter: str) -> date:
    year, q = int(quarter[:4]), int(quarter[-1])
    return date(year, 3 * (q - 1) + 1, 1)


def quarter_end(quarter: str) -> date:
    """The last day of the quarter: its review is due by then."""
    year, q = int(quarter[:4]), int(quarter[-1])
    if q == 4:
        return date(year, 12, 31)
    first_of_next = date(year, 3 * q + 1, 1)
    return date.fromordinal(first_of_next.toordinal() - 1)


def overdue_quarter(today: date, signed: set[str], since: date) -> str | None:
    """The quarter before today's, if it is unsigned and the office already ran in it (`since`: its first day)."""
    last_day_before = date.fromordinal(quarter_start(quarter_of(today)).toordinal() - 1)
    previous = quarter_of(last_day_before)
    if previous in signed or last_day_before < since:
        return None
    return previous
