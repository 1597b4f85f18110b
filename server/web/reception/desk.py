"""/reception: today's expected visitors, who is in, badges not back, and registering a walk-in.

The audit log names a visit by its number only: visitor names are anonymised after the retention
period, and the audit log is kept for good.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.api.deps import Db
from server.domain.visits import visit_window, walk_in_window
from server.people.models import Person, VisitorBadge
from server.visits import service
from server.visits.models import Visit
from server.visits.queries import for_day
from server.web.admin.common import Posted, audit, messages, readers, text
from server.web.deps import require_page
from server.web.reception import forms
from server.web.render import page

router = APIRouter(include_in_schema=False)
DESK = ("admin", "manager", "receptionist")
HOSTS = ("admin", "manager", "receptionist", "surveyor")
DONE = {"registered": "rcp.registered", "preregistered": "rcp.preregistered", "lent": "rcp.badge_lent",
        "returned": "rcp.badge_back.returned", "signed_out": "rcp.badge_back.signed_out", "cancelled": "rcp.cancelled",
        "marked_in": "rcp.marked_in", "marked_out": "rcp.marked_out"}
Desk = Annotated[User, Depends(require_page(*DESK))]
Host = Annotated[User, Depends(require_page(*HOSTS))]


def _today(request: Request) -> tuple[date, datetime]:
    zone = request.app.state.settings.zone
    now = request.app.state.clock()
    local = now.astimezone(zone).date()
    return local, datetime.combine(local, time(0), tzinfo=zone)


def _badge_labels(db: Session) -> dict[str, str]:
    return {uid: label for uid, label in db.execute(select(VisitorBadge.uid, VisitorBadge.label))}


def _badges(db: Session) -> dict[str, Any]:
    free = service.free_badges(db)
    return {"free": free, "badge_options": [(b.uid, b.label) for b in free]}


def _visits(db: Session, *where, order_by) -> list:
    """Visits as plain rows (attributes by column name): the desk only shows them, and a day's 1,300
    as ORM objects cost 5-10 ms more at scale (docs/performance.md)."""
    return db.execute(select(Visit.__table__).where(*where).order_by(*order_by)).all()


def _desk(request: Request, db: Session, values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    day, start = _today(request)
    day_visits = _visits(db, for_day(start), Visit.state.in_(("expected", "in", "out")),
                         order_by=(Visit.expected_at, Visit.valid_from, Visit.id))
    # Who left is no longer expected: a list of its own, latest first, so the day's list stays short.
    today = [v for v in day_visits if v.state != "out"]
    left = sorted((v for v in day_visits if v.state == "out"), key=lambda v: (v.left_at, v.id), reverse=True)
    inside = _visits(db, Visit.state == "in", order_by=(Visit.entered_at,))
    not_back = _visits(db, Visit.badge_uid.is_not(None), Visit.badge_returned_at.is_(None),
                       Visit.state.in_(("not_signed_out", "expected")), order_by=(Visit.id,))
    listed = {v.id for v in today}
    not_back = [v for v in not_back if v.state == "not_signed_out" or v.id not in listed]
    return {"day": day, "today": today, "left": left, "inside": inside, "not_back": not_back, "labels": _badge_labels(db),
            **_badges(db), "hosts": forms.hosts(db), "values": values, "errors": errors,
            "readers": readers(db), "zone": request.app.state.settings.zone}


@router.get("/reception", response_class=HTMLResponse)
def desk(request: Request, db: Db, user: Desk, done: str | None = None) -> HTMLResponse:
    return page(request, "reception/desk.html", {**_desk(request, db, {}, {}), "notice": DONE.get(done or "")})


def _host(db: Session, body: forms.VisitForm) -> Person | None:
    return db.get(Person, body.host_person_id) if body.host_person_id else None


@router.post("/reception", response_class=HTMLResponse)
def register_walk_in(request: Request, db: Db, user: Desk, form: Posted) -> Response:
    typed = forms.read(form)
    day, _start = _today(request)
    body, problems = forms.validate(db, typed, day, future_only=False)
    now = request.app.state.clock()
    settings = request.app.state.settings
    if body is not None:
        start, end = walk_in_window(now, opening=settings.opening_time, closing=settings.closing_time,
                                    zone=settings.zone)
        try:
            visit = service.register(db, now, visitor_name=body.visitor_name, organisation=body.organisation,
                                     purpose=body.purpose, host_person=_host(db, body), badge_uid=body.badge_uid,
                                     valid_from=start, valid_until=end, by=user.name)
        except service.VisitProblem as exc:
            problems = {exc.field: (exc.key, {})}
        else:
            audit(db, request, "visit_registered", {"visit": visit.id, "walk_in": True, "card": visit.badge_uid})
            return RedirectResponse(f"/reception/visits/{visit.id}?done=registered", status_code=303)
    return page(request, "reception/desk.html", _desk(request, db, typed, messages(request, problems)),
                status_code=422)


def _new_context(request: Request, db: Session, values: dict[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    return {"values": values, "errors": errors, "hosts": forms.hosts(db)}


@router.get("/visits/new", response_class=HTMLResponse)
def expect_page(request: Request, db: Db, user: Host) -> HTMLResponse:
    day, _start = _today(request)
    mine = user.person_id  # the host's own staff record, when the account is linked to one
    values = {"day": day.isoformat(), "host_person_id": str(mine) if mine else ""}
    return page(request, "reception/expect.html", _new_context(request, db, values, {}))


@router.post("/visits/new", response_class=HTMLResponse)
def expect_visitor(request: Request, db: Db, user: Host, form: Posted) -> Response:
    """A host (or reception) registers a visitor for today or a later day; the badge is lent at arrival."""
    typed = forms.read(form)
    typed["badge_uid"] = ""
    day, _start = _today(request)
    body, problems = forms.validate(db, typed, day, future_only=True)
    if body is not None and body.day is None:
        problems = {"day": ("admin.err.required", {})}
    if problems or body is None or body.day is None:
        return page(request, "reception/expect.html", _new_context(request, db, typed, messages(request, problems)),
                    status_code=422)
    settings = request.app.state.settings
    start, end = visit_window(body.day, body.expected_time, opening=settings.opening_time,
                              closing=settings.closing_time, zone=settings.zone)
    expected = datetime.combine(body.day, body.expected_time, tzinfo=settings.zone) if body.expected_time else None
    visit = service.register(db, request.app.state.clock(), visitor_name=body.visitor_name,
                             organisation=body.organisation, purpose=body.purpose, host_person=_host(db, body),
                             expected_at=expected, valid_from=start, valid_until=end, by=user.name)
    audit(db, request, "visit_registered", {"visit": visit.id, "day": body.day})
    target = f"/reception/visits/{visit.id}" if user.role in DESK else "/visits/new"
    return RedirectResponse(f"{target}?done=preregistered", status_code=303)


def _visit(db: Session, visit_id: int) -> Visit:
    visit = db.get(Visit, visit_id) if 0 < visit_id < 2**31 else None
    if visit is None:
        raise HTTPException(404, f"no visit {visit_id}")
    return visit


def _visit_context(request: Request, db: Session, visit: Visit, values: dict, errors: dict) -> dict[str, Any]:
    labels = _badge_labels(db)
    return {"visit": visit, "badge_label": labels.get(visit.badge_uid or ""), **_badges(db), "readers": readers(db), "values": values, "errors": errors}


@router.get("/reception/visits/{visit_id}", response_class=HTMLResponse)
def visit_page(request: Request, db: Db, visit_id: int, user: Desk, done: str | None = None) -> HTMLResponse:
    visit = _visit(db, visit_id)
    return page(request, "reception/visit.html", {**_visit_context(request, db, visit, {}, {}),
                                                   "notice": DONE.get(done or "")})


@router.post("/reception/visits/{visit_id}/badge", response_class=HTMLResponse)
def lend_badge(request: Request, db: Db, visit_id: int, user: Desk, form: Posted) -> Response:
    visit = _visit(db, visit_id)
    typed = {"badge_uid": text(form, "badge_uid").upper()}
    try:
        if not typed["badge_uid"]:
            raise service.VisitProblem("badge_uid", "admin.err.required", "")
        service.lend_badge(db, visit, typed["badge_uid"])
    except service.VisitProblem as exc:
        errors = messages(request, {exc.field: (exc.key, {})})
        return page(request, "reception/visit.html", _visit_context(request, db, visit, typed, errors), status_code=422)
    audit(db, request, "visit_badge_lent", {"visit": visit.id, "card": visit.badge_uid})
    return RedirectResponse(f"/reception/visits/{visit.id}?done=lent", status_code=303)


def _act(request: Request, db: Session, visit_id: int, change) -> Response:
    """Apply a desk action to a visit; its outcome names the notice, and the audit entry the visit."""
    visit = _visit(db, visit_id)
    badge = visit.badge_uid
    try:
        outcome, action = change(visit, request.app.state.clock(), request.state.user.name)
    except service.VisitProblem as exc:
        errors = messages(request, {"": (exc.key, {})})
        return page(request, "reception/visit.html", _visit_context(request, db, visit, {}, errors), status_code=409)
    audit(db, request, action, {"visit": visit.id, "card": badge, "outcome": outcome if badge else None})
    return RedirectResponse(f"/reception/visits/{visit.id}?done={outcome}", status_code=303)


@router.post("/reception/visits/{visit_id}/badge-back", response_class=HTMLResponse)
def badge_back(request: Request, db: Db, visit_id: int, user: Desk) -> Response:
    return _act(request, db, visit_id, lambda v, now, by: (service.badge_back(db, v, now, by), "visit_badge_back"))


@router.post("/reception/visits/{visit_id}/cancel", response_class=HTMLResponse)
def cancel(request: Request, db: Db, visit_id: int, user: Desk) -> Response:
    return _act(request, db, visit_id, lambda v, now, by: (service.cancel(db, v, now, by) or "cancelled",
                                                            "visit_cancelled"))


@router.post("/reception/visits/{visit_id}/in", response_class=HTMLResponse)
def mark_in(request: Request, db: Db, visit_id: int, user: Desk) -> Response:
    """A visitor without a badge comes in, marked at the desk by the receptionist."""
    return _act(request, db, visit_id, lambda v, now, by: (service.mark_in(db, v, now, by) or "marked_in",
                                                            "visit_marked_in"))


@router.post("/reception/visits/{visit_id}/out", response_class=HTMLResponse)
def mark_out(request: Request, db: Db, visit_id: int, user: Desk) -> Response:
    return _act(request, db, visit_id, lambda v, now, by: (service.mark_out(db, v, now, by) or "marked_out",
                                                            "visit_marked_out"))


@router.get("/reception/visits/{visit_id}/tag", response_class=HTMLResponse)
def name_tag(request: Request, db: Db, visit_id: int, user: Desk) -> HTMLResponse:
    """A name tag for a label printer (62 × 100 mm) or an A4 sheet: 来所者, name, organisation, host, date."""
    visit = _visit(db, visit_id)
    day = (visit.valid_from or visit.registered_at).astimezone(request.app.state.settings.zone).date()
    return page(request, "reception/tag.html", {"visit": visit, "day": day,
                                                 "badge_label": _badge_labels(db).get(visit.badge_uid or "")})
