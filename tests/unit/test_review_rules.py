"""The quarterly access review's calendar (server/domain/reviews.py)."""

from __future__ import annotations

from datetime import date

from server.domain.reviews import overdue_quarter, quarter_end, quarter_of, quarter_start


def test_quarters_run_january_april_july_october():
    assert [quarter_of(date(2026, m, 15)) for m in (1, 3, 4, 6, 7, 9, 10, 12)] == [
        "2026-Q1", "2026-Q1", "2026-Q2", "2026-Q2", "2026-Q3", "2026-Q3", "2026-Q4", "2026-Q4"]
    assert quarter_start("2026-Q4") == date(2026, 10, 1)
    assert [quarter_end(q) for q in ("2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4")] == [
        date(2026, 3, 31), date(2026, 6, 30), date(2026, 9, 30), date(2026, 12, 31)]


def test_the_previous_quarter_is_overdue_from_the_next_ones_first_day_unless_signed():
    since = date(2026, 4, 1)
    assert overdue_quarter(date(2026, 12, 31), set(), since) == "2026-Q3"  # Q4 is still due
    assert overdue_quarter(date(2027, 1, 1), set(), since) == "2026-Q4"
    assert overdue_quarter(date(2027, 1, 1), {"2026-Q4"}, since) is None


def test_a_quarter_before_the_office_started_is_never_overdue():
    assert overdue_quarter(date(2027, 1, 5), set(), since=date(2027, 1, 2)) is None
