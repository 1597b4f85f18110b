"""Which visits belong to a day or a period, as SQL conditions the pages, the API and the CSV share."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_

from server.visits.models import Visit

# The moment a visit belongs to: when the visitor came in, else when they were expected.
# ix_visits_moment indexes this very expression (models.MOMENT): change both or neither.
visit_moment = func.coalesce(Visit.entered_at, Visit.expected_at, Visit.valid_from, Visit.registered_at)
# When a visit ended: the visitor left, or it was closed (not signed out, cancelled). ix_visits_ended.
visit_ended = func.coalesce(Visit.left_at, Visit.closed_at)


def for_day(start: datetime) -> ColumnElement[bool]:
    """Visits of the office day beginning at `start` (midnight, office time)."""
    return between(start, start + timedelta(days=1))


def between(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Visits whose moment falls in [start, end), or that were still in during it.

    Three arms, each with an index of its own (SQLite's OR optimisation takes one index per arm and
    none for an OR nested inside one): moment in the period; came in before it and ended in it or
    later; came in before it and not ended."""
    return or_(and_(visit_moment >= start, visit_moment < end), still_on_at(start))


def still_on_at(start: datetime) -> ColumnElement[bool]:
    """Visits that came in before `start` and had not ended by then: ended later, or not yet."""
    return or_(and_(visit_ended >= start, Visit.entered_at < start),
               and_(visit_ended.is_(None), Visit.entered_at < start))
