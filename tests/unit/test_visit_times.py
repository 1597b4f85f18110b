"""Reception's time rules and the 和暦 a ledger is printed with."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.domain.visits import first_closing_after, in_window, visit_window, walk_in_window
from server.wareki import era_year, wareki
from server.web.csv_export import safe_cell, to_csv

TOKYO = ZoneInfo("Asia/Tokyo")
DAY = date(2026, 11, 27)
OPEN, CLOSE = time(8, 30), time(18, 0)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=TOKYO)


def test_expected_visitor_may_come_an_hour_early_until_closing():
    assert visit_window(DAY, time(10, 0), opening=OPEN, closing=CLOSE, zone=TOKYO) == (at(9), at(18))


def test_no_expected_time_means_opening_to_closing():
    assert visit_window(DAY, None, opening=OPEN, closing=CLOSE, zone=TOKYO) == (at(8, 30), at(18))


def test_a_visitor_expected_late_keeps_two_hours():
    assert visit_window(DAY, time(17, 30), opening=OPEN, closing=CLOSE, zone=TOKYO) == (at(16, 30), at(19, 30))


def test_an_early_expected_visitor_still_waits_for_opening_time():
    assert visit_window(DAY, time(9, 0), opening=OPEN, closing=CLOSE, zone=TOKYO) == (at(8, 30), at(18))


def test_walk_in_until_closing_or_two_hours_after_it():
    start, end = walk_in_window(at(10), opening=OPEN, closing=CLOSE, zone=TOKYO)
    assert (start, end) == (at(9, 55), at(18))
    assert walk_in_window(at(19), opening=OPEN, closing=CLOSE, zone=TOKYO) == (at(18, 55), at(21))


def test_a_walk_in_registered_before_opening_gets_in_only_from_opening_time():
    """The 06:18 tap: registered at 06:13, the badge worked from 06:08, before the office opened."""
    start, end = walk_in_window(at(6, 13), opening=OPEN, closing=CLOSE, zone=TOKYO)
    assert (start, end) == (at(8, 30), at(18))
    assert not in_window(at(6, 18), start, end)


@pytest.mark.parametrize(("moment", "inside"), [(at(8, 59), False), (at(9), True), (at(18), True),
                                                (at(18, 0) + timedelta(seconds=1), False)])
def test_window_edges(moment, inside):
    assert in_window(moment, at(9), at(18)) is inside


def test_no_window_is_always_open():
    assert in_window(at(3), None, None)


def test_the_closing_that_ends_a_day():
    assert first_closing_after(at(10), CLOSE, TOKYO) == at(18)
    assert first_closing_after(at(18, 30), CLOSE, TOKYO) == at(18, day=DAY + timedelta(days=1))


@pytest.mark.parametrize(("day", "text"), [
    (date(2026, 11, 27), "令和8年11月27日"), (date(2019, 5, 1), "令和元年5月1日"), (date(2019, 4, 30), "平成31年4月30日"),
    (date(1989, 1, 8), "平成元年1月8日"), (date(1989, 1, 7), "昭和64年1月7日")])
def test_wareki(day, text):
    assert wareki(day) == text


def test_wareki_with_weekday_and_era_year():
    assert wareki(DAY, weekday=True) == "令和8年11月27日（金）"
    assert era_year(DAY) == ("令和", 8)


@pytest.mark.parametrize("value", ["=1+1", "+81", "-3", "@SUM(A1)", "\t=x"])
def test_a_cell_that_starts_like_a_formula_is_text(value):
    assert safe_cell(value) == "'" + value


def test_csv_bytes_are_what_excel_needs():
    data = to_csv(["氏名", "所属"], [["髙橋 一郎", "練馬区"], [None, "a,b"]])
    assert data == '\ufeff"氏名","所属"\r\n"髙橋 一郎","練馬区"\r\n"","a,b"\r\n'.encode()
