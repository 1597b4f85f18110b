"""Which visits belong to a day or a period, as SQL conditions the pages, the API and the CSV share."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_

from server.visits.models import Visit

# The moment a visit belongs to: when the visitor came in, else when they were expected.
visit_moment = func.coalesce(Visit.entered_at, Visit.expected_at, Visit.valid_from, Visit.registered_at)


def for_day(start: datetime) -> ColumnElement[bool]:
    """Visits of the office day beginning at `start` (midnight, office time)."""
    return between(start, start + timedelta(days=1))


def between(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Visits whose moment falls in [start, end), or that were still in during it."""
    ended = func.coalesce(Visit.left_at, Visit.closed_at)
    return or_(and_(visit_moment >= start, visit_moment < end),
               and_(Visit.entered_at < start, or_(ended.is_(None), ended >= start)))
