"""/training: the sessions held, everyone's standing, recording a session with its attendees, a session's
page (who attended; a late attendee added; an attendance withdrawn with its reason). Managers and admins
write; the ward's auditor reads."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.api.deps import Db
from server.api.schemas import RowId
from server.domain.training import must_be_trained, training_stage
from server.people.models import Person
from server.training import service
from server.training.models import MATERIALS, Attendance, TrainingSession
from server.web.admin.common import Posted, text
from server.web.admin.csv_import import parse_date
from server.web.deps import require_page
from server.web.i18n import translator
from server.web.render import page

router = APIRouter(include_in_schema=False)
WRITE = ("admin", "manager")
READ = ("admin", "manager", "auditor")
Reader = Annotated[User, Depends(require_page(*READ))]
Writer = Annotated[User, Depends(require_page(*WRITE))]
SHOWN = 200


def _today(request: Request) -> date:
    return request.app.state.clock().astimezone(request.app.state.settings.zone).date()


def standings(request: Request, db: Session) -> list[dict[str, Any]]:
    """Everyone who must be trained (active key holders and the roster), the most urgent first."""
    settings, today = request.app.state.settings, _today(request)
    order = {"untrained": 0, "lapsed": 1, "due_soon": 2, "current": 3}
    rows = []
    for p in db.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.name, Person.id)):
        if must_be_trained(active=p.active, key_holder=p.key_holder, roles=p.roles):
            stage = training_stage(p.training_on, today, valid_days=settings.training_valid_days,
                                   remind_days=settings.training_remind_days)
            rows.append({"person": p, "stage": stage.stage, "lapses_on": stage.lapses_on})
    return sorted(rows, key=lambda row: (order[row["stage"]], row["lapses_on"] or date.min))


@router.get("/training", response_class=HTMLResponse)
def sessions_page(request: Request, db: Db, user: Reader, saved: str | None = None) -> HTMLResponse:
    counts = dict(db.execute(select(Attendance.session_id, func.count()).where(Attendance.action == "attended")
                             .group_by(Attendance.session_id)).all())
    withdrawn = dict(db.execute(select(Attendance.session_id, func.count()).where(Attendance.action == "withdrawn")
                                .group_by(Attendance.session_id)).all())
    sessions = list(db.scalars(select(TrainingSession).order_by(TrainingSession.held_on.desc(),
                                                                TrainingSession.id.desc()).limit(SHOWN)))
    return page(request, "training/list.html", {
        "sessions": [(s, counts.get(s.id, 0) - withdrawn.get(s.id, 0)) for s in sessions],
        "standings": standings(request, db), "can_write": user.role in WRITE,
        "valid_days": request.app.state.settings.training_valid_days, "saved": saved == "recorded"})


def _staff(db: Session) -> list[Person]:
    return list(db.scalars(select(Person).where(Person.active.is_(True)).order_by(Person.name, Person.id)))


def _form_context(request: Request, db: Session, values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    t = translator(request.state.lang)
    return {"values": values, "errors": errors, "staff": _staff(db),
            "materials": [(m, t(f"training.material.{m}")) for m in MATERIALS]}


@router.get("/training/new", response_class=HTMLResponse)
def new_session_form(request: Request, db: Db, user: Writer) -> HTMLResponse:
    values = {"held_on": _today(request).isoformat(), "title": translator(request.state.lang)("training.default_title"),
              "material": "ward", "attendees": []}
    return page(request, "training/new.html", _form_context(request, db, values, {}))


def _read_form(form: Any) -> tuple[dict[str, Any], dict[str, str], service.SessionFacts | None, list[int]]:
    """What was typed (to refill the form), the problems by field, and the session's facts when readable."""
    values = {name: text(form, name) for name in ("held_on", "title", "material", "instructor", "minutes")}
    attendees = [int(v) for v in form.getlist("attendees") if isinstance(v, str) and v.isdigit() and len(v) < 10]
    values["attendees"] = attendees
    errors: dict[str, str] = {}
    held_on = minutes = None
    try:
        held_on = parse_date(values["held_on"])
    except ValueError:
        errors["held_on"] = "admin.err.date"
    if values["material"] not in MATERIALS:
        errors["material"] = "training.err.material"
    if values["minutes"]:
        if values["minutes"].isdigit() and len(values["minutes"]) < 6:
            minutes = int(values["minutes"])
        else:
            errors["minutes"] = "training.err.minutes"
    if errors or held_on is None:
        return values, errors, None, attendees
    facts = service.SessionFacts(held_on, values["title"], values["material"] or None, values["instructor"] or None,
                                 minutes)
    return values, errors, facts, attendees


@router.post("/training/new", response_class=HTMLResponse)
def record_session(request: Request, db: Db, user: Writer, form: Posted) -> Response:
    values, errors, facts, attendees = _read_form(form)
    session = None
    if facts is not None:
        try:
            session = service.record_session(db, request.app.state.clock(), _today(request), user.name, facts,
                                             attendees)
        except service.TrainingError as exc:
            errors[exc.field or "_"] = f"training.err.{exc.reason}"
    if session is None:
        t = translator(request.state.lang)
        return page(request, "training/new.html", _form_context(
            request, db, values, {field: t(key) for field, key in errors.items()}), status_code=422)
    return RedirectResponse(f"/training/{session.id}?saved=recorded", status_code=303)


def _session(db: Session, session_id: int) -> TrainingSession:
    session = db.get(TrainingSession, session_id)
    if session is None:
        raise HTTPException(404, f"no training session {session_id}")
    return session


def _session_page(request: Request, db: Session, session: TrainingSession, *, errors: dict[str, str] | None = None,
                  saved: str | None = None, status_code: int = 200) -> HTMLResponse:
    standing = service.standing_attendance(db, session.id)
    here = {person.id for _a, person in standing}
    people = {p.id: p.name for p in db.scalars(select(Person).where(Person.id.in_(
        select(Attendance.person_id).where(Attendance.session_id == session.id))))}
    history = list(db.scalars(select(Attendance).where(Attendance.session_id == session.id)
                              .order_by(Attendance.at, Attendance.id)))
    return page(request, "training/session.html", {
        "session": session, "standing": standing, "history": history, "names": people, "errors": errors or {},
        "others": [p for p in _staff(db) if p.id not in here], "can_write": request.state.user.role in WRITE,
        "saved": saved}, status_code=status_code)


@router.get("/training/{session_id}", response_class=HTMLResponse)
def session_page(request: Request, db: Db, user: Reader, session_id: RowId, saved: str | None = None) -> HTMLResponse:
    return _session_page(request, db, _session(db, session_id), saved=saved)


@router.post("/training/{session_id}/attendees", response_class=HTMLResponse)
def add_attendees(request: Request, db: Db, user: Writer, session_id: RowId, form: Posted) -> Response:
    session = _session(db, session_id)
    people = [int(v) for v in form.getlist("attendees") if isinstance(v, str) and v.isdigit() and len(v) < 10]
    try:
        service.add_attendees(db, request.app.state.clock(), user.name, session, people)
    except service.TrainingError as exc:
        t = translator(request.state.lang)
        return _session_page(request, db, session, errors={"attendees": t(f"training.err.{exc.reason}")},
                             status_code=422)
    return RedirectResponse(f"/training/{session.id}?saved=added", status_code=303)


@router.post("/training/attendance/{attendance_id}/withdraw", response_class=HTMLResponse)
def withdraw(request: Request, db: Db, user: Writer, attendance_id: RowId, form: Posted) -> Response:
    attendance = db.get(Attendance, attendance_id)
    if attendance is None:
        raise HTTPException(404, f"no attendance {attendance_id}")
    session = _session(db, attendance.session_id)
    try:
        service.withdraw(db, request.app.state.clock(), user.name, attendance_id, text(form, "reason"))
    except service.TrainingError as exc:
        t = translator(request.state.lang)
        return _session_page(request, db, session, errors={f"reason-{attendance_id}": t(f"training.err.{exc.reason}")},
                             status_code=422)
    return RedirectResponse(f"/training/{session.id}?saved=withdrawn", status_code=303)
