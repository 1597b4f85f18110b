"""/entry-log: the 入退室記録簿 for any period, on screen, as CSV for Excel, and on A4 paper.

Every CSV download and print is audited (seed rule 1: exports are logged). The CSV is written as it
is read (any period, flat memory); the print holds at most PRINT_MAX lines and sends a longer period
to the CSV.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from itertools import islice
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from server.accounts.models import User
from server.api.deps import Db
from server.visits import entry_log as log
from server.visits.entry_log import LogLine, entry_log
from server.wareki import wareki
from server.web.admin.common import audit, messages
from server.web.admin.validation import Problem
from server.web.csv_export import streamed_csv
from server.web.deps import require_page
from server.web.i18n import translator
from server.web.period import parse_period
from server.web.print_dates import print_date, print_time
from server.web.printout import printout
from server.web.render import office_date, page

router = APIRouter(include_in_schema=False)
READERS = ("admin", "manager", "receptionist", "auditor")
Reader = Annotated[User, Depends(require_page(*READERS))]
From = Annotated[str | None, Query(alias="from")]
SHOWN = 500
PRINT_MAX = 5000  # more on paper is a box file nobody reads: the CSV has any period
COLUMNS = ("date", "kind", "name", "organisation", "purpose", "host", "badge", "in", "out", "note")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive
    who: str
    q: str


def _period(request: Request, start: str | None, end: str | None, who: str | None,
            q: str | None) -> tuple[Period, dict[str, Problem], dict[str, str]]:
    today = request.app.state.clock().astimezone(request.app.state.settings.zone).date()
    values = {"from": start or today.isoformat(), "to": end or start or today.isoformat(),
              "who": who if who in ("all", "visitor", "staff") else "all", "q": (q or "").strip()[:100]}
    start, end, problems = parse_period(values, today)
    return Period(start, end, values["who"], values["q"]), problems, values


def _bounds(request: Request, period: Period) -> tuple[datetime, datetime]:
    zone = request.app.state.settings.zone
    return (datetime.combine(period.start, time(0), tzinfo=zone),
            datetime.combine(period.end + timedelta(days=1), time(0), tzinfo=zone))


def _lines(request: Request, db, period: Period, limit: int) -> list[LogLine]:
    """The first `limit` lines: the screen's read stops early; paper's is read as the CSV is."""
    start, end = _bounds(request, period)
    now = request.app.state.clock()
    if limit > SHOWN + 1:
        return list(islice(log.lines(db, start, end, now, who=period.who, q=period.q), limit))
    return entry_log(db, start, end, now, who=period.who, q=period.q, limit=limit)


def cells(line: LogLine, zone, t, *, paper: str | None = None) -> list[str]:
    """One line as the CSV and the screen show it (dates as 2026/11/27, times as 09:05), or on
    `paper` in that language (令和8年11月27日 in Japanese)."""
    def clock(value: datetime | None) -> str:
        if value is None:
            return ""
        if paper:
            return print_time(value, zone, paper, day_of=line.moment)
        local = value.astimezone(zone)
        same_day = local.date() == line.moment.astimezone(zone).date()
        return local.strftime("%H:%M") if same_day else local.strftime("%m/%d %H:%M")
    day = line.moment.astimezone(zone).date()
    return [print_date(day, paper) if paper else day.strftime("%Y/%m/%d"), t(f"log.who.{line.kind}"), line.name,
            line.organisation, line.purpose, line.host, line.badge, clock(line.entered_at), clock(line.left_at),
            t(f"log.note.{line.note}") if line.note else ""]


def _context(request: Request, db, period: Period, problems: dict, values: dict[str, str], *,
             paper: bool = False) -> dict[str, Any]:
    """The page's first SHOWN lines, or on paper up to PRINT_MAX (more: none, and a word to use the CSV)."""
    shown = PRINT_MAX if paper else SHOWN
    lines = [] if problems else _lines(request, db, period, shown + 1)
    kept = lines[:shown]
    zone = request.app.state.settings.zone
    t = translator(request.state.lang)
    errors = messages(request, problems)
    if paper and len(lines) > shown:
        errors, kept = {"": t("log.err.too_many", n=PRINT_MAX)}, []
    return {"values": values, "errors": errors, "lines": kept,
            "more": len(lines) > len(kept), "period": period, "shown": SHOWN,
            "rows": [cells(line, zone, t, paper=request.state.lang if paper else None) for line in kept],
            "columns": [t(f"log.col.{c}") for c in COLUMNS], "keys": COLUMNS, "query": request.url.query}


@router.get("/entry-log", response_class=HTMLResponse)
def entry_log_page(request: Request, db: Db, user: Reader, start: From = None, to: str | None = None,
                   who: str | None = None, q: str | None = None) -> HTMLResponse:
    period, problems, values = _period(request, start, to, who, q)
    return page(request, "reception/entry_log.html", _context(request, db, period, problems, values),
                status_code=422 if problems else 200)


@router.get("/entry-log.csv")
def entry_log_csv(request: Request, db: Db, user: Reader, start: From = None, to: str | None = None,
                  who: str | None = None, q: str | None = None) -> Response:
    period, problems, values = _period(request, start, to, who, q)
    if problems:
        return page(request, "reception/entry_log.html", _context(request, db, period, problems, values),
                    status_code=422)
    t = translator(request.state.lang)
    zone = request.app.state.settings.zone
    start, end = _bounds(request, period)
    now = request.app.state.clock()
    # Audited before the first byte (the count of lines is not known then: the period says what went out).
    audit(db, request, "entry_log_exported", {"from": period.start, "to": period.end, "who": period.who,
                                              "search": period.q})
    name = f"入退室記録簿_{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv" if request.state.lang == "ja" \
        else f"entry-log_{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    return streamed_csv(request.app.state.session_factory, [t(f"log.col.{c}") for c in COLUMNS],
                        lambda stream_db: (cells(line, zone, t) for line in log.lines(
                            stream_db, start, end, now, who=period.who, q=period.q)), name)


@router.get("/entry-log/print", response_class=HTMLResponse)
def entry_log_print(request: Request, db: Db, user: Reader, start: From = None, to: str | None = None,
                    who: str | None = None, q: str | None = None) -> HTMLResponse:
    """A4 landscape: the period and every row's date in 和暦 (western in English), page x / y,
    the header on every page, and the stamp boxes."""
    period, problems, values = _period(request, start, to, who, q)
    context = _context(request, db, period, problems, values, paper=True)
    if not context["errors"]:
        audit(db, request, "entry_log_printed", {"from": period.start, "to": period.end, "who": period.who,
                                                 "search": period.q, "lines": len(context["lines"])})
    lang = request.state.lang
    label = (lambda d: f"{wareki(d)}（{office_date(d, lang)}）") if lang == "ja" else (lambda d: office_date(d, lang))
    context.update(period_text=(label(period.start), label(period.end)))
    return printout(request, "reception/entry_log_print.html", context, orientation="landscape",
                    status_code=422 if problems else 200)
