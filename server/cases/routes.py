"""`/api/v1/cases`: the 受付簿 — survey requests, their steps, corrections and history.

Managers receive, withdraw, destroy and correct; the surveyor in charge records the survey and the
submission; auditors read; reception has no access. No route changes or deletes an event.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.api.deps import MANAGE, Db, Paging, require
from server.api.schemas import In, OfficeTime, Out, RowId
from server.cases import book, service
from server.cases.models import Case, CaseEvent
from server.cases.service import Actor, CaseError
from server.checkouts.models import Checkout
from server.domain import cases as rules
from server.items.models import Item
from server.people.models import Person

router = APIRouter(prefix="/cases", tags=["cases"])

CASE_READ = ("admin", "manager", "surveyor", "auditor")  # reception never sees the 受付簿
SURVEY = ("admin", "manager", "surveyor")
Kind = Literal["new", "renewal", "change"]
State = Literal["received", "surveyed", "submitted", "withdrawn", "destroyed"]
Method = Literal["shredder", "dissolve", "erase"]
Manager = Annotated[User, Depends(require(*MANAGE))]
Surveyor = Annotated[User, Depends(require(*SURVEY))]

# The API's words for each refusal (the pages have their own, in Japanese first).
PROBLEMS = {
    "wrong_state": "the case is not in a state where this can happen",
    "items_out": "items of this case are still out of the cabinet; bring them back first",
    "retention_running": "the memos' retention period has not ended yet",
    "in_future": "the date is in the future",
    "before_received": "the date is before the request was received",
    "before_survey": "the report cannot be submitted before the survey",
    "same_person": "the witness must be somebody other than the person destroying",
    "number_empty": "give the ward's case number",
    "number_too_long": "a case number has at most 64 characters",
    "number_not_a_number": "a case number is the ward's number (letters, digits, - _ / .), never a name or address",
    "number_taken": "this case number is already in the 受付簿",
    "unknown_kind": "kind is one of new, renewal, change",
    "unknown_method": "method is one of shredder, dissolve, erase",
    "unknown_person": "no active staff member with that id",
    "unknown_event": "no such event in this case's history",
    "reason_missing": "say why the correction is made",
    "not_correctable": "only received_on, kind, surveyor_id, deadline, surveyed_on, submitted_on, withdrawn_on "
                       "and note can be corrected",
    "not_in_event": "a correction sets again only what the event it corrects set",
    "dates_out_of_order": "received ≤ surveyed ≤ submitted must hold",
    "deadline_before_received": "the deadline is before the request was received",
    "personal_data": "the note looks like it holds a resident's personal data; write the case number only",
    "note_too_long": "a note has at most 1000 characters",
}
_UNPROCESSABLE = {"number_empty", "number_too_long", "number_not_a_number", "unknown_kind", "unknown_method",
                  "unknown_person", "reason_missing", "not_correctable", "not_in_event", "personal_data", "note_too_long",
                  "same_person", "deadline_before_received", "in_future", "before_received", "before_survey",
                  "dates_out_of_order"}


def refused(exc: CaseError) -> HTTPException:
    detail = PROBLEMS.get(exc.reason, exc.reason)
    if exc.reason == "personal_data":
        detail += f" (it looks like a {exc.details['what'].replace('_', ' ')})"
    code = status.HTTP_422_UNPROCESSABLE_CONTENT if exc.reason in _UNPROCESSABLE else status.HTTP_409_CONFLICT
    return HTTPException(code, detail)


class CaseOut(Out):
    id: int
    number: str = Field(description="the ward's case number; a case holds no resident personal data")
    state: State
    received_on: date
    kind: Kind
    surveyor_id: int | None
    surveyor: str | None
    deadline: date | None
    surveyed_on: date | None
    submitted_on: date | None
    withdrawn_on: date | None
    retention_days: int = Field(description="the retention rule in force when the case was received")
    retain_until: date | None
    destroyed_at: OfficeTime | None
    destroy_method: Method | None
    destroyed_by: str | None
    witness: str | None
    note: str | None


class EventOut(Out):
    id: int
    at: OfficeTime
    action: Literal["received", "survey", "submit", "withdraw", "destroy", "correct", "note"]
    by: str
    changes: dict[str, Any]
    corrects_id: int | None
    reason: str | None


class LedgerLine(Out):
    checkout_id: int
    item_id: int
    item: str
    person: str
    out_at: OfficeTime
    due_at: OfficeTime
    returned_at: OfficeTime | None


class CaseDetail(CaseOut):
    items: list[dict[str, Any]] = Field(description="the case's items: id, label, kind, status")
    ledger: list[LedgerLine] = Field(description="every take-out of the case's items")
    history: list[EventOut]


def case_out(line: book.BookLine) -> CaseOut:
    c = line.case
    return CaseOut(id=c.id, number=c.number, state=rules.state(service.facts(c)), received_on=c.received_on,
                   kind=c.kind, surveyor_id=c.surveyor_id, surveyor=line.surveyor, deadline=c.deadline,
                   surveyed_on=c.surveyed_on, submitted_on=c.submitted_on, withdrawn_on=c.withdrawn_on,
                   retention_days=c.retention_days, retain_until=c.retain_until, destroyed_at=c.destroyed_at,
                   destroy_method=c.destroy_method, destroyed_by=line.destroyed_by, witness=line.witness,
                   note=c.note)


def event_out(event: CaseEvent) -> EventOut:
    return EventOut(id=event.id, at=event.at, action=event.action, by=event.by_name, changes=event.changes,
                    corrects_id=event.corrects_id, reason=event.reason)


def _line(db: Session, case: Case) -> book.BookLine:
    def name(person_id: int | None) -> str | None:
        return db.get(Person, person_id).name if person_id else None

    return book.BookLine(case, name(case.surveyor_id), name(case.destroyed_by_id), name(case.witness_id))


def ledger_lines(db: Session, case: Case) -> list[LedgerLine]:
    rows = db.execute(select(Checkout, Item.label, Person.name).join(Item, Item.id == Checkout.item_id)
                      .join(Person, Person.id == Checkout.person_id)
                      .where(Item.case_number == case.number).order_by(Checkout.out_at, Checkout.id)).all()
    return [LedgerLine(checkout_id=c.id, item_id=c.item_id, item=label, person=person, out_at=c.out_at,
                       due_at=c.due_at, returned_at=c.returned_at) for c, label, person in rows]


def detail(db: Session, case: Case) -> CaseDetail:
    items = db.scalars(select(Item).where(Item.case_number == case.number).order_by(Item.id))
    return CaseDetail(**case_out(_line(db, case)).model_dump(),
                      items=[{"id": i.id, "label": i.label, "kind": i.kind, "status": i.status} for i in items],
                      ledger=ledger_lines(db, case), history=[event_out(e) for e in service.history(db, case)])


def _case(db: Session, case_id: int) -> Case:
    case = db.get(Case, case_id)
    if case is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no case {case_id}")
    return case


def _today(request: Request) -> date:
    return request.app.state.clock().astimezone(request.app.state.settings.zone).date()


@router.get("", response_model=list[CaseOut], dependencies=[Depends(require(*CASE_READ))])
def list_cases(db: Db, page: Paging, request: Request, since: date | None = None, until: date | None = None,
               state: State | None = None, surveyor_id: int | None = None, kind: Kind | None = None,
               overdue: bool = False, number: Annotated[str | None, Query(max_length=64)] = None) -> list[CaseOut]:
    """The 受付簿: cases received in [since, until], oldest first, filtered."""
    f = book.BookFilter(since=since, until=until, state=state, surveyor_id=surveyor_id, kind=kind, overdue=overdue,
                        number=number)
    settings = request.app.state.settings
    return [case_out(line) for line in book.lines(db, f, _today(request), settings.case_report_within_days,
                                                  limit=page.limit, offset=page.offset)]


class CaseIn(In):
    number: str = Field(min_length=1, max_length=64, description="the ward's case number, e.g. R8-00123")
    received_on: date
    kind: Kind
    surveyor_id: int | None = None
    deadline: date | None = None
    note: str | None = Field(None, max_length=1000, description="never a resident's name, address or number")


@router.post("", response_model=CaseDetail, status_code=status.HTTP_201_CREATED)
def receive_case(body: CaseIn, request: Request, db: Db, user: Manager) -> CaseDetail:
    """A request received from the ward; the office's retention rule of today is kept on it."""
    try:
        case = service.receive(db, request.app.state.clock(), Actor.of(user), number=body.number,
                               received_on=body.received_on, kind=body.kind, surveyor_id=body.surveyor_id,
                               deadline=body.deadline, note=body.note,
                               retention_days=request.app.state.settings.case_retention_days)
    except CaseError as exc:
        raise refused(exc) from None
    return detail(db, case)


@router.get("/{case_id}", response_model=CaseDetail, dependencies=[Depends(require(*CASE_READ))])
def get_case(case_id: RowId, db: Db) -> CaseDetail:
    """One case with its items, their take-outs and its whole history."""
    return detail(db, _case(db, case_id))


class DayIn(In):
    on: date


def _own(user: User, case: Case) -> None:
    if user.role == "surveyor" and (user.person_id is None or user.person_id != case.surveyor_id):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only the surveyor in charge or a manager may do this")


def _step(case_id: int, on: date, request: Request, db: Session, user: User, record) -> CaseDetail:
    case = _case(db, case_id)
    _own(user, case)
    try:
        record(db, case, request.app.state.clock(), _today(request), Actor.of(user), on)
    except CaseError as exc:
        raise refused(exc) from None
    return detail(db, case)


@router.post("/{case_id}/survey", response_model=CaseDetail)
def record_survey(case_id: RowId, body: DayIn, request: Request, db: Db, user: Surveyor) -> CaseDetail:
    """The survey was done on `on`."""
    return _step(case_id, body.on, request, db, user, service.record_survey)


@router.post("/{case_id}/submit", response_model=CaseDetail)
def record_submission(case_id: RowId, body: DayIn, request: Request, db: Db, user: Surveyor) -> CaseDetail:
    """The report went to the ward on `on`; the memos are kept until the retention date."""
    return _step(case_id, body.on, request, db, user, service.record_submission)


class WithdrawIn(DayIn):
    reason: str = Field(min_length=1, max_length=500)


@router.post("/{case_id}/withdraw", response_model=CaseDetail)
def withdraw(case_id: RowId, body: WithdrawIn, request: Request, db: Db, user: Manager) -> CaseDetail:
    """The ward took the request back (409 while any of its items is out)."""
    case = _case(db, case_id)
    try:
        service.withdraw(db, case, request.app.state.clock(), _today(request), Actor.of(user), body.on, body.reason)
    except CaseError as exc:
        raise refused(exc) from None
    return detail(db, case)


class DestroyIn(In):
    method: Method
    destroyed_by_id: int = Field(description="the staff member who destroyed the memos")
    witness_id: int = Field(description="another staff member who saw it done")


@router.post("/{case_id}/destroy", response_model=CaseDetail)
def destroy(case_id: RowId, body: DestroyIn, request: Request, db: Db, user: Manager) -> CaseDetail:
    """The memos were destroyed today, witnessed; the case's items are retired (409 while any is out or the
    retention period runs)."""
    case = _case(db, case_id)
    try:
        service.destroy(db, case, request.app.state.clock(), _today(request), Actor.of(user), method=body.method,
                        destroyed_by=body.destroyed_by_id, witness=body.witness_id)
    except CaseError as exc:
        raise refused(exc) from None
    return detail(db, case)


class NoteIn(In):
    note: str = Field(max_length=1000, description="never a resident's name, address or number; empty clears it")


@router.post("/{case_id}/note", response_model=CaseDetail)
def change_note(case_id: RowId, body: NoteIn, request: Request, db: Db, user: Surveyor) -> CaseDetail:
    case = _case(db, case_id)
    _own(user, case)
    try:
        service.change_note(db, case, request.app.state.clock(), Actor.of(user), body.note)
    except CaseError as exc:
        raise refused(exc) from None
    return detail(db, case)


class CorrectionIn(In):
    corrects_id: int = Field(description="the event that was wrong")
    changes: dict[str, Any] = Field(description="field -> the right value (dates as YYYY-MM-DD)")
    reason: str = Field(min_length=1, max_length=500)


def _typed(changes: dict[str, Any]) -> dict[str, Any]:
    typed = {}
    for field, value in changes.items():
        kind = service.CORRECTABLE.get(field)
        if kind is None or value is None:
            typed[field] = value
            continue
        try:
            typed[field] = date.fromisoformat(value) if kind is date else kind(value)
        except (TypeError, ValueError):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{field}: not a valid value") from None
    return typed


@router.post("/{case_id}/corrections", response_model=CaseDetail, status_code=status.HTTP_201_CREATED)
def correct(case_id: RowId, body: CorrectionIn, request: Request, db: Db, user: Manager) -> CaseDetail:
    """A correction: a new event that sets fields again and names the event it corrects."""
    case = _case(db, case_id)
    try:
        service.correct(db, case, request.app.state.clock(), _today(request), Actor.of(user), corrects=body.corrects_id,
                        changes=_typed(body.changes), reason=body.reason)
    except CaseError as exc:
        raise refused(exc) from None
    return detail(db, case)


@router.get("/{case_id}/events", response_model=list[EventOut], dependencies=[Depends(require(*CASE_READ))])
def case_history(case_id: RowId, db: Db) -> list[EventOut]:
    """Every step of the case, oldest first; nothing in it can be changed or deleted."""
    return [event_out(e) for e in service.history(db, _case(db, case_id))]
