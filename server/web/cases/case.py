"""/cases/{id}: one survey request with its items, their take-outs and its whole history, and the forms
for its next step: survey done, report submitted, request withdrawn, memos destroyed (witnessed by somebody
else), the note, a new surveyor in charge, a correction."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.api.deps import Db
from server.api.schemas import RowId
from server.cases import service
from server.cases.models import Case, CaseEvent
from server.cases.routes import ledger_lines
from server.cases.service import Actor, CaseError
from server.domain.cases import METHODS, state
from server.items.models import Item
from server.people.models import Person
from server.web.admin import csv_import
from server.web.admin.common import audit
from server.web.cases.book import READERS
from server.web.deps import require_page
from server.web.i18n import translator
from server.web.render import office_date, office_time, page

router = APIRouter(include_in_schema=False)
Reader = Annotated[User, Depends(require_page(*READERS))]
Surveyor = Annotated[User, Depends(require_page("admin", "manager", "surveyor"))]
Manager = Annotated[User, Depends(require_page("admin", "manager"))]
MANAGERS = ("admin", "manager")
DONE = {"step": "cases.step.done", "destroyed": "cases.destroy.done", "corrected": "cases.correct.done",
        "received": "cases.receive.done", "withdrawn": "cases.withdraw.done", "note": "cases.note.done",
        "surveyor": "cases.reassign.done"}
# What the page lets a manager correct (the surveyor: through the API), and how the typed value is read.
PAGE_CORRECTABLE = ("received_on", "kind", "deadline", "surveyed_on", "submitted_on", "withdrawn_on", "note")
# Which form field each refusal belongs next to.
FIELD_OF = {"same_person": "witness", "unknown_person": "witness", "unknown_method": "method"}
DATE_FIELDS = {"received_on", "deadline", "surveyed_on", "submitted_on", "withdrawn_on", "retain_until"}
PERSON_FIELDS = {"surveyor_id", "destroyed_by_id", "witness_id"}


def _today(request: Request) -> date:
    return request.app.state.clock().astimezone(request.app.state.settings.zone).date()


def _names(db: Session, ids: set[int]) -> dict[int, str]:
    return dict(db.execute(select(Person.id, Person.name).where(Person.id.in_(ids))).all()) if ids else {}


def _value(field: str, value: Any, t, lang: str, names: dict[int, str], items: dict[int, str]) -> str:
    """One changed value in the viewer's words: dates as the office writes them, people by name."""
    if value in (None, ""):
        return t("cases.empty")
    if field in DATE_FIELDS:
        return office_date(date.fromisoformat(value), lang)
    if field in PERSON_FIELDS:
        return names.get(value, t("cases.empty"))
    if field == "kind":
        return t(f"cases.kind.{value}")
    if field == "method":
        return t(f"cases.method.{value}")
    if field == "retired_item_ids":
        return "、".join(items.get(i, "") for i in value) or t("cases.empty")
    return str(value)


def history_lines(request: Request, db: Session, events: list[CaseEvent]) -> list[dict[str, Any]]:
    t, lang, zone = translator(request.state.lang), request.state.lang, request.app.state.settings.zone
    people = {v for e in events for k, v in e.changes.items() if k in PERSON_FIELDS and v}
    item_ids = {i for e in events for i in e.changes.get("retired_item_ids", [])}
    names = _names(db, people)
    items = dict(db.execute(select(Item.id, Item.label).where(Item.id.in_(item_ids))).all()) if item_ids else {}
    lines = []
    for number, event in enumerate(events, 1):
        what = t("cases.hist.correct", n=_position(events, event.corrects_id)) if event.action == "correct" \
            else t(f"cases.hist.{event.action}")
        changes = [(t(f"cases.field.{k}"), _value(k, v, t, lang, names, items)) for k, v in event.changes.items()
                   if k != "number"]
        lines.append({"n": number, "when": office_time(event.at, zone, lang), "who": event.by_name, "what": what,
                      "changes": changes, "reason": t("cases.hist.reason", reason=event.reason) if event.reason else ""})
    return lines


def _position(events: list[CaseEvent], event_id: int | None) -> int:
    return next((n for n, e in enumerate(events, 1) if e.id == event_id), 0)


def _in_charge(user: User, case: Case) -> bool:
    """A manager, or the surveyor whose account is the person in charge of the case."""
    return user.role in MANAGERS or (user.person_id is not None and user.person_id == case.surveyor_id)


def _context(request: Request, db: Session, case: Case, *, values: dict | None = None,
             errors: dict | None = None, notice: str | None = None) -> dict[str, Any]:
    t, user = translator(request.state.lang), db.get(User, request.state.user.id)  # the viewer has no person_id
    now_state = state(service.facts(case))
    names = _names(db, {i for i in (case.surveyor_id, case.destroyed_by_id, case.witness_id) if i})
    in_charge = _in_charge(user, case)
    staff = [(str(i), name) for i, name in db.execute(select(Person.id, Person.name).where(Person.active)
                                                       .order_by(Person.name))]
    return {"case": case, "state": now_state, "names": names, "notice": notice,
            "items": list(db.scalars(select(Item).where(Item.case_number == case.number).order_by(Item.id))),
            "ledger": ledger_lines(db, case), "history": history_lines(request, db, service.history(db, case)),
            "can_survey": in_charge and user.role != "auditor" and now_state == "received",
            "can_submit": in_charge and user.role != "auditor" and now_state == "surveyed",
            "can_destroy": user.role in MANAGERS and now_state in ("submitted", "withdrawn"),
            "retention_over": case.retain_until is not None and _today(request) >= case.retain_until,
            "methods": [("", t("cases.destroy.choose"))] + [(m, t(f"cases.method.{m}")) for m in METHODS],
            "staff": [("", t("cases.destroy.choose"))] + staff, "today": _today(request).isoformat(),
            "can_correct": user.role in MANAGERS and now_state != "destroyed",
            "can_withdraw": user.role in MANAGERS and now_state in ("received", "surveyed"),
            "can_note": in_charge and user.role != "auditor" and now_state != "destroyed",
            "note_value": case.note or "",
            "correct_fields": [("", t("cases.destroy.choose"))] + [(f, t(f"cases.field.{f}")) for f in PAGE_CORRECTABLE],
            "values": values or {}, "errors": errors or {}}


def _case(request: Request, db: Session, case_id: int) -> Case | HTMLResponse:
    case = db.get(Case, case_id)
    if case is None:
        return page(request, "cases/message.html", {"message": translator(request.state.lang)("cases.missing")},
                    status_code=404)
    return case


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, db: Db, user: Reader, case_id: RowId, done: str | None = None) -> HTMLResponse:
    case = _case(request, db, case_id)
    if isinstance(case, HTMLResponse):
        return case
    notice = translator(request.state.lang)(DONE[done]) if done in DONE else None
    return page(request, "cases/case.html", _context(request, db, case, notice=notice))


def _problem(request: Request, exc: CaseError) -> str:
    t = translator(request.state.lang)
    day = exc.details.get("retain_until")
    return t(f"cases.err.{exc.reason}", n=exc.details.get("items_out", 0),
             day=office_date(day, request.state.lang) if day else "")


def _case_in_charge(request: Request, db: Session, user: User, case_id: int) -> Case | HTMLResponse:
    """The case, if this person may record on it (a manager or its surveyor in charge); else the page saying why."""
    case = _case(request, db, case_id)
    if isinstance(case, HTMLResponse) or _in_charge(user, case):
        return case
    return page(request, "cases/message.html", {"message": translator(request.state.lang)("cases.err.not_in_charge")},
                status_code=403)


def _step(request: Request, db: Session, user: User, case_id: int, on: str, record) -> Response:
    case = _case_in_charge(request, db, user, case_id)
    if isinstance(case, HTMLResponse):
        return case
    t = translator(request.state.lang)
    try:
        day = date.fromisoformat(on)
    except ValueError:
        return page(request, "cases/case.html", _context(request, db, case, values={"on": on},
                                                         errors={"on": t("cases.err.date")}), status_code=422)
    try:
        record(db, case, request.app.state.clock(), _today(request), Actor.of(user), day)
    except CaseError as exc:
        return page(request, "cases/case.html", _context(request, db, case, values={"on": on},
                                                         errors={"on": _problem(request, exc)}), status_code=422)
    return RedirectResponse(f"/cases/{case.id}?done=step", status_code=303)


@router.post("/cases/{case_id}/survey", response_class=HTMLResponse)
def survey(request: Request, db: Db, user: Surveyor, case_id: RowId, on: Annotated[str, Form()] = "") -> Response:
    return _step(request, db, user, case_id, on, service.record_survey)


@router.post("/cases/{case_id}/submit", response_class=HTMLResponse)
def submit(request: Request, db: Db, user: Surveyor, case_id: RowId, on: Annotated[str, Form()] = "") -> Response:
    return _step(request, db, user, case_id, on, service.record_submission)


def _person(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 10 else None


@router.post("/cases/{case_id}/destroy", response_class=HTMLResponse)
def destroy(request: Request, db: Db, user: Manager, case_id: RowId, method: Annotated[str, Form()] = "",
            destroyed_by: Annotated[str, Form()] = "", witness: Annotated[str, Form()] = "") -> Response:
    """Needs a method, the person destroying and a witness who is somebody else; nothing typed is lost."""
    case = _case(request, db, case_id)
    if isinstance(case, HTMLResponse):
        return case
    t = translator(request.state.lang)
    values = {"method": method, "destroyed_by": destroyed_by, "witness": witness}
    errors = {name: t("cases.err.required") for name, value in values.items() if not value}
    by, seen = _person(destroyed_by), _person(witness)
    if not errors and by is not None and by == seen:
        errors["witness"] = t("cases.err.same_person")
    if not errors:
        try:
            service.destroy(db, case, request.app.state.clock(), _today(request), Actor.of(user), method=method,
                            destroyed_by=by or 0, witness=seen or 0)
        except CaseError as exc:
            errors[FIELD_OF.get(exc.reason, "destroy")] = _problem(request, exc)
    if errors:
        return page(request, "cases/case.html", _context(request, db, case, values=values, errors=errors),
                    status_code=422)
    names = {p.id: p.name for p in db.scalars(select(Person).where(Person.id.in_([by or 0, seen or 0])))}
    audit(db, request, "case_destroyed", {"case_number": case.number, "method": method,
                                          "destroyed_by": names.get(by), "witness": names.get(seen)})
    return RedirectResponse(f"/cases/{case.id}?done=destroyed", status_code=303)


def _typed(field: str, text: str) -> object:
    """The typed value of a corrected field (dates also in 和暦, kinds as the office writes them)."""
    if field == "note":
        return text
    if field == "kind":
        return csv_import.parse_case_kind(text)
    return csv_import.parse_date(text)


@router.post("/cases/{case_id}/correct", response_class=HTMLResponse)
def correct(request: Request, db: Db, user: Manager, case_id: RowId, entry: Annotated[str, Form()] = "",
            field: Annotated[str, Form()] = "", value: Annotated[str, Form(max_length=1000)] = "",
            reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    """A correction of one field that a history entry set, with its reason; the entry itself stays."""
    case = _case(request, db, case_id)
    if isinstance(case, HTMLResponse):
        return case
    t = translator(request.state.lang)
    values = {"entry": entry, "field": field, "value": value, "reason": reason}
    events = service.history(db, case)
    errors = {name: t("cases.err.required") for name in ("entry", "field", "reason") if not values[name].strip()}
    wrong = events[int(entry) - 1] if entry.isdigit() and 1 <= int(entry) <= len(events) else None
    if not errors and wrong is None:
        errors["entry"] = t("cases.err.no_entry")
    if not errors and field not in PAGE_CORRECTABLE:
        errors["field"] = t("cases.err.required")
    if not errors:
        try:
            typed = _typed(field, value.strip())
        except ValueError:
            errors["value"] = t("cases.err.date" if field != "kind" else "import.err.case_kind")
    if not errors:
        try:
            service.correct(db, case, request.app.state.clock(), _today(request), Actor.of(user), corrects=wrong.id,
                            changes={field: typed}, reason=reason)
        except CaseError as exc:
            errors["entry" if exc.reason == "not_in_event" else "value"] = _problem(request, exc)
    if errors:
        db.rollback()  # a refused correction may have set the field on the case already
        return page(request, "cases/case.html", _context(request, db, db.get(Case, case_id), values=values,
                                                         errors=errors), status_code=422)
    return RedirectResponse(f"/cases/{case.id}?done=corrected", status_code=303)


@router.post("/cases/{case_id}/withdraw", response_class=HTMLResponse)
def withdraw(request: Request, db: Db, user: Manager, case_id: RowId,
             withdrawn_on: Annotated[str, Form(max_length=40)] = "",
             withdraw_reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    """The ward took the request back (取下げ): refused while any of its items is out of the cabinet."""
    case = _case(request, db, case_id)
    if isinstance(case, HTMLResponse):
        return case
    t = translator(request.state.lang)
    values = {"withdrawn_on": withdrawn_on, "withdraw_reason": withdraw_reason}
    errors = {} if withdraw_reason.strip() else {"withdraw_reason": t("cases.err.reason_missing")}
    try:
        day = csv_import.parse_date(withdrawn_on)
    except ValueError:
        day = None
    if day is None:
        errors["withdrawn_on"] = t("cases.err.date")
    if not errors:
        try:
            service.withdraw(db, case, request.app.state.clock(), _today(request), Actor.of(user), day,
                             withdraw_reason.strip())
        except CaseError as exc:
            errors["withdrawn_on"] = _problem(request, exc)
    if errors:
        return page(request, "cases/case.html", _context(request, db, case, values=values, errors=errors),
                    status_code=422)
    return RedirectResponse(f"/cases/{case.id}?done=withdrawn", status_code=303)


@router.post("/cases/{case_id}/note", response_class=HTMLResponse)
def change_note(request: Request, db: Db, user: Surveyor, case_id: RowId,
                note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """A new note (empty clears it), by a manager or the surveyor in charge; the old one stays in the history."""
    case = _case_in_charge(request, db, user, case_id)
    if isinstance(case, HTMLResponse):
        return case
    try:
        service.change_note(db, case, request.app.state.clock(), Actor.of(user), note)
    except CaseError as exc:
        return page(request, "cases/case.html", _context(request, db, case, values={"note": note},
                                                         errors={"note": _problem(request, exc)}), status_code=422)
    return RedirectResponse(f"/cases/{case.id}?done=note", status_code=303)


@router.post("/cases/{case_id}/surveyor", response_class=HTMLResponse)
def reassign(request: Request, db: Db, user: Manager, case_id: RowId, surveyor: Annotated[str, Form()] = "",
             surveyor_reason: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Another surveyor takes the request over: written as a correction of the entry that last set the
    surveyor in charge, with its reason, as the API does it; that entry stays."""
    case = _case(request, db, case_id)
    if isinstance(case, HTMLResponse):
        return case
    t = translator(request.state.lang)
    values = {"surveyor": surveyor, "surveyor_reason": surveyor_reason}
    errors = {} if surveyor_reason.strip() else {"surveyor_reason": t("cases.err.reason_missing")}
    person = _person(surveyor)
    if person is None:
        errors["surveyor"] = t("cases.err.unknown_person")
    elif person == case.surveyor_id:
        errors["surveyor"] = t("cases.err.same_surveyor")
    if not errors:
        last = next(e for e in reversed(service.history(db, case)) if "surveyor_id" in e.changes)
        try:
            service.correct(db, case, request.app.state.clock(), _today(request), Actor.of(user), corrects=last.id,
                            changes={"surveyor_id": person}, reason=surveyor_reason)
        except CaseError as exc:
            errors["surveyor"] = _problem(request, exc)
    if errors:
        db.rollback()  # a refused correction may have set the field on the case already
        return page(request, "cases/case.html", _context(request, db, db.get(Case, case_id), values=values,
                                                         errors=errors), status_code=422)
    return RedirectResponse(f"/cases/{case.id}?done=surveyor", status_code=303)
