"""The 受付簿 of a period: the cases received in it, filtered, one row each (API, page, CSV, print)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Row, Select, and_, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from server.cases.models import Case
from server.people.models import Person

_surveyor, _destroyer, _witness = aliased(Person), aliased(Person), aliased(Person)


@dataclass(frozen=True)
class BookFilter:
    since: date | None = None  # received on or after
    until: date | None = None  # received on or before
    state: str | None = None
    surveyor_id: int | None = None
    kind: str | None = None
    overdue: bool = False
    number: str | None = None  # part of the case number


@dataclass(frozen=True)
class BookLine:
    case: Any  # the case's columns (a row, read-only; a Case where one is at hand)
    surveyor: str | None
    destroyed_by: str | None
    witness: str | None

    @classmethod
    def of(cls, row: Row) -> BookLine:
        return cls(row, row.surveyor_name, row.destroyed_by_name, row.witness_name)


# Plain columns, not Case objects: a CSV of 100,000 cases spends half its time building objects otherwise.
_COLUMNS = [*Case.__table__.c, _surveyor.name.label("surveyor_name"), _destroyer.name.label("destroyed_by_name"),
            _witness.name.label("witness_name")]


def state_is(state: str) -> ColumnElement[bool]:
    open_ = and_(Case.destroyed_at.is_(None), Case.withdrawn_on.is_(None))
    return {
        "destroyed": Case.destroyed_at.is_not(None),
        "withdrawn": and_(Case.destroyed_at.is_(None), Case.withdrawn_on.is_not(None)),
        "submitted": and_(open_, Case.submitted_on.is_not(None)),
        "surveyed": and_(open_, Case.submitted_on.is_(None), Case.surveyed_on.is_not(None)),
        "received": and_(open_, Case.surveyed_on.is_(None)),
    }.get(state, false())


def overdue_on(today: date, report_within_days: int) -> ColumnElement[bool]:
    """Past its survey deadline, its report late, or its retention ended without destruction."""
    return or_(and_(state_is("received"), Case.deadline < today),
               and_(state_is("surveyed"), Case.surveyed_on < today - timedelta(days=report_within_days)),
               and_(Case.destroyed_at.is_(None), Case.retain_until < today))


def _query(f: BookFilter, today: date, report_within_days: int) -> Select:
    query = (select(*_COLUMNS)
             .outerjoin(_surveyor, _surveyor.id == Case.surveyor_id)
             .outerjoin(_destroyer, _destroyer.id == Case.destroyed_by_id)
             .outerjoin(_witness, _witness.id == Case.witness_id))
    if f.since:
        query = query.where(Case.received_on >= f.since)
    if f.until:
        query = query.where(Case.received_on <= f.until)
    if f.state:
        query = query.where(state_is(f.state))
    if f.surveyor_id:
        query = query.where(Case.surveyor_id == f.surveyor_id)
    if f.kind:
        query = query.where(Case.kind == f.kind)
    if f.overdue:
        query = query.where(overdue_on(today, report_within_days))
    if f.number:
        query = query.where(Case.number.contains(f.number, autoescape=True))
    return query


def lines(db: Session, f: BookFilter, today: date, report_within_days: int, *, limit: int | None = None,
          offset: int = 0) -> list[BookLine]:
    query = _query(f, today, report_within_days).order_by(Case.received_on, Case.id).offset(offset)
    if limit is not None:
        query = query.limit(limit)
    return [BookLine.of(row) for row in db.execute(query)]


def count(db: Session, f: BookFilter, today: date, report_within_days: int) -> int:
    return db.scalar(select(func.count()).select_from(_query(f, today, report_within_days).subquery())) or 0


def stream(db: Session, f: BookFilter, today: date, report_within_days: int, batch: int = 2000) -> Iterator[BookLine]:
    """Every line, read in batches (a CSV of 100,000 cases without holding them all)."""
    query = _query(f, today, report_within_days).order_by(Case.received_on, Case.id)
    for row in db.execute(query.execution_options(yield_per=batch)):
        yield BookLine.of(row)


def destructions(db: Session, since: date, until: date, zone: ZoneInfo) -> list[BookLine]:
    """The 廃棄記録: cases whose memos were destroyed on office days since..until, in order."""
    start = datetime.combine(since, time(0), tzinfo=zone)
    end = datetime.combine(until + timedelta(days=1), time(0), tzinfo=zone)
    query = (_query(BookFilter(), since, 0).where(Case.destroyed_at >= start, Case.destroyed_at < end)
             .order_by(Case.destroyed_at, Case.id))
    return [BookLine.of(row) for row in db.execute(query)]
