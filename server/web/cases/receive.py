"""/cases/new: a manager receives one request from the ward (依頼受理) into the 受付簿; nothing typed is lost
when something is refused, and the problem is shown next to its field."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.api.deps import Db
from server.cases import service
from server.cases.service import Actor, CaseError
from server.domain.cases import KINDS
from server.people.models import Person
from server.web.admin import csv_import
from server.web.deps import require_page
from server.web.i18n import translator
from server.web.render import page

router = APIRouter(include_in_schema=False)
Manager = Annotated[User, Depends(require_page("admin", "manager"))]
# Which form field each refusal of the service belongs next to.
FIELD_OF = {"number_empty": "number", "number_too_long": "number", "number_not_a_number": "number",
            "number_taken": "number", "unknown_kind": "kind", "deadline_before_received": "deadline",
            "unknown_person": "surveyor", "personal_data": "note", "note_too_long": "note"}


def _today(request: Request) -> date:
    return request.app.state.clock().astimezone(request.app.state.settings.zone).date()


def _context(request: Request, db: Session, values: dict[str, str], errors: dict[str, str]) -> dict[str, Any]:
    t = translator(request.state.lang)
    staff = [(str(i), name) for i, name in db.execute(select(Person.id, Person.name).where(Person.active)
                                                       .order_by(Person.name))]
    return {"values": values, "errors": errors,
            "kinds": [("", t("cases.destroy.choose"))] + [(k, t(f"cases.kind.{k}")) for k in KINDS],
            "staff": [("", t("cases.empty"))] + staff}


@router.get("/cases/new", response_class=HTMLResponse)
def receive_page(request: Request, db: Db, user: Manager) -> HTMLResponse:
    return page(request, "cases/receive.html", _context(request, db, {"received_on": _today(request).isoformat()}, {}))


def _day(text: str, field: str, errors: dict[str, str], t) -> date | None:
    try:
        return csv_import.parse_date(text)
    except ValueError:
        errors[field] = t("cases.err.date")
        return None


@router.post("/cases/new", response_class=HTMLResponse)
def receive(request: Request, db: Db, user: Manager, number: Annotated[str, Form(max_length=200)] = "",
            received_on: Annotated[str, Form(max_length=40)] = "", kind: Annotated[str, Form(max_length=20)] = "",
            surveyor: Annotated[str, Form(max_length=20)] = "", deadline: Annotated[str, Form(max_length=40)] = "",
            note: Annotated[str, Form(max_length=2000)] = "") -> Response:
    """The request as the ward sent it: its case number, never a resident's name; the event is its record."""
    t = translator(request.state.lang)
    values = {"number": number.strip(), "received_on": received_on, "kind": kind, "surveyor": surveyor,
              "deadline": deadline, "note": note}
    errors: dict[str, str] = {}
    received = _day(received_on, "received_on", errors, t)
    if received is None and "received_on" not in errors:
        errors["received_on"] = t("cases.err.date")
    due = _day(deadline, "deadline", errors, t)
    if kind not in KINDS:
        errors["kind"] = t("cases.err.unknown_kind")
    surveyor_id = int(surveyor) if surveyor.isdigit() and len(surveyor) < 10 else None
    if surveyor and surveyor_id is None:
        errors["surveyor"] = t("cases.err.unknown_person")
    if not errors:
        try:
            case = service.receive(db, request.app.state.clock(), Actor.of(user), number=values["number"],
                                   received_on=received, kind=kind, deadline=due, note=note, surveyor_id=surveyor_id,
                                   retention_days=request.app.state.settings.case_retention_days)
        except CaseError as exc:
            errors[FIELD_OF.get(exc.reason, "number")] = t(f"cases.err.{exc.reason}")
    if errors:
        return page(request, "cases/receive.html", _context(request, db, values, errors), status_code=422)
    return RedirectResponse(f"/cases/{case.id}?done=received", status_code=303)
