"""/audit: the audit log, newest first, paged, filtered by action and by person."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import func, select

from server.accounts.models import User
from server.api.deps import Db
from server.audit.models import AuditEvent
from server.web.deps import require_page
from server.web.render import OVERSIGHT, page

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50


@router.get("/audit", response_class=HTMLResponse)
def audit_log(request: Request, db: Db, user: Annotated[User, Depends(require_page(*OVERSIGHT))],
              action: Annotated[str, Query(max_length=32)] = "",
              actor: Annotated[str, Query(max_length=100)] = "",
              page_no: Annotated[int, Query(alias="page", ge=1, le=2**31 - 1)] = 1) -> HTMLResponse:
    action, actor = action.strip(), actor.strip()
    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        query = query.where(func.lower(AuditEvent.actor).contains(actor.lower(), autoescape=True))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page_no = min(page_no, pages)
    events = list(db.scalars(query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                             .limit(PAGE_SIZE).offset((page_no - 1) * PAGE_SIZE)))
    actions = list(db.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)))
    return page(request, "admin/audit.html", {
        "events": events, "actions": actions, "action": action, "actor": actor, "page_no": page_no,
        "pages": pages, "total": total, "filters": {k: v for k, v in (("action", action), ("actor", actor)) if v}})
