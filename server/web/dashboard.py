"""The manager's dashboard (the page left open all day): overdue items, open alerts, who is in,
readers; acknowledging and resolving alerts; remote unlock of a cabinet.

The panels are one fragment (`/dashboard/panels`) that the page's script fetches every 15 s with
the X-Mamori-Poll header, so the refresh never counts as someone being there (the idle lock still
comes). Every action is a plain form (POST, CSRF token, 303 back to the dashboard), so it works with
a keyboard, a screen reader, and without the script.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.alerts import actions
from server.alerts.models import Alert, AlertOccurrence
from server.api.deps import MANAGE, Db
from server.api.schemas import RowId
from server.checkouts.models import Checkout
from server.domain.alerts import CHASE_LEVELS
from server.incidents.models import Incident
from server.items.models import Item
from server.people.models import Person
from server.readers import degraded, unlock
from server.readers.heard import last_heard
from server.readers.models import Reader
from server.visits.presence import at_a_glance
from server.web import alert_list
from server.web.deps import require_page
from server.web.i18n import translator
from server.web.render import EVERYONE, office_time, page

router = APIRouter(include_in_schema=False)

# The dashboard is glanced at (and refreshed every 15 s): the longest overdue, with a link to the
# 持ち出し管理簿's overdue report for every one.
OVERDUE_SHOWN = 50
PRESENT_SHOWN = 100  # names on the dashboard; the roll call page lists everyone
NOTICES = {"acknowledged": "alert.acknowledged", "resolved": "alert.resolved"}
# Alerts that may be the sign of an incident (情報セキュリティ事故等): the dashboard offers to record one.
INCIDENT_ALERTS = ("escalated", "lost_prompt", "door_forced", "stocktake_missing", "tamper", "offline_unlock")

Viewer = Annotated[User, Depends(require_page(*EVERYONE))]
Manager = Annotated[User, Depends(require_page(*MANAGE))]


@dataclass(frozen=True)
class OverdueRow:
    checkout: Checkout
    item: Item
    person: Person
    late_s: float


def overdue_rows(db: Session, now: datetime) -> tuple[list[OverdueRow], int]:
    """Out and past due at `now` (never a stored flag), the longest overdue first."""
    where = (Checkout.returned_at.is_(None), Checkout.due_at < now)
    total = db.scalar(select(func.count()).select_from(Checkout).where(*where)) or 0
    rows = db.execute(
        select(Checkout, Item, Person).join(Item, Item.id == Checkout.item_id)
        .join(Person, Person.id == Checkout.person_id).where(*where)
        .order_by(Checkout.due_at, Checkout.id).limit(OVERDUE_SHOWN)
    ).all()
    return [OverdueRow(c, i, p, (now - c.due_at).total_seconds()) for c, i, p in rows], total


def readers(db: Session) -> list[Reader]:
    """Offline first (they need someone), then never heard from, then online but not working, then online."""
    state = case((Reader.online.is_(False), 0), (Reader.online.is_(None), 1), (Reader.degraded.is_not(None), 2),
                 else_=3)
    return list(db.scalars(select(Reader).order_by(state, Reader.id)))


def panels_context(request: Request, db: Session) -> dict:
    now = request.app.state.clock()
    overdue, overdue_total = overdue_rows(db, now)
    alerts, alerts_total = alert_list.open_entries(db)
    shown = [row.alert.id for row in alerts if row.alert.type in INCIDENT_ALERTS]
    recorded = dict(db.execute(select(Incident.alert_id, Incident.id).where(Incident.alert_id.in_(shown))).all()) \
        if shown else {}
    present = at_a_glance(db, now, request.app.state.settings.zone, PRESENT_SHOWN)
    reader_list = readers(db)
    ingest = getattr(request.app.state, "ingest", None)
    return {
        "now": now, "updated": now.astimezone(request.app.state.settings.zone).strftime("%H:%M:%S"),
        "overdue": overdue, "overdue_total": overdue_total, "alerts": alerts, "alerts_total": alerts_total,
        "present": present.shown, "present_more": present.more, "staff_count": present.staff,
        "visitor_count": present.visitors,
        "readers": reader_list, "heard": last_heard(db), "online_count": sum(1 for r in reader_list if r.online),
        "troubled": {r.id: degraded.codes(r.degraded) for r in reader_list if r.online and r.degraded},
        "broker_connected": unlock.broker_connected(ingest.link if ingest else None),
        "can_manage": request.state.user.role in MANAGE,
        "chase_levels": CHASE_LEVELS, "incident_alerts": INCIDENT_ALERTS, "incidents_of_alerts": recorded,
    }


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, db: Db, user: Viewer, done: str | None = None,
              reader: str | None = None) -> HTMLResponse:
    context = panels_context(request, db)
    t = translator(request.state.lang)
    notice = None
    if done in NOTICES:
        notice = t(NOTICES[done])
    elif done == "unlock" and reader and (cabinet := db.get(Reader, reader)) is not None:
        notice = t("dash.unlock.sent", name=cabinet.name, seconds=request.app.state.settings.unlock_s)
    return page(request, "dashboard.html", {**context, "notice": notice})


@router.get("/dashboard/panels", response_class=HTMLResponse)
def dashboard_panels(request: Request, db: Db, user: Viewer) -> HTMLResponse:
    """The panels alone, for the page's refresh (send X-Mamori-Poll: it is not activity)."""
    return page(request, "dashboard_panels.html", panels_context(request, db))


# ------------------------------------------------------------------ alerts

OCCURRENCES_SHOWN = 500


@router.get("/alerts/{alert_id}", response_class=HTMLResponse)
def alert_occurrences(request: Request, db: Db, user: Viewer, alert_id: RowId) -> HTMLResponse:
    """The list behind a folded alert: each time it happened, where, and why, the newest first."""
    alert = db.get(Alert, alert_id)
    if alert is None:
        return _message(request, "dash.alerts.title", translator(request.state.lang)("alert.missing"), 404)
    rows = db.execute(
        select(AlertOccurrence, Reader.name).outerjoin(Reader, Reader.id == AlertOccurrence.reader_id)
        .where(AlertOccurrence.alert_id == alert_id)
        .order_by(AlertOccurrence.at.desc(), AlertOccurrence.id.desc()).limit(OCCURRENCES_SHOWN)).all()
    return page(request, "alert_occurrences.html", {
        "alert": alert, "person": db.get(Person, alert.person_id) if alert.person_id else None,
        "item": db.get(Item, alert.item_id) if alert.item_id else None, "occurrences": rows,
        "reader": db.get(Reader, alert.reader_id) if alert.reader_id else None,
        "due_at": checkout.due_at if alert.checkout_id and (checkout := db.get(Checkout, alert.checkout_id)) else None,
        "chase_levels": CHASE_LEVELS,
        "total": db.scalar(select(func.count()).select_from(AlertOccurrence).where(AlertOccurrence.alert_id == alert_id))})


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _message(request: Request, title_key: str, message: str, status_code: int) -> HTMLResponse:
    return page(request, "dashboard_message.html", {"title_key": title_key, "message": message},
                status_code=status_code)


def _alert_action(request: Request, db: Session, user: User, alert_id: int, note: str, action, done: str) -> Response:
    settings, t = request.app.state.settings, translator(request.state.lang)
    try:
        action(db, alert_id, by=user.name, at=request.app.state.clock(), zone=settings.zone, note=note,
               address=_address(request))
    except actions.AlertMissing:
        return _message(request, "dash.alerts.title", t("alert.missing"), 404)
    except actions.AlertResolved as exc:
        at = office_time(exc.alert.resolved_at, settings.zone, request.state.lang)
        return _message(request, "dash.alerts.title", t("alert.already_resolved", name=exc.alert.resolved_by, at=at),
                        409)
    return RedirectResponse(f"/dashboard?done={done}", status_code=303)


@router.post("/alerts/{alert_id}/acknowledge")
def acknowledge_alert(request: Request, db: Db, user: Manager, alert_id: RowId,
                      note: Annotated[str, Form(max_length=actions.NOTE_MAX)] = "") -> Response:
    return _alert_action(request, db, user, alert_id, note, actions.acknowledge, "acknowledged")


@router.post("/alerts/{alert_id}/resolve")
def resolve_alert(request: Request, db: Db, user: Manager, alert_id: RowId,
                  note: Annotated[str, Form(max_length=actions.NOTE_MAX)] = "") -> Response:
    return _alert_action(request, db, user, alert_id, note, actions.resolve, "resolved")


# ------------------------------------------------------------------ remote unlock


def _unlock_page(request: Request, db: Session, reader_id: str, *, error: str | None = None,
                 status_code: int = 200) -> HTMLResponse:
    t = translator(request.state.lang)
    try:
        reader = unlock.cabinet_to_unlock(db, reader_id)
    except unlock.ReaderMissing:
        return _message(request, "dash.unlock.title", t("dash.unlock.missing"), 404)
    except unlock.NotACabinet as exc:
        return _message(request, "dash.unlock.title", t("dash.unlock.not_cabinet", name=exc.reader.name), 409)
    ingest = getattr(request.app.state, "ingest", None)
    return page(request, "dashboard_unlock.html", {
        "reader": reader, "error": error, "unlock_s": request.app.state.settings.unlock_s,
        "broker_connected": unlock.broker_connected(ingest.link if ingest else None),
    }, status_code=status_code)


@router.get("/readers/{reader_id}/unlock", response_class=HTMLResponse)
def confirm_unlock(request: Request, db: Db, user: Manager, reader_id: str) -> HTMLResponse:
    """The confirmation step: a page of its own, reachable and answerable with a keyboard."""
    return _unlock_page(request, db, reader_id)


@router.post("/readers/{reader_id}/unlock")
def unlock_cabinet(request: Request, db: Db, user: Manager, reader_id: str,
                   note: Annotated[str, Form(max_length=500)] = "") -> Response:
    settings, t = request.app.state.settings, translator(request.state.lang)
    ingest = getattr(request.app.state, "ingest", None)
    try:
        unlock.remote_unlock(db, ingest.link if ingest else None, reader_id, by=user.name,
                             at=request.app.state.clock(), zone=settings.zone, unlock_s=settings.unlock_s,
                             note=note, address=_address(request))
    except (unlock.ReaderMissing, unlock.NotACabinet):
        return _unlock_page(request, db, reader_id)
    except unlock.BrokerAway:
        return _unlock_page(request, db, reader_id, error=t("dash.unlock.broker_down"), status_code=503)
    return RedirectResponse(f"/dashboard?done=unlock&reader={quote(reader_id)}", status_code=303)
