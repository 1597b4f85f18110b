"""/audit: the audit log, newest first, paged, filtered by action and by person; as CSV and on A4."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.api.deps import Db
from server.audit.models import AuditEvent
from server.web.admin.common import audit
from server.web.audit_words import Words
from server.web.csv_export import csv_response, to_csv
from server.web.deps import require_page
from server.web.i18n import translator
from server.web.printout import printout
from server.web.render import OVERSIGHT, duration, page

router = APIRouter(include_in_schema=False)
PAGE_SIZE = 50
EXPORT_MAX = 20_000  # a CSV or printout beyond this is a mistake in the filter, not an audit
Viewer = Annotated[User, Depends(require_page(*OVERSIGHT))]


@dataclass(frozen=True)
class Filter:
    action: str
    actor: str

    def query(self) -> Select:
        query = select(AuditEvent)
        if self.action:
            query = query.where(AuditEvent.action == self.action)
        if self.actor:
            query = query.where(func.lower(AuditEvent.actor).contains(self.actor.lower(), autoescape=True))
        return query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())

    def params(self) -> dict[str, str]:
        return {k: v for k, v in (("action", self.action), ("actor", self.actor)) if v}


def _filter(action: Annotated[str, Query(max_length=32)] = "",
            actor: Annotated[str, Query(max_length=100)] = "") -> Filter:
    return Filter(action.strip(), actor.strip())


Filtered = Annotated[Filter, Depends(_filter)]


def _words(request: Request) -> Words:
    lang = request.state.lang
    return Words(translator(lang), lang, request.app.state.settings.zone, lambda s: duration(s, lang))


def _count(db: Session, f: Filter) -> int:
    return db.scalar(select(func.count()).select_from(f.query().order_by(None).subquery())) or 0


def rows_of(request: Request, events: list[AuditEvent]) -> list[list[str]]:
    words, zone = _words(request), request.app.state.settings.zone
    return [[f"{e.at.astimezone(zone):%Y/%m/%d %H:%M:%S}", e.actor or "—", words.action(e.action),
             words.detail(e.detail or ""), e.address or "—"] for e in events]


def headers_of(request: Request) -> list[str]:
    t = translator(request.state.lang)
    return [t(f"audit.{c}") for c in ("at", "actor", "action", "detail", "address")]


@router.get("/audit", response_class=HTMLResponse)
def audit_log(request: Request, db: Db, user: Viewer, f: Filtered,
              page_no: Annotated[int, Query(alias="page", ge=1, le=2**31 - 1)] = 1) -> HTMLResponse:
    total = _count(db, f)
    pages = max(1, -(-total // PAGE_SIZE))
    page_no = min(page_no, pages)
    events = list(db.scalars(f.query().limit(PAGE_SIZE).offset((page_no - 1) * PAGE_SIZE)))
    words = _words(request)
    codes = db.scalars(select(AuditEvent.action).distinct())
    actions = sorted(((code, words.action(code)) for code in codes), key=lambda a: a[1])
    return page(request, "admin/audit.html", {
        "rows": rows_of(request, events), "actions": actions, "action": f.action, "actor": f.actor, "page_no": page_no,
        "pages": pages, "total": total, "filters": f.params(), "headers": headers_of(request)})


@router.get("/audit.csv")
def audit_csv(request: Request, db: Db, user: Viewer, f: Filtered) -> Response:
    if _count(db, f) > EXPORT_MAX:
        return _too_many(request)
    events = list(db.scalars(f.query()))
    audit(db, request, "audit_log_exported", {"lines": len(events), **_facts(f)})
    today = request.app.state.clock().astimezone(request.app.state.settings.zone)
    name = f"操作記録_{today:%Y%m%d}.csv" if request.state.lang == "ja" else f"audit-log_{today:%Y%m%d}.csv"
    return csv_response(to_csv(headers_of(request), rows_of(request, events)), name)


@router.get("/audit/print", response_class=HTMLResponse)
def audit_print(request: Request, db: Db, user: Viewer, f: Filtered) -> HTMLResponse:
    if _count(db, f) > EXPORT_MAX:
        return _too_many(request)
    events = list(db.scalars(f.query()))
    audit(db, request, "audit_log_printed", {"lines": len(events), **_facts(f)})
    words = _words(request)
    shown = [words.action(f.action)] if f.action else []
    return printout(request, "admin/audit_print.html", {
        "rows": rows_of(request, events), "headers": headers_of(request),
        "filter_text": "、".join(shown + ([f.actor] if f.actor else []))})


def _facts(f: Filter) -> dict[str, str | None]:
    """The filter as the export's own entry keeps it."""
    return {"shown_action": f.action or None, "shown_actor": f.actor or None}


def _too_many(request: Request) -> HTMLResponse:
    t = translator(request.state.lang)
    return page(request, "error.html", {"title": t("audit.title"), "message": t("audit.too_many", n=EXPORT_MAX),
                                        "back": "/audit"}, status_code=422)
