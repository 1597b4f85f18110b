"""/cases: the 受付簿 for any period with filters, on screen, as CSV for Excel and on A4 in 和暦; and
/cases/destructions/print, the 廃棄記録 of a period. Every CSV and print is audited (exports are logged).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.api.deps import Db
from server.cases import book
from server.cases.models import Case
from server.cases.service import facts
from server.domain.cases import KINDS, STATES, state
from server.people.models import Person
from server.wareki import wareki
from server.web.admin.common import audit, messages
from server.web.admin.validation import Problem
from server.web.csv_export import csv_response, to_csv
from server.web.deps import require_page
from server.web.i18n import translator
from server.web.period import parse_period
from server.web.print_dates import print_date
from server.web.printout import printout
from server.web.render import office_date, page

router = APIRouter(include_in_schema=False)
READERS = ("admin", "manager", "surveyor", "auditor")  # reception never sees the 受付簿
Reader = Annotated[User, Depends(require_page(*READERS))]
From = Annotated[str | None, Query(alias="from")]
SHOWN = 200
COLUMNS = ("number", "received_on", "kind", "surveyor", "deadline", "surveyed_on", "submitted_on", "retain_until",
           "destroyed_on", "method", "destroyed_by", "witness", "state", "note")
DESTRUCTION_COLUMNS = ("number", "kind", "submitted_on", "retain_until", "destroyed_on", "method", "destroyed_by",
                       "witness")


@dataclass(frozen=True)
class BookQuery:
    filter: book.BookFilter
    values: dict[str, str]
    problems: dict[str, Problem]


def _today(request: Request) -> date:
    return request.app.state.clock().astimezone(request.app.state.settings.zone).date()


def _fiscal_start(today: date) -> date:
    """The office's year starts on 1 April, as the ward's does."""
    return date(today.year if today.month >= 4 else today.year - 1, 4, 1)


def read_query(request: Request, start: str | None, end: str | None, params: dict[str, str | None]) -> BookQuery:
    today = _today(request)
    values = {"from": start or _fiscal_start(today).isoformat(), "to": end or today.isoformat(),
              "state": params.get("state") if params.get("state") in STATES else "",
              "kind": params.get("kind") if params.get("kind") in KINDS else "",
              "surveyor": (params.get("surveyor") or "").strip(), "overdue": "1" if params.get("overdue") else "",
              "q": (params.get("q") or "").strip()[:64]}
    since, until, problems = parse_period(values, today)
    surveyor = int(values["surveyor"]) if values["surveyor"].isdigit() and len(values["surveyor"]) < 10 else None
    f = book.BookFilter(since=since, until=until, state=values["state"] or None, kind=values["kind"] or None,
                        surveyor_id=surveyor, overdue=bool(values["overdue"]), number=values["q"] or None)
    return BookQuery(f, values, problems)


def cells(line: book.BookLine, t, zone, *, paper: str | None = None, keys: tuple[str, ...] = COLUMNS) -> list[str]:
    """One case as the screen and the CSV show it (2026/04/01), or on `paper` (令和8年4月1日 in Japanese)."""
    c = line.case

    def day(value: date | None) -> str:
        if value is None:
            return ""
        return print_date(value, paper) if paper else f"{value.year}/{value.month:02d}/{value.day:02d}"

    destroyed = c.destroyed_at.astimezone(zone).date() if c.destroyed_at else None
    every = {"number": c.number, "received_on": day(c.received_on), "kind": t(f"cases.kind.{c.kind}"),
             "surveyor": line.surveyor or "", "deadline": day(c.deadline), "surveyed_on": day(c.surveyed_on),
             "submitted_on": day(c.submitted_on or c.withdrawn_on), "retain_until": day(c.retain_until),
             "destroyed_on": day(destroyed), "method": t(f"cases.method.{c.destroy_method}") if c.destroy_method
             else "", "destroyed_by": line.destroyed_by or "", "witness": line.witness or "",
             "state": t(f"cases.state.{state(facts(c))}"), "note": c.note or ""}
    return [every[key] for key in keys]


def _surveyors(db: Session) -> list[tuple[str, str]]:
    return [(str(i), name) for i, name in db.execute(select(Person.id, Person.name).where(Person.active)
                                                       .order_by(Person.name))]


def _context(request: Request, db: Session, q: BookQuery, *, shown: int | None = SHOWN) -> dict[str, Any]:
    t = translator(request.state.lang)
    settings = request.app.state.settings
    today, within = _today(request), settings.case_report_within_days
    lines = [] if q.problems else book.lines(db, q.filter, today, within, limit=shown)
    total = len(lines) if not shown or len(lines) < shown else book.count(db, q.filter, today, within)
    overdue = set()
    if lines and not q.problems:
        overdue = set(db.scalars(select(Case.id).where(Case.id.in_([line.case.id for line in lines]),
                                                            book.overdue_on(today, within))))
    return {"values": q.values, "errors": messages(request, q.problems), "lines": lines, "total": total,
            "more": total > len(lines), "shown": SHOWN, "filter": q.filter, "overdue": overdue,
            "rows": [cells(line, t, settings.zone, paper=None if shown else request.state.lang) for line in lines],
            "columns": [t(f"cases.col.{c}") for c in COLUMNS], "keys": COLUMNS, "query": request.url.query,
            "states": [("", t("cases.any"))] + [(s, t(f"cases.state.{s}")) for s in STATES],
            "kinds": [("", t("cases.any"))] + [(k, t(f"cases.kind.{k}")) for k in KINDS],
            "surveyors": [("", t("cases.any"))] + _surveyors(db),
            "can_receive": request.state.user.role in ("admin", "manager")}


def _params(state: str | None, kind: str | None, surveyor: str | None, overdue: str | None,
            q: str | None) -> dict[str, str | None]:
    return {"state": state, "kind": kind, "surveyor": surveyor, "overdue": overdue, "q": q}


@router.get("/cases", response_class=HTMLResponse)
def book_page(request: Request, db: Db, user: Reader, start: From = None, to: str | None = None,
              state: str | None = None, kind: str | None = None, surveyor: str | None = None,
              overdue: str | None = None, q: str | None = None) -> HTMLResponse:
    query = read_query(request, start, to, _params(state, kind, surveyor, overdue, q))
    return page(request, "cases/book.html", _context(request, db, query),
                status_code=422 if query.problems else 200)


@router.get("/cases.csv")
def book_csv(request: Request, db: Db, user: Reader, start: From = None, to: str | None = None,
             state: str | None = None, kind: str | None = None, surveyor: str | None = None,
             overdue: str | None = None, q: str | None = None) -> Response:
    query = read_query(request, start, to, _params(state, kind, surveyor, overdue, q))
    if query.problems:
        return page(request, "cases/book.html", _context(request, db, query), status_code=422)
    t, settings = translator(request.state.lang), request.app.state.settings
    count = 0

    def rows():
        nonlocal count
        for line in book.stream(db, query.filter, _today(request), settings.case_report_within_days):
            count += 1
            yield cells(line, t, settings.zone)

    data = to_csv([t(f"cases.col.{c}") for c in COLUMNS], rows())
    f = query.filter
    audit(db, request, "case_book_exported", {"from": f.since, "to": f.until, "case_state": f.state,
                                              "case_kind": f.kind, "overdue_only": f.overdue, "lines": count})
    name = f"受付簿_{f.since:%Y%m%d}-{f.until:%Y%m%d}.csv" if request.state.lang == "ja" \
        else f"request-book_{f.since:%Y%m%d}-{f.until:%Y%m%d}.csv"
    return csv_response(data, name)


def _period_text(lang: str, start: date, end: date) -> tuple[str, str]:
    def label(day: date) -> str:
        return f"{wareki(day)}（{office_date(day, lang)}）" if lang == "ja" else office_date(day, lang)

    return label(start), label(end)


@router.get("/cases/print", response_class=HTMLResponse)
def book_print(request: Request, db: Db, user: Reader, start: From = None, to: str | None = None,
               state: str | None = None, kind: str | None = None, surveyor: str | None = None,
               overdue: str | None = None, q: str | None = None) -> HTMLResponse:
    """A4 landscape, every case of the period with its dates in 和暦, page x / y and the stamp boxes."""
    query = read_query(request, start, to, _params(state, kind, surveyor, overdue, q))
    context = _context(request, db, query, shown=None)
    if not query.problems:
        audit(db, request, "case_book_printed", {"from": query.filter.since, "to": query.filter.until,
                                                 "lines": len(context["lines"])})
        context["period_text"] = _period_text(request.state.lang, query.filter.since, query.filter.until)
    return printout(request, "cases/book_print.html", context, orientation="landscape",
                    status_code=422 if query.problems else 200)


@router.get("/cases/destructions/print", response_class=HTMLResponse)
def destructions_print(request: Request, db: Db, user: Reader, start: From = None,
                       to: str | None = None) -> HTMLResponse:
    """The 廃棄記録: every destruction in the period (by its day), with method, who and the witness."""
    today = _today(request)
    values = {"from": start or _fiscal_start(today).isoformat(), "to": to or today.isoformat()}
    since, until, problems = parse_period(values, today)
    t, settings, lang = translator(request.state.lang), request.app.state.settings, request.state.lang
    lines = [] if problems else book.destructions(db, since, until, settings.zone)
    context = {"errors": messages(request, problems), "keys": DESTRUCTION_COLUMNS,
               "columns": [t(f"cases.col.{c}") for c in DESTRUCTION_COLUMNS],
               "rows": [cells(line, t, settings.zone, paper=lang, keys=DESTRUCTION_COLUMNS) for line in lines],
               "period_text": _period_text(lang, since, until)}
    if not problems:
        audit(db, request, "case_destructions_printed", {"from": since, "to": until, "lines": len(lines)})
    return printout(request, "cases/destructions_print.html", context, orientation="landscape",
                    status_code=422 if problems else 200)
