"""/incidents: the record of an information-security incident (情報セキュリティ事故等, the seed's rule (9)).

Opened by a manager by hand, from a lost-item record or from an alert on the dashboard; its timeline
is preserved from the ledger in the same transaction; steps (first aid, reports to the manager and
the ward, notes, cause, prevention) are only added; closing needs the ward told, the cause and the
prevention. Managers and admins write, auditors read. A surveyor who finds an incident tells the
manager at once (the seed's rule), who records it here: the pages are not theirs.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.alerts.models import Alert
from server.api.deps import Db
from server.api.schemas import RowId
from server.cases.service import Actor
from server.domain import incidents as rules
from server.incidents import service, timeline
from server.incidents.models import Incident
from server.items.models import Item
from server.lost.finding import find_items
from server.lost.models import LostItem
from server.people.models import Person
from server.readers.models import Reader
from server.web.admin.common import EDIT, VIEW, Posted, address, text
from server.web.deps import require_page
from server.web.i18n import translator
from server.web.incident_words import IncidentWords
from server.web.render import page

router = APIRouter(include_in_schema=False)
Viewer = Annotated[User, Depends(require_page(*VIEW))]
Manager = Annotated[User, Depends(require_page(*EDIT))]
DONE = {"opened": "inc.opened", "step": "inc.added", "extended": "inc.extended", "closed": "inc.closed"}


class BadTime(ValueError):
    pass


def local_time(request: Request, typed: str) -> datetime | None:
    """A datetime-local field ("2026-12-03T10:15") in office time; None when empty."""
    typed = typed.strip().replace(" ", "T")
    if not typed:
        return None
    try:
        moment = datetime.fromisoformat(typed)
    except ValueError:
        raise BadTime(typed) from None
    return moment.replace(tzinfo=request.app.state.settings.zone) if moment.tzinfo is None else moment


def _field_time(request: Request, value: datetime | None) -> str:
    return value.astimezone(request.app.state.settings.zone).strftime("%Y-%m-%dT%H:%M") if value else ""


def words(request: Request) -> IncidentWords:
    return IncidentWords(translator(request.state.lang), request.app.state.settings.zone, request.state.lang)


def _choices(request: Request, db: Session) -> dict[str, Any]:
    t = translator(request.state.lang)
    return {"kind_options": [(kind, t(f"inc.kind.{kind}")) for kind in rules.KINDS],
            "step_options": [(step, t(f"inc.step.{step}")) for step in rules.STEPS],"people": db.execute(select(Person.id, Person.name).where(Person.active.is_(True))
                                 .order_by(Person.name)).all(),
            "cabinets": db.execute(select(Reader.id, Reader.name).where(Reader.role == "cabinet")
                                   .order_by(Reader.name)).all()}


@router.get("/incidents", response_class=HTMLResponse)
def incident_list(request: Request, db: Db, user: Viewer) -> HTMLResponse:
    return page(request, "incidents/list.html", {"incidents": service.listing(db), "can_edit": user.role in EDIT})


# ------------------------------------------------------------------ opening


def _origin(request: Request, db: Session, lost_id: str, alert_id: str,
            period_from: date | None = None, picked: dict | None = None) -> service.Origin | None:
    """Where the incident comes from; None when the lost-item record or the alert named does not exist."""
    now, zone = request.app.state.clock(), request.app.state.settings.zone
    if lost_id.isdigit():
        lost = db.get(LostItem, int(lost_id))
        return service.from_lost_item(db, lost, now, zone) if lost else None
    if alert_id.isdigit():
        alert = db.get(Alert, int(alert_id))
        return service.from_alert(db, alert, now, zone) if alert else None
    picked = picked or {}
    start = rules.day_start(datetime.combine(period_from or now.astimezone(zone).date(), datetime.min.time(), zone),
                            zone)
    return service.Origin("hand", timeline.Scope(start, now, *(tuple(picked.get(k, ())) for k in
                                                              ("items", "people", "readers"))))


def _picked(db: Session, form: Any, errors: dict[str, str], t) -> dict[str, tuple]:
    """The item (typed), person and cabinet chosen on a form."""
    items: tuple[int, ...] = ()
    if typed := text(form, "item"):
        found = find_items(db, typed)
        if len(found) != 1:
            errors["item"] = t("inc.err.no_item")
        else:
            items = (found[0].id,)
    person = text(form, "person")
    people = (int(person),) if person.isdigit() and db.get(Person, int(person)) else ()
    cabinet = text(form, "cabinet")
    readers = (cabinet,) if cabinet and db.get(Reader, cabinet) else ()
    return {"items": items, "people": people, "readers": readers}


def _new_page(request: Request, db: Session, origin: service.Origin, values: dict, errors: dict,
              status_code: int = 200) -> HTMLResponse:
    scope = origin.scope
    names = {"items": db.scalars(select(Item.label).where(Item.id.in_(scope.items))).all(),
             "people": db.scalars(select(Person.name).where(Person.id.in_(scope.people))).all(),
             "readers": db.scalars(select(Reader.name).where(Reader.id.in_(scope.readers))).all()}
    alert = db.get(Alert, origin.alert_id) if origin.alert_id else None
    return page(request, "incidents/new.html", {**_choices(request, db), "origin": origin, "names": names,
                                                "origin_alert_type": alert.type if alert else None,
                                                "values": values, "errors": errors}, status_code=status_code)


@router.get("/incidents/new", response_class=HTMLResponse)
def new_incident(request: Request, db: Db, user: Manager, lost: str = "", alert: str = "") -> HTMLResponse:
    origin = _origin(request, db, lost, alert)
    if origin is None:
        return _message(request, "inc.origin_missing", 404)
    now = request.app.state.clock()
    values = {"kind": origin.kind, "summary": origin.summary, "discovered_by": "",
              "discovered_at": _field_time(request, origin.discovered_at or now), "lost": lost, "alert": alert,
              "period_from": origin.scope.start.astimezone(request.app.state.settings.zone).date().isoformat()}
    return _new_page(request, db, origin, values, {})


@router.post("/incidents", response_class=HTMLResponse)
def open_incident(request: Request, db: Db, user: Manager, form: Posted) -> Response:
    t = translator(request.state.lang)
    values = {key: text(form, key) for key in ("kind", "summary", "discovered_at", "discovered_by", "first_aid",
                                                "manager_reported_at", "period_from", "item", "person", "cabinet",
                                                "lost", "alert")}
    values["first_aid"] = str(form.get("first_aid") or "")
    errors: dict[str, str] = {}
    times: dict[str, datetime | None] = {}
    for key in ("discovered_at", "manager_reported_at"):
        try:
            times[key] = local_time(request, values[key])
        except BadTime:
            errors[key] = t("inc.err.bad_time")
    if times.get("discovered_at") is None and "discovered_at" not in errors:
        errors["discovered_at"] = t("inc.err.text_required")
    try:
        period_from = date.fromisoformat(values["period_from"]) if values["period_from"] else None
    except ValueError:
        period_from, errors["period_from"] = None, t("inc.err.bad_time")
    picked = _picked(db, form, errors, t)
    origin = _origin(request, db, values["lost"], values["alert"], period_from, picked)
    if origin is None:
        return _message(request, "inc.origin_missing", 404)
    if errors:
        return _new_page(request, db, origin, values, errors, 422)
    opening = service.Opening(kind=values["kind"], summary=values["summary"], discovered_at=times["discovered_at"],
                              discovered_by=values["discovered_by"], first_aid=values["first_aid"],
                              manager_reported_at=times["manager_reported_at"])
    try:
        incident = service.open_incident(db, request.app.state.clock(), Actor.of(user), opening, origin,
                                         address(request))
    except service.IncidentError as exc:
        return _new_page(request, db, origin, values, {exc.field: t(f"inc.err.{exc.reason}")}, 422)
    lines = len(timeline.lines_of(db, incident.id))
    return RedirectResponse(f"/incidents/{incident.id}?done=opened&lines={lines}", status_code=303)


# ------------------------------------------------------------------ one incident


def _message(request: Request, key: str, status_code: int) -> HTMLResponse:
    return page(request, "incidents/message.html", {"message": translator(request.state.lang)(key)},
                status_code=status_code)


def the_incident(request: Request, db: Session, incident_id: int) -> Incident | HTMLResponse:
    incident = db.get(Incident, incident_id)
    return incident if incident is not None else _message(request, "inc.missing", 404)


def incident_context(request: Request, db: Session, incident: Incident) -> dict[str, Any]:
    """What the page, the print and the PDF show of an incident."""
    w = words(request)
    alert = db.get(Alert, incident.alert_id) if incident.alert_id else None
    return {"incident": incident, "w": w, "alert": alert, "subjects": timeline.subjects(db, incident),
            "log": [w.step(e) for e in service.events_of(db, incident.id)],
            "lines": [w.line(line) for line in timeline.lines_of(db, incident.id)]}


def _incident_page(request: Request, db: Session, incident: Incident, *, values: dict | None = None,
                   errors: dict | None = None, notice: str | None = None, status_code: int = 200) -> HTMLResponse:
    return page(request, "incidents/incident.html", {
        **incident_context(request, db, incident), **_choices(request, db), "notice": notice,
        "can_edit": request.state.user.role in EDIT and incident.closed_at is None,
        "values": values or {"period_from": incident.period_from.astimezone(request.app.state.settings.zone)
                             .date().isoformat()},
        "errors": errors or {}}, status_code=status_code)


@router.get("/incidents/{incident_id}", response_class=HTMLResponse)
def incident_page(request: Request, db: Db, user: Viewer, incident_id: RowId, done: str | None = None,
                  lines: int = 0) -> HTMLResponse:
    incident = the_incident(request, db, incident_id)
    if isinstance(incident, HTMLResponse):
        return incident
    notice = translator(request.state.lang)(DONE[done], lines=lines) if done in DONE else None
    return _incident_page(request, db, incident, notice=notice)


@router.post("/incidents/{incident_id}/steps", response_class=HTMLResponse)
def add_step(request: Request, db: Db, user: Manager, incident_id: RowId, form: Posted) -> Response:
    incident = the_incident(request, db, incident_id)
    if isinstance(incident, HTMLResponse):
        return incident
    t = translator(request.state.lang)
    values = {"step": text(form, "step"), "when": text(form, "when"), "text": str(form.get("text") or "")}
    try:
        happened = local_time(request, values["when"])
        service.add_step(db, incident, request.app.state.clock(), Actor.of(user), values["step"], values["text"],
                         happened, address(request))
    except BadTime:
        return _incident_page(request, db, incident, values=values, errors={"when": t("inc.err.bad_time")},
                              status_code=422)
    except service.IncidentError as exc:
        field = {"unknown_step": "step", "closed": ""}.get(exc.reason, exc.field)
        return _incident_page(request, db, incident, values=values, errors={field: t(f"inc.err.{exc.reason}")},
                              status_code=409 if exc.reason == "closed" else 422)
    return RedirectResponse(f"/incidents/{incident.id}?done=step#log", status_code=303)


@router.post("/incidents/{incident_id}/timeline", response_class=HTMLResponse)
def extend_timeline(request: Request, db: Db, user: Manager, incident_id: RowId, form: Posted) -> Response:
    incident = the_incident(request, db, incident_id)
    if isinstance(incident, HTMLResponse):
        return incident
    t, zone, now = translator(request.state.lang), request.app.state.settings.zone, request.app.state.clock()
    values = {key: text(form, key) for key in ("period_from", "period_to", "item", "person", "cabinet")}
    errors: dict[str, str] = {}
    picked = _picked(db, form, errors, t)
    try:
        start = rules.day_start(datetime.combine(date.fromisoformat(values["period_from"]), datetime.min.time(),
                                                 zone), zone) if values["period_from"] else incident.period_from
    except ValueError:
        start, errors["period_from"] = incident.period_from, t("inc.err.bad_time")
    try:
        end = local_time(request, values["period_to"]) or now
    except BadTime:
        end, errors["period_to"] = now, t("inc.err.bad_time")
    if not errors:
        try:
            added = service.extend(db, incident, now, Actor.of(user),
                                   timeline.Scope(start, end, picked["items"], picked["people"], picked["readers"]),
                                   address(request))
        except service.IncidentError as exc:
            errors[exc.field] = t(f"inc.err.{exc.reason}")
        else:
            return RedirectResponse(f"/incidents/{incident.id}?done=extended&lines={added}#timeline", status_code=303)
    return _incident_page(request, db, incident, values=values, errors=errors, status_code=422)


@router.post("/incidents/{incident_id}/close", response_class=HTMLResponse)
def close_incident(request: Request, db: Db, user: Manager, incident_id: RowId) -> Response:
    incident = the_incident(request, db, incident_id)
    if isinstance(incident, HTMLResponse):
        return incident
    try:
        service.close(db, incident, request.app.state.clock(), Actor.of(user), address(request))
    except service.IncidentError as exc:
        t = translator(request.state.lang)
        return _incident_page(request, db, incident, errors={"close": t(f"inc.err.{exc.reason}")}, status_code=409)
    return RedirectResponse(f"/incidents/{incident.id}?done=closed", status_code=303)
