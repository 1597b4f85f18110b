"""Receiving a case and every later step, each written as an event first and then into the 受付簿 row.

Shared by the API, the pages and the CSV import; the caller commits. Nothing here changes or deletes
an event: a correction is a new event naming the one it corrects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.cases.models import Case, CaseEvent
from server.checkouts.models import Checkout
from server.domain import cases as rules
from server.items.models import Item
from server.people.models import Person

# What a correction may set again, and what each value is.
CORRECTABLE = {"received_on": date, "kind": str, "surveyor_id": int, "deadline": date, "surveyed_on": date,
               "submitted_on": date, "withdrawn_on": date, "note": str}


class CaseError(Exception):
    """A step that cannot be taken: `reason` is a code the pages and the API put into words."""

    def __init__(self, reason: str, **details: Any):
        super().__init__(reason)
        self.reason, self.details = reason, details


@dataclass(frozen=True)
class Actor:
    """Who is writing the event (an account's name, kept as it was then)."""

    name: str
    user_id: int | None = None

    @classmethod
    def of(cls, user: User) -> Actor:
        return cls(user.name, user.id)


def facts(case: Case) -> rules.CaseFacts:
    return rules.CaseFacts(received_on=case.received_on, deadline=case.deadline, surveyed_on=case.surveyed_on,
                           submitted_on=case.submitted_on, withdrawn_on=case.withdrawn_on,
                           retain_until=case.retain_until, destroyed=case.destroyed_at is not None)


def _event(db: Session, case: Case, now: datetime, by: Actor, action: str, changes: dict[str, Any], *,
           corrects: int | None = None, reason: str | None = None) -> CaseEvent:
    stored = {key: value.isoformat() if isinstance(value, date) else value for key, value in changes.items()}
    event = CaseEvent(case_id=case.id, at=now, action=action, by_user_id=by.user_id, by_name=by.name,
                      changes=stored, corrects_id=corrects, reason=reason)
    db.add(event)
    db.flush()
    return event


def _check_note(note: str | None) -> str | None:
    if note is None or not note.strip():
        return None
    if len(note) > rules.NOTE_MAX:
        raise CaseError("note_too_long")
    if found := rules.personal_data_in(note):
        raise CaseError("personal_data", what=found)
    return note.strip()


def _check_person(db: Session, person_id: int | None, field: str) -> None:
    if person_id is not None:
        person = db.get(Person, person_id)
        if person is None or not person.active:
            raise CaseError("unknown_person", field=field)


def receive(db: Session, now: datetime, by: Actor, *, number: str, received_on: date, kind: str,
            retention_days: int, surveyor_id: int | None = None, deadline: date | None = None,
            note: str | None = None, reason: str | None = None) -> Case:
    """A new request in the 受付簿 (the office's retention rule of today is kept on it)."""
    if problem := rules.number_problem(number):
        raise CaseError(f"number_{problem}")
    if kind not in rules.KINDS:
        raise CaseError("unknown_kind")
    if db.scalar(select(Case.id).where(Case.number == number)) is not None:
        raise CaseError("number_taken", number=number)
    if deadline and deadline < received_on:
        raise CaseError("deadline_before_received")
    _check_person(db, surveyor_id, "surveyor")
    note = _check_note(note)
    case = Case(number=number, received_on=received_on, kind=kind, surveyor_id=surveyor_id, deadline=deadline,
                retention_days=retention_days, note=note, created_at=now)
    db.add(case)
    db.flush()
    _event(db, case, now, by, "received", {"number": number, "received_on": received_on, "kind": kind,
                                            "surveyor_id": surveyor_id, "deadline": deadline,
                                            "retention_days": retention_days, "note": note}, reason=reason)
    return case


def items_out(db: Session, case: Case) -> int:
    """How many of the case's items are out of the cabinet now."""
    return db.scalar(select(func.count()).select_from(Checkout).join(Item, Item.id == Checkout.item_id)
                     .where(Item.case_number == case.number, Checkout.returned_at.is_(None))) or 0


def _allow(db: Session, case: Case, action: str, on: date, today: date) -> None:
    out = items_out(db, case) if action in ("withdraw", "destroy") else 0
    if problem := rules.refusal(action, facts(case), on=on, today=today, items_out=out):
        raise CaseError(problem, items_out=out, retain_until=case.retain_until)


def record_survey(db: Session, case: Case, now: datetime, today: date, by: Actor, on: date) -> CaseEvent:
    _allow(db, case, "survey", on, today)
    case.surveyed_on = on
    return _event(db, case, now, by, "survey", {"surveyed_on": on})


def record_submission(db: Session, case: Case, now: datetime, today: date, by: Actor, on: date) -> CaseEvent:
    """The report went to the ward: the retention clock starts."""
    _allow(db, case, "submit", on, today)
    case.submitted_on = on
    case.retain_until = rules.retain_until(on, case.retention_days)
    return _event(db, case, now, by, "submit", {"submitted_on": on, "retain_until": case.retain_until})


def withdraw(db: Session, case: Case, now: datetime, today: date, by: Actor, on: date, reason: str) -> CaseEvent:
    """The ward took the request back; whatever memos exist are kept and destroyed like any others."""
    _allow(db, case, "withdraw", on, today)
    case.withdrawn_on = on
    case.retain_until = rules.retain_until(on, case.retention_days)
    return _event(db, case, now, by, "withdraw", {"withdrawn_on": on, "retain_until": case.retain_until},
                  reason=reason)


def destroy(db: Session, case: Case, now: datetime, today: date, by: Actor, *, method: str, destroyed_by: int,
            witness: int) -> CaseEvent:
    """The memos are destroyed, witnessed by somebody else; the case's items are retired."""
    if method not in rules.METHODS:
        raise CaseError("unknown_method")
    _check_person(db, destroyed_by, "destroyed_by")
    _check_person(db, witness, "witness")
    if problem := rules.witness_problem(destroyed_by, witness):
        raise CaseError(problem)
    _allow(db, case, "destroy", today, today)
    case.destroyed_at, case.destroy_method = now, method
    case.destroyed_by_id, case.witness_id = destroyed_by, witness
    retired = list(db.scalars(select(Item.id).where(Item.case_number == case.number, Item.status != "retired")))
    if retired:
        db.execute(update(Item).where(Item.id.in_(retired)).values(status="retired"))
    return _event(db, case, now, by, "destroy", {"method": method, "destroyed_by_id": destroyed_by,
                                                 "witness_id": witness, "retired_item_ids": retired})


def change_note(db: Session, case: Case, now: datetime, by: Actor, note: str | None) -> CaseEvent:
    case.note = _check_note(note)
    return _event(db, case, now, by, "note", {"note": case.note})


def correct(db: Session, case: Case, now: datetime, today: date, by: Actor, *, corrects: int,
            changes: dict[str, Any], reason: str) -> CaseEvent:
    """A new event that sets again some of the fields an earlier event set wrong, and names that event.

    Only what that event set can be corrected: a correction is never a way round a step's rules
    (recording a withdrawal while a folder is out, say)."""
    wrong = db.get(CaseEvent, corrects)
    if wrong is None or wrong.case_id != case.id:
        raise CaseError("unknown_event")
    if not reason.strip():
        raise CaseError("reason_missing")
    if not changes or not changes.keys() <= CORRECTABLE.keys():
        raise CaseError("not_correctable", fields=sorted(changes.keys() - CORRECTABLE.keys()))
    if not changes.keys() <= wrong.changes.keys():
        raise CaseError("not_in_event", fields=sorted(changes.keys() - wrong.changes.keys()))
    if any(isinstance(value, date) and value > today for value in changes.values()):
        raise CaseError("in_future")
    if case.destroyed_at is not None:
        raise CaseError("wrong_state")
    if "kind" in changes and changes["kind"] not in rules.KINDS:
        raise CaseError("unknown_kind")
    if "surveyor_id" in changes:
        _check_person(db, changes["surveyor_id"], "surveyor")
    if "note" in changes:
        changes = {**changes, "note": _check_note(changes["note"])}
    for field, value in changes.items():
        setattr(case, field, value)
    _check_dates(case)
    closed_on = case.submitted_on or case.withdrawn_on
    case.retain_until = rules.retain_until(closed_on, case.retention_days) if closed_on else None
    return _event(db, case, now, by, "correct", {**changes, "retain_until": case.retain_until},
                  corrects=corrects, reason=reason.strip())


def _check_dates(case: Case) -> None:
    order = [case.received_on, case.surveyed_on, case.submitted_on]
    days = [day for day in order if day is not None]
    if days != sorted(days) or (case.withdrawn_on and case.withdrawn_on < case.received_on):
        raise CaseError("dates_out_of_order")
    if case.submitted_on and not case.surveyed_on:
        raise CaseError("dates_out_of_order")


def history(db: Session, case: Case) -> list[CaseEvent]:
    """In the order written, whatever the clocks said: an entry's number never changes."""
    return list(db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)))
