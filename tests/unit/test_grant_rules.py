"""Who may open which cabinet, and when (server/domain/grants.py), and the offline list's side of it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from gateway import protocol
from server.domain.grants import (
    Grant,
    OneOff,
    Slot,
    closed_days_between,
    closed_reason,
    parse_hours,
    refusal,
    stored_hours,
)

TOKYO = ZoneInfo("Asia/Tokyo")
WEEKDAYS_8_19 = tuple(Slot(d, time(8), time(19)) for d in range(5))
SATURDAY = date(2026, 12, 5)
EXCEPTION = OneOff(SATURDAY, time(9), time(12), "登記の締切前の書類整理")
HANAKO, JIRO, SABURO = 1, 2, 3


def at(*args) -> datetime:
    return datetime(*args, tzinfo=TOKYO)


def grants(**changes) -> list[Grant]:
    base = {"cabinet_id": "folders", "role": None, "slots": WEEKDAYS_8_19, "one_offs": (EXCEPTION,), **changes}
    return [Grant(1, person_id=HANAKO, **base), Grant(2, person_id=JIRO, **base)]


def judge(person: int, when: datetime, *, own: frozenset[date] = frozenset(), roles=(), given=None) -> str | None:
    return refusal(given if given is not None else grants(), person_id=person, roles=roles, at=when, zone=TOKYO,
                   own_closed=own)


def test_the_two_granted_surveyors_open_on_a_weekday_within_the_hours():
    assert judge(HANAKO, at(2026, 12, 3, 8, 0)) is None
    assert judge(JIRO, at(2026, 12, 3, 18, 59)) is None


def test_a_third_surveyor_without_a_grant_is_refused_with_no_grant():
    assert judge(SABURO, at(2026, 12, 3, 10)) == "no_grant"


def test_twenty_oclock_and_before_eight_are_outside_the_hours():
    assert judge(HANAKO, at(2026, 12, 3, 20, 0)) == "outside_hours"
    assert judge(HANAKO, at(2026, 12, 3, 19, 0)) == "outside_hours"  # the end is not included
    assert judge(HANAKO, at(2026, 12, 3, 7, 59)) == "outside_hours"


def test_the_hours_are_office_time_whatever_zone_the_tap_is_stamped_in():
    assert judge(HANAKO, datetime(2026, 12, 3, 10, 30, tzinfo=UTC)) == "outside_hours"  # 19:30 in Tokyo
    assert judge(HANAKO, datetime(2026, 12, 3, 0, 30, tzinfo=UTC)) is None  # 09:30 in Tokyo


def test_a_public_holiday_from_the_library_closes_a_weekday():
    culture_day = date(2026, 11, 3)  # 文化の日, a Tuesday
    assert culture_day.weekday() == 1 and closed_reason(culture_day) == "holiday"
    assert judge(HANAKO, at(2026, 11, 3, 10)) == "outside_hours"
    assert closed_reason(date(2027, 3, 22)) == "holiday"  # 振替休日 of 春分の日 2027: not a hand-typed list
    assert judge(HANAKO, at(2026, 11, 4, 10)) is None


@pytest.mark.parametrize("day", [date(2026, 12, 29), date(2026, 12, 31), date(2027, 1, 2), date(2027, 1, 3)])
def test_the_year_end_closing_is_closed_even_on_weekdays(day):
    assert closed_reason(day) == "year_end"
    assert judge(HANAKO, at(day.year, day.month, day.day, 10)) == "outside_hours"


def test_the_offices_own_closed_day_closes_it():
    own = frozenset({date(2026, 12, 4)})
    assert closed_reason(date(2026, 12, 4), own) == "office"
    assert judge(HANAKO, at(2026, 12, 4, 10), own=own) == "outside_hours"


def test_the_saturday_exception_opens_within_its_hours_only():
    assert judge(HANAKO, at(2026, 12, 5, 9, 0)) is None
    assert judge(HANAKO, at(2026, 12, 5, 12, 0)) == "outside_hours"
    assert judge(HANAKO, at(2026, 12, 12, 10)) == "outside_hours"  # the next Saturday has none


def test_a_one_off_opens_on_a_closed_day_too():
    holiday_exception = OneOff(date(2026, 11, 3), time(9), time(12), "災害対応")
    assert judge(HANAKO, at(2026, 11, 3, 10), given=grants(one_offs=(holiday_exception,))) is None


def test_an_expired_grant_opens_nothing_and_says_no_grant():
    expiring = grants(expires_at=at(2026, 12, 3, 12))
    assert judge(HANAKO, at(2026, 12, 3, 11, 59), given=expiring) is None
    assert judge(HANAKO, at(2026, 12, 3, 12, 0), given=expiring) == "no_grant"


def test_a_grant_without_hours_opens_at_any_time_holidays_included():
    any_time = [Grant(1, "folders", HANAKO, None)]
    assert judge(HANAKO, at(2027, 1, 1, 3), given=any_time) is None


def test_a_role_grant_covers_everyone_with_the_role_and_the_widest_grant_wins():
    role = Grant(3, "folders", None, "surveyor")
    assert judge(SABURO, at(2026, 12, 3, 22), given=[role], roles=("surveyor",)) is None
    assert judge(SABURO, at(2026, 12, 3, 22), given=[role], roles=("receptionist",)) == "no_grant"
    assert judge(HANAKO, at(2026, 12, 3, 22), given=[*grants(), role], roles=("surveyor",)) is None


def test_closed_days_between_lists_what_an_offline_cabinet_needs():
    assert closed_days_between(date(2026, 12, 28), date(2027, 1, 5), frozenset()) == [
        date(2026, 12, 29), date(2026, 12, 30), date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 2),
        date(2027, 1, 3)]


def test_weekly_hours_are_stored_and_read_back_unchanged():
    assert parse_hours(stored_hours(WEEKDAYS_8_19)) == WEEKDAYS_8_19
    with pytest.raises(ValueError):
        Slot(0, time(19), time(8))


def test_the_offline_hours_follow_the_same_rule():
    hours = protocol.Hours(cards=[0], week=[f"{d} 08:00-19:00" for d in range(1, 6)], closed=["2026-12-04"],
                           extra=["2026-12-05 09:00-12:00"])
    allowlist = protocol.Allowlist(v=1, salt="00" * 16, hashes=["a" * 64, "b" * 64], until=at(2026, 12, 6),
                                   hours=[hours], zone="Asia/Tokyo")
    assert allowlist.hours_admit(0, at(2026, 12, 3, 10))
    assert not allowlist.hours_admit(0, at(2026, 12, 3, 20))
    assert not allowlist.hours_admit(0, at(2026, 12, 4, 10))  # closed
    assert allowlist.hours_admit(0, at(2026, 12, 5, 11))  # the exception
    assert not allowlist.hours_admit(0, datetime(2026, 12, 3, 11, tzinfo=UTC))  # 20:00 in Tokyo
    assert allowlist.hours_admit(1, at(2026, 12, 3, 23))  # a card in no hours: any time
    old = protocol.decode(protocol.encode(allowlist.model_copy(update={"hours": None, "zone": None})),
                          protocol.Allowlist)
    assert old.hours is None and old.hours_admit(0, at(2026, 12, 3, 23))
    assert b'"hours"' not in protocol.encode(old)
