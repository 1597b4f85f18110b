"""`/api/v1/alerts`: what a manager must look at."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from sqlalchemy import select

from server.alerts.models import Alert
from server.api.deps import READ, Db, Paging, require
from server.api.schemas import OfficeTime, Out

router = APIRouter(prefix="/alerts", tags=["alerts"])


class AlertOut(Out):
    id: int
    type: str
    severity: str
    state: str
    opened_at: OfficeTime
    subject: str
    reason: str | None
    reader_id: str | None
    person_id: int | None
    item_id: int | None
    scan_id: str | None
    note: str | None
    acknowledged_at: OfficeTime | None
    acknowledged_by: str | None
    resolved_at: OfficeTime | None
    resolved_by: str | None


@router.get("", response_model=list[AlertOut], dependencies=[Depends(require(*READ))])
def list_alerts(db: Db, page: Paging,
                state: Literal["open", "acknowledged", "resolved"] | None = None) -> list[Alert]:
    query = select(Alert).order_by(Alert.opened_at.desc(), Alert.id.desc())
    if state:
        query = query.where(Alert.state == state)
    return list(db.scalars(query.limit(page.limit).offset(page.offset)))
