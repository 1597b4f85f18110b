"""Who may open which cabinet, and when: grants, weekly hours, closed days and one-off openings.

A grant names one cabinet and either one person or everyone with a role ("surveyor"). A grant
without weekly hours opens at any time (what every key holder got when grants came in). A grant
with hours opens only inside them, in office time, and never on a closed day: 年末年始 (29 Dec –
3 Jan), a Japanese public holiday (python-holidays, not a list typed here) or a day the office
closes itself. A one-off opening ("Saturday 9:00–12:00", with its reason) opens on its day even
when the office is closed. Checked after active, key holder and training (server/domain/cabinet.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

YEAR_END = ((12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3))  # 年末年始: the ward's offices close


@dataclass(frozen=True, slots=True)
class Slot:
    """Weekly hours: `weekday` 0 = Monday … 6 = Sunday, from `start` up to (not including) `end`."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError("weekday is 0 (Monday) to 6 (Sunday)")
        if not self.start < self.end:
            raise ValueError("hours end after they start")


@dataclass(frozen=True, slots=True)
class OneOff:
    """An opening on one day outside the weekly hours, with the reason it was given."""

    on: date
    start: time
    end: time
    reason: str


@dataclass(frozen=True, slots=True)
class Grant:
    id: int
    cabinet_id: str
    person_id: int | None  # one person, or
    role: str | None  # everyone with this role
    expires_at: datetime | None = None  # opens nothing from this moment on
    slots: tuple[Slot, ...] = ()  # none: any time
    one_offs: tuple[OneOff, ...] = field(default=())

    @property
    def any_time(self) -> bool:
        return not self.slots

    def covers(self, person_id: int, roles: Iterable[str]) -> bool:
        return self.person_id == person_id if self.person_id is not None else self.role in roles

    def live(self, at: datetime) -> bool:
        return self.expires_at is None or at < self.expires_at


@lru_cache(maxsize=16)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("JP", years=year))


def closed_reason(day: date, own: frozenset[date] = frozenset()) -> str | None:
    """Why the office is closed on `day`: year_end | holiday | office, or None on a working day."""
    if (day.month, day.day) in YEAR_END:
        return "year_end"
    if day in _public_holidays(day.year):
        return "holiday"
    if day in own:
        return "office"
    return None


def open_at(grant: Grant, local: datetime, closed: bool) -> bool:
    """Whether `grant` opens at the office-time moment `local` (`closed`: the office is closed that day)."""
    if grant.any_time:
        return True
    moment, day = local.time(), local.date()
    if any(o.on == day and o.start <= moment < o.end for o in grant.one_offs):
        return True
    return not closed and any(s.weekday == day.weekday() and s.start <= moment < s.end for s in grant.slots)


def refusal(grants: Iterable[Grant], *, person_id: int, roles: Iterable[str], at: datetime, zone: ZoneInfo,
            own_closed: frozenset[date]) -> str | None:
    """None if some live grant of this cabinet lets the person in at `at`; else `no_grant` (none is
    theirs, or theirs have expired) or `outside_hours`."""
    roles = tuple(roles)
    theirs = [g for g in grants if g.covers(person_id, roles) and g.live(at)]
    if not theirs:
        return "no_grant"
    local = at.astimezone(zone)
    closed = closed_reason(local.date(), own_closed) is not None
    return None if any(open_at(g, local, closed) for g in theirs) else "outside_hours"


def closed_days_between(first: date, last: date, own: frozenset[date]) -> list[date]:
    """Every closed day from `first` to `last` (both included): what an offline cabinet must know."""
    days, day = [], first
    while day <= last:
        if closed_reason(day, own) is not None:
            days.append(day)
        day += timedelta(days=1)
    return days


def parse_hours(value: list) -> tuple[Slot, ...]:
    """Weekly hours as stored ([[weekday, "08:00", "19:00"], …]) back into slots."""
    return tuple(Slot(int(w), time.fromisoformat(s), time.fromisoformat(e)) for w, s, e in value)


def stored_hours(slots: Iterable[Slot]) -> list[list]:
    return [[s.weekday, f"{s.start:%H:%M}", f"{s.end:%H:%M}"] for s in sorted(slots, key=lambda s: (s.weekday, s.start))]


def public_holiday_names(first: date, last: date, language: str) -> dict[date, str]:
    """The public holidays from `first` to `last`, named in `language` ("ja" or "en_US") by the library."""
    found = holidays.country_holidays("JP", years=range(first.year, last.year + 1), language=language)
    return {day: name for day, name in sorted(found.items()) if first <= day <= last}
