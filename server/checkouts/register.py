"""The 持ち出し管理簿's four reports: every take-out in a period, what is out now, what is overdue
now (from `due_at`, never a stored flag), and who may open the cabinets.

The period is on `out_at`; the person and item filters narrow by name and label (LIKE, escaped).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from server.checkouts.models import Checkout
from server.domain.key_access import KeyAccess, key_access
from server.grants.rights import Right, rights_of
from server.items.models import Item
from server.people.models import Card, Person

STATES = ("out", "overdue", "returned", "late")  # late: returned after its due time


@dataclass(frozen=True)
class RegisterFilter:
    person: str = ""  # part of the holder's name
    item: str = ""  # part of the item's label
    kind: str = ""
    case: str = ""  # part of the case number: the item's, or the checkout's purpose
    state: str = ""  # one of STATES; the transactions report only
    own_only: bool = False  # a surveyor: their own take-outs and their own key rights only
    holder_id: int | None = None  # the surveyor's staff record (None: linked to nobody, so nothing)


@dataclass(frozen=True, slots=True)
class RegisterLine:
    id: int
    out_at: datetime
    item: str
    kind: str
    case_number: str | None
    person: str
    purpose: str | None
    due_at: datetime
    loan_rule: str | None
    returned_at: datetime | None
    returned_by: str | None
    erasure: str | None  # pending | done | None (papers and keys: nothing to erase)
    erased_at: datetime | None
    erased_by: str | None

    def state(self, now: datetime) -> str:
        if self.returned_at is not None:
            return "late" if self.returned_at > self.due_at else "returned"
        return "overdue" if self.due_at < now else "out"

    def late_s(self, now: datetime) -> float:
        """How long past due: until the return, or until `now` while it is still out."""
        return max(0.0, ((self.returned_at or now) - self.due_at).total_seconds())


@dataclass(frozen=True, slots=True)
class AccessLine:
    person_id: int
    name: str
    active: bool
    cards: int
    training_on: date | None
    access: KeyAccess
    rights: tuple[Right, ...] = ()  # the cabinets the person's grants open, and when (server/grants/rights.py)


_returner = aliased(Person)
_LINE_COLUMNS = (Checkout.id, Checkout.out_at, Item.label, Item.kind, Item.case_number, Person.name,
                 Checkout.purpose, Checkout.due_at, Checkout.loan_rule, Checkout.returned_at, _returner.name,
                 Checkout.erasure, Checkout.erased_at, Checkout.erased_by)


def _lines(where: list[ColumnElement[bool]]) -> Select:
    return (select(*_LINE_COLUMNS).join(Item, Item.id == Checkout.item_id)
            .join(Person, Person.id == Checkout.person_id)
            .outerjoin(_returner, _returner.id == Checkout.returned_by_id).where(*where))


def _narrowing(f: RegisterFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.own_only:
        where.append(Checkout.person_id == f.holder_id if f.holder_id is not None else false())
    # The people and items that match first, so the (person_id, out_at) and (item_id, out_at) indexes serve.
    if f.person:
        where.append(Checkout.person_id.in_(select(Person.id).where(Person.name.contains(f.person, autoescape=True))))
    if f.item:
        where.append(Checkout.item_id.in_(select(Item.id).where(Item.label.contains(f.item, autoescape=True))))
    if f.kind:
        where.append(Item.kind == f.kind)
    if f.case:
        where.append(or_(Item.case_number.contains(f.case, autoescape=True),
                         Checkout.purpose.contains(f.case, autoescape=True)))
    return where


def _state(state: str, now: datetime) -> list[ColumnElement[bool]]:
    return {"out": [Checkout.returned_at.is_(None)],
            "overdue": [Checkout.returned_at.is_(None), Checkout.due_at < now],
            "returned": [Checkout.returned_at.is_not(None)],
            "late": [Checkout.returned_at > Checkout.due_at]}.get(state, [])


def _read(db: Session, query: Select) -> list[RegisterLine]:
    return [RegisterLine(*row) for row in db.execute(query).all()]


def stream(db: Session, query: Select, batch: int = 2000) -> Iterator[RegisterLine]:
    """Every line of `query`, read `batch` rows at a time (a server-side cursor on PostgreSQL)."""
    for row in db.execute(query.execution_options(yield_per=batch)):
        yield RegisterLine(*row)


def _period(start: datetime, end: datetime, f: RegisterFilter, now: datetime) -> list[ColumnElement[bool]]:
    return [Checkout.out_at >= start, Checkout.out_at < end, *_narrowing(f), *_state(f.state, now)]


def transactions_query(start: datetime, end: datetime, f: RegisterFilter, now: datetime) -> Select:
    """Every take-out with `start` <= out_at < `end`, in the order they happened."""
    return _lines(_period(start, end, f, now)).order_by(Checkout.out_at, Checkout.id)


def open_query(f: RegisterFilter, now: datetime, *, overdue: bool) -> Select:
    """Out (and past `due_at` if `overdue`) at `now`, the soonest due first (the open-checkouts index
    on due_at serves the order)."""
    return _lines(_open(f, now, overdue)).order_by(Checkout.due_at, Checkout.id)


def transactions(db: Session, start: datetime, end: datetime, f: RegisterFilter, now: datetime, *,
                 limit: int | None, offset: int = 0) -> list[RegisterLine]:
    """A page of transactions_query. A later page skips its `offset` rows on ix_checkouts_out_at alone
    (their ids only) and joins the names and labels of its own rows, not of every row it skipped."""
    if not offset:
        return _read(db, transactions_query(start, end, f, now).limit(limit))
    ids = select(Checkout.id).where(*_period(start, end, f, now))
    if f.kind or f.case:
        ids = ids.join(Item, Item.id == Checkout.item_id)
    page = ids.order_by(Checkout.out_at, Checkout.id).limit(limit).offset(offset)
    return _read(db, _lines([Checkout.id.in_(page)]).order_by(Checkout.out_at, Checkout.id))


def _open(f: RegisterFilter, now: datetime, overdue: bool) -> list[ColumnElement[bool]]:
    return [Checkout.returned_at.is_(None), *([Checkout.due_at < now] if overdue else []), *_narrowing(f)]


def currently_out(db: Session, f: RegisterFilter, now: datetime, *, limit: int | None,
                  offset: int = 0) -> list[RegisterLine]:
    return _read(db, open_query(f, now, overdue=False).limit(limit).offset(offset))


def overdue(db: Session, f: RegisterFilter, now: datetime, *, limit: int | None,
            offset: int = 0) -> list[RegisterLine]:
    """Out and past `due_at` at `now`, the longest overdue first."""
    return _read(db, open_query(f, now, overdue=True).limit(limit).offset(offset))


def count_open(db: Session, f: RegisterFilter, now: datetime, *, overdue: bool) -> int:
    query = select(func.count()).select_from(Checkout).where(*_open(f, now, overdue))
    if f.kind or f.case:
        query = query.join(Item, Item.id == Checkout.item_id)
    return db.scalar(query) or 0


def access_rights(db: Session, f: RegisterFilter, today: date, valid_days: int, now: datetime) -> list[AccessLine]:
    """Every key holder, those who can open a cabinet today first, then those who cannot and why; with the
    cabinets each one's grants open, and when."""
    cards = (select(Card.person_id, func.count().label("n")).where(Card.active)
             .group_by(Card.person_id).subquery())
    query = (select(Person.id, Person.name, Person.active, Person.training_on, func.coalesce(cards.c.n, 0),
                    Person.roles)
             .outerjoin(cards, cards.c.person_id == Person.id).where(Person.key_holder))
    if f.own_only:
        query = query.where(Person.id == f.holder_id if f.holder_id is not None else false())
    if f.person:
        query = query.where(Person.name.contains(f.person, autoescape=True))
    found = db.execute(query).all()
    rights = rights_of(db, {row[0]: list(row[5] or ()) for row in found}, now)
    lines = []
    for pid, name, active, trained, n, _roles in found:
        access = key_access(person_active=active, key_holder=True, active_cards=n, training_on=trained, today=today,
                            valid_days=valid_days)
        if access.can_open and not rights[pid]:  # fit to open, but granted no cabinet
            access = KeyAccess(False, "no_grant", access.expires_on)
        lines.append(AccessLine(pid, name, active, n, trained, access, tuple(rights[pid])))
    lines.sort(key=lambda line: (not line.access.can_open, line.name, line.person_id))
    return lines
