"""Reception's time rules: when a visitor badge works, and when the office's day is over."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EARLY = timedelta(minutes=60)  # an expected visitor may arrive this much before the expected time
LATE = timedelta(hours=2)  # and stay on past closing if expected this close to it


def office_moment(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone)


def visit_window(day: date, expected: time | None, *, opening: time, closing: time,
                 zone: ZoneInfo) -> tuple[datetime, datetime]:
    """When a badge lent for a visit on `day` opens the entrance: from an hour before the expected
    time, but never before opening time, until closing time (or two hours after a visitor expected late)."""
    opens = office_moment(day, opening, zone)
    start = max(office_moment(day, expected, zone) - EARLY, opens) if expected else opens
    end = office_moment(day, closing, zone)
    if expected is not None and office_moment(day, expected, zone) + LATE > end:
        end = office_moment(day, expected, zone) + LATE
    return start, end


def walk_in_window(now: datetime, *, opening: time, closing: time, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """A walk-in's badge works from now (from opening time, if registered before it) until today's
    closing time (or for two hours, after closing)."""
    today = now.astimezone(zone).date()
    start = max(now - timedelta(minutes=5), office_moment(today, opening, zone))  # 5 min: a reader's clock lags
    end = office_moment(today, closing, zone)
    return start, max(end, now + LATE)


def in_window(at: datetime, valid_from: datetime | None, valid_until: datetime | None) -> bool:
    """A visit without a window (registered through the API without one) is valid any time."""
    return (valid_from is None or valid_from <= at) and (valid_until is None or at <= valid_until)


def first_closing_after(at: datetime, closing: time, zone: ZoneInfo) -> datetime:
    """The closing time that ends the office day `at` falls in."""
    local = at.astimezone(zone)
    moment = office_moment(local.date(), closing, zone)
    return moment if local < moment else office_moment(local.date() + timedelta(days=1), closing, zone)


def visit_day(valid_from: datetime | None, expected_at: datetime | None, registered_at: datetime,
              zone: ZoneInfo) -> date:
    """The office day a visit is for."""
    return (expected_at or valid_from or registered_at).astimezone(zone).date()
