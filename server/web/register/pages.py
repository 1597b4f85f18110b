"""/register: the 持ち出し管理簿 on screen, as CSV for Excel and on A4 paper, in four reports.

Admins, managers and the ward's auditors read every row; a surveyor reads their own take-outs and
their own key rights. Every CSV download and printout is audited (seed rule 1: exports are logged).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.api.deps import Db
from server.checkouts import register
from server.items.loan_rules import KINDS
from server.wareki import wareki
from server.web.admin.common import audit, messages
from server.web.csv_export import streamed_csv
from server.web.deps import require_page
from server.web.i18n import translator
from server.web.printout import printout
from server.web.register.cells import COLUMNS, Cells
from server.web.register.filters import REPORTS, Query, parse
from server.web.render import office_date, office_time, page

router = APIRouter(include_in_schema=False)
ROLES = ("admin", "manager", "auditor", "surveyor")
Reader = Annotated[User, Depends(require_page(*ROLES))]
PER_PAGE = 200
PRINT_MAX = 5000  # more than this on paper is a box file nobody reads: the CSV has them all
FILE_WORDS = {"transactions": "取引記録", "out": "持ち出し中", "overdue": "期限超過", "access": "利用権限"}


def fetch(request: Request, db: Session, q: Query, limit: int | None, offset: int = 0) -> list:
    settings, now = request.app.state.settings, request.app.state.clock()
    if q.report == "transactions":
        start, end = q.bounds(settings.zone)
        return register.transactions(db, start, end, q.filter, now, limit=limit, offset=offset)
    if q.report == "out":
        return register.currently_out(db, q.filter, now, limit=limit, offset=offset)
    if q.report == "overdue":
        return register.overdue(db, q.filter, now, limit=limit, offset=offset)
    lines = register.access_rights(db, q.filter, now.astimezone(settings.zone).date(), settings.training_valid_days,
                                   now)
    return lines[offset:offset + limit] if limit is not None else lines[offset:]


def cells_for(request: Request, db: Session, q: Query, *, full: bool, paper: bool = False) -> Cells:
    lang = request.state.lang
    return Cells(request.app.state.settings.zone, translator(lang), lang, request.app.state.clock(), full, paper)


def rows_of(cells: Cells, q: Query, lines: Iterable) -> Iterator[list[str]]:
    if q.report == "access":
        return (cells.access(line) for line in lines)
    return (cells.line(q.report, line) for line in lines)


def _relevant(q: Query, problems: dict) -> dict:
    """The period is the transactions report's alone; the other reports are as of now."""
    return problems if q.report == "transactions" else {}


def _link(values: dict[str, str], **changes: object) -> str:
    return urlencode({k: v for k, v in {**values, **changes}.items() if v not in ("", None)})


def _row_class(q: Query, line, now: datetime) -> str:
    """Lines that need somebody stand out: an item overdue, a key holder who cannot open."""
    if q.report == "access":
        return "" if line.access.can_open else "reg-no"
    return "reg-overdue" if line.state(now) == "overdue" else ""


def _summary(request: Request, db: Session, q: Query, everyone: list) -> dict[str, Any]:
    """The totals above the table: open take-outs counted in the database, key holders as listed."""
    now = request.app.state.clock()
    if q.report in ("out", "overdue"):
        return {"total": register.count_open(db, q.filter, now, overdue=q.report == "overdue")}
    if q.report == "access":
        yes = sum(1 for line in everyone if line.access.can_open)
        return {"total": len(everyone), "can_open": yes, "cannot_open": len(everyone) - yes}
    return {}


@router.get("/register", response_class=HTMLResponse)
def register_page(request: Request, db: Db, user: Reader) -> HTMLResponse:
    q, problems, values = parse(request, user, dict(request.query_params))
    problems = _relevant(q, problems)
    offset = (q.page - 1) * PER_PAGE
    everyone = fetch(request, db, q, None) if q.report == "access" and not problems else None  # for the totals
    if problems:
        lines = []
    else:
        lines = everyone[offset:offset + PER_PAGE + 1] if everyone is not None else fetch(request, db, q,
                                                                                           PER_PAGE + 1, offset)
    shown = lines[:PER_PAGE]
    cells = cells_for(request, db, q, full=False)
    now = request.app.state.clock()
    context = {
        "values": values, "errors": messages(request, problems), "report": q.report, "reports": REPORTS,
        "query": q, "columns": cells.headers(q.report), "rows": list(rows_of(cells, q, shown)),
        "row_classes": [_row_class(q, line, now) for line in shown],
        "kind_options": [(k, cells.t(f"dash.kind.{k}")) for k in KINDS],
        "tabs": [(r, _link(values, report=r)) for r in REPORTS],
        "here": _link(values, page=None), "first": offset + 1, "last": offset + len(shown),
        "prev": _link(values, page=q.page - 1) if q.page > 1 else None,
        "next": _link(values, page=q.page + 1) if len(lines) > PER_PAGE else None,
        "own_only": q.filter.own_only, "unlinked": q.filter.own_only and q.filter.holder_id is None,
        "now": now, "today": now.astimezone(request.app.state.settings.zone).date(),
        **({} if problems else _summary(request, db, q, everyone or [])),
    }
    return page(request, "register/register.html", context, status_code=422 if problems else 200)


def _describe(q: Query, lines: int | None) -> dict[str, object]:
    """Which report and filters were exported or printed, for the audit log (blank filters left out)."""
    f = q.filter
    period = {"from": q.start, "to": q.end} if q.report == "transactions" else {}
    filters = {"person": f.person, "item": f.item, "kind": f.kind, "case": f.case, "loan_state": f.state,
               "own_only": f.own_only or None}
    counted = {"lines": lines} if lines is not None else {}
    return {"report": q.report, **period, **{k: v for k, v in filters.items() if v}, **counted}


@router.get("/register.csv")
def register_csv(request: Request, db: Db, user: Reader) -> Response:
    q, problems, values = parse(request, user, dict(request.query_params))
    if _relevant(q, problems):
        return register_page(request, db, user)
    cells = cells_for(request, db, q, full=True)
    # Audited before the first byte (the count of lines is not known then: the report and filters say what went out).
    audit(db, request, "checkout_register_exported", _describe(q, None))
    today = request.app.state.clock().astimezone(request.app.state.settings.zone).date()
    dates = f"{q.start:%Y%m%d}-{q.end:%Y%m%d}" if q.report == "transactions" else f"{today:%Y%m%d}"
    name = (f"持ち出し管理簿_{FILE_WORDS[q.report]}_{dates}.csv" if request.state.lang == "ja"
            else f"take-out-ledger_{q.report}_{dates}.csv")
    return streamed_csv(request.app.state.session_factory, cells.headers(q.report),
                        lambda stream_db: rows_of(cells, q, streamed(request, stream_db, q)), name)


def streamed(request: Request, db: Session, q: Query) -> Iterable:
    """Every line of the report, read as it is written (the key holders, a few thousand, at once)."""
    settings, now = request.app.state.settings, request.app.state.clock()
    if q.report == "transactions":
        return register.stream(db, register.transactions_query(*q.bounds(settings.zone), q.filter, now))
    if q.report in ("out", "overdue"):
        return register.stream(db, register.open_query(q.filter, now, overdue=q.report == "overdue"))
    return fetch(request, db, q, None)


def _day_label(day, lang: str) -> str:
    return f"{wareki(day)}（{office_date(day, lang)}）" if lang == "ja" else office_date(day, lang)


@router.get("/register/print", response_class=HTMLResponse)
def register_print(request: Request, db: Db, user: Reader) -> HTMLResponse:
    """A4 (landscape but for the access rights) with the period or the moment in 和暦 and western
    dates, every row's dates in 和暦 (western in English), page x / y, and the stamp boxes."""
    q, problems, values = parse(request, user, dict(request.query_params))
    problems = _relevant(q, problems)
    lang, now = request.state.lang, request.app.state.clock()
    zone = request.app.state.settings.zone
    lines = [] if problems else fetch(request, db, q, PRINT_MAX + 1)
    errors = messages(request, problems)
    if len(lines) > PRINT_MAX:
        errors, lines = {"": translator(lang)("reg.err.too_many", n=PRINT_MAX)}, []
    cells = cells_for(request, db, q, full=False, paper=True)
    if not errors:
        audit(db, request, "checkout_register_printed", _describe(q, len(lines)))
    local: datetime = now.astimezone(zone)
    moment = f"{_day_label(local.date(), lang)} {local:%H:%M}" if lang == "ja" else office_time(now, zone, lang)
    context = {
        "report": q.report, "errors": errors, "columns": cells.headers(q.report), "keys": COLUMNS[q.report],
        "rows": list(rows_of(cells, q, lines)), "period_text": (_day_label(q.start, lang), _day_label(q.end, lang)),
        "moment": moment, "own_only": q.filter.own_only,
        "filters": [(key, values[key]) for key in ("person", "item", "kind", "case", "state") if values[key]],
    }
    return printout(request, "register/print.html", context,
                    orientation="portrait" if q.report == "access" else "landscape",
                    status_code=422 if problems else 200)
