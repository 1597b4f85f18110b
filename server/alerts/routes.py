"""`/api/v1/alerts`: what a manager must look at, and acknowledging or resolving it."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Request, status
from pydantic import Field, field_validator
from sqlalchemy import select

from server.accounts.models import User
from server.alerts import actions, notes
from server.alerts.models import Alert, AlertOccurrence
from server.api.deps import MANAGE, READ, Db, Paging, require
from server.api.schemas import In, OfficeTime, Out, RowId, office_zone
from server.api.uid_view import TextWithUids
from server.web.i18n import translator

router = APIRouter(prefix="/alerts", tags=["alerts"])


class AlertOut(Out):
    id: int
    type: str
    severity: str
    state: str
    opened_at: OfficeTime
    count: int = Field(description="how many times it happened (repeats of one problem fold into one alert)")
    first_at: OfficeTime = Field(description="the first time (= opened_at)")
    last_at: OfficeTime | None = Field(description="the newest time")
    subject: TextWithUids
    reason: str | None
    reader_id: str | None
    person_id: int | None
    item_id: int | None
    checkout_id: int | None
    scan_id: str | None
    event_id: str | None
    note: str | None = Field(description="the notes, one line each, in English")
    acknowledged_at: OfficeTime | None
    acknowledged_by: str | None
    resolved_at: OfficeTime | None
    resolved_by: str | None

    @field_validator("note", mode="before")
    @classmethod
    def _worded(cls, stored: str | None) -> str | None:
        return "\n".join(notes.worded(stored, translator("en"), office_zone.get(), "en")) or None


class OccurrenceOut(Out):
    at: OfficeTime
    reader_id: str | None
    reason: str | None
    scan_id: str | None
    event_id: str | None


class AlertActionIn(In):
    note: str | None = Field(None, max_length=actions.NOTE_MAX, description="kept with the alert and in the audit log")


@router.get("", response_model=list[AlertOut], dependencies=[Depends(require(*READ))])
def list_alerts(db: Db, page: Paging,
                state: Literal["open", "acknowledged", "resolved"] | None = None) -> list[Alert]:
    query = select(Alert).order_by(Alert.opened_at.desc(), Alert.id.desc())
    if state:
        query = query.where(Alert.state == state)
    return list(db.scalars(query.limit(page.limit).offset(page.offset)))


@router.get("/{alert_id}/occurrences", response_model=list[OccurrenceOut], dependencies=[Depends(require(*READ))])
def list_occurrences(alert_id: RowId, db: Db, page: Paging) -> list[AlertOccurrence]:
    """Each time a folded alert's problem happened, the newest first (an alert that does not fold has none)."""
    if db.get(Alert, alert_id) is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id}")
    return list(db.scalars(select(AlertOccurrence).where(AlertOccurrence.alert_id == alert_id)
                           .order_by(AlertOccurrence.at.desc(), AlertOccurrence.id.desc())
                           .limit(page.limit).offset(page.offset)))


def _act(action, alert_id: int, request: Request, db: Db, user: User, body: AlertActionIn | None) -> Alert:
    try:
        return action(db, alert_id, by=user.name, at=request.app.state.clock(), zone=request.app.state.settings.zone,
                      note=body.note if body else None, address=request.client.host if request.client else None)
    except actions.AlertMissing:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id}") from None
    except actions.AlertResolved as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None


@router.post("/{alert_id}/acknowledge", response_model=AlertOut)
def acknowledge_alert(alert_id: RowId, request: Request, db: Db, user: Annotated[User, Depends(require(*MANAGE))],
                      body: Annotated[AlertActionIn | None, Body()] = None) -> Alert:
    """Someone is on it: open → acknowledged (acknowledging again only adds the note). 409 once resolved."""
    return _act(actions.acknowledge, alert_id, request, db, user, body)


@router.post("/{alert_id}/resolve", response_model=AlertOut)
def resolve_alert(alert_id: RowId, request: Request, db: Db, user: Annotated[User, Depends(require(*MANAGE))],
                  body: Annotated[AlertActionIn | None, Body()] = None) -> Alert:
    """Dealt with: open or acknowledged → resolved. 409 if it already was."""
    return _act(actions.resolve, alert_id, request, db, user, body)
