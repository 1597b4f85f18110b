"""/roster: the 要介護認定調査員名簿 for the ward (on screen, CSV for Excel, A4), marking who changed since
the last report; /roster/changes: the 変更届 (additions, removals and changes since a date). Every CSV
and print is audited."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from server.accounts.models import User
from server.api.deps import Db
from server.domain.key_access import training_expires_on
from server.training import roster
from server.web.admin.common import audit, messages
from server.web.admin.validation import Problem
from server.web.csv_export import csv_response, to_csv
from server.web.deps import require_page
from server.web.i18n import translator
from server.web.print_dates import print_date
from server.web.printout import printout
from server.web.render import page

router = APIRouter(include_in_schema=False)
READ = ("admin", "manager", "auditor")
Reader = Annotated[User, Depends(require_page(*READ))]
Since = Annotated[str | None, Query(max_length=40)]
COLUMNS = ("office", "role", "name", "qualification", "registered_on", "trained_on", "lapses_on", "change")
CHANGE_COLUMNS = ("at", "kind", "name", "role", "what", "by")
FIELDS = ("name", "roster_role", "qualification", "registered_on", "active")


def _since(request: Request, typed: str | None) -> tuple[date | None, dict[str, Problem]]:
    if not typed:
        return None, {}
    try:
        day = date.fromisoformat(typed)
    except ValueError:
        return None, {"since": ("admin.err.date", {})}
    today = request.app.state.clock().astimezone(request.app.state.settings.zone).date()
    return (None, {"since": ("training.err.future", {})}) if day > today else (day, {})


def _instant(request: Request, day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=request.app.state.settings.zone).astimezone(UTC)


def _day(value: date | None, paper: str | None) -> str:
    if value is None:
        return ""
    return print_date(value, paper) if paper else f"{value.year}/{value.month:02d}/{value.day:02d}"


def cells(request: Request, line: roster.RosterLine, *, paper: str | None = None) -> list[str]:
    """One person as the screen and the CSV show them, or on `paper` (和暦 in Japanese)."""
    t, settings = translator(request.state.lang), request.app.state.settings
    p = line.person
    every = {"office": settings.office_name, "role": t(f"roster.role.{line.role}"), "name": p.name,
             "qualification": t(f"roster.qualification.{p.qualification}") if p.qualification else "",
             "registered_on": _day(p.registered_on, paper),
             "trained_on": "、".join(_day(d, paper) for d in line.trained_on) or t("training.never"),
             "lapses_on": _day(training_expires_on(p.training_on, settings.training_valid_days), paper),
             "change": t(f"roster.change.{line.change}") if line.change else ""}
    return [every[key] for key in COLUMNS]


def _context(request: Request, db, typed: str | None, *, paper: bool = False) -> dict[str, Any]:
    t = translator(request.state.lang)
    since, problems = _since(request, typed)
    lines = [] if problems else roster.roster(db, _instant(request, since) if since else None)
    return {"values": {"since": typed or ""}, "errors": messages(request, problems), "since": since,
            "lines": lines, "rows": [cells(request, line, paper=request.state.lang if paper else None)
                                     for line in lines],
            "columns": [t(f"roster.col.{c}") for c in COLUMNS], "keys": COLUMNS,
            "query": request.url.query}


@router.get("/roster", response_class=HTMLResponse)
def roster_page(request: Request, db: Db, user: Reader, since: Since = None) -> HTMLResponse:
    context = _context(request, db, since)
    return page(request, "training/roster.html", context, status_code=422 if context["errors"] else 200)


@router.get("/roster.csv")
def roster_csv(request: Request, db: Db, user: Reader, since: Since = None) -> Response:
    context = _context(request, db, since)
    if context["errors"]:
        return page(request, "training/roster.html", context, status_code=422)
    audit(db, request, "roster_exported", {"from": context["since"], "lines": len(context["rows"])})
    today = request.app.state.clock().astimezone(request.app.state.settings.zone).date()
    name = f"要介護認定調査員名簿_{today:%Y%m%d}.csv" if request.state.lang == "ja" else f"surveyor-roster_{today:%Y%m%d}.csv"
    return csv_response(to_csv(context["columns"], context["rows"]), name)


@router.get("/roster/print", response_class=HTMLResponse)
def roster_print(request: Request, db: Db, user: Reader, since: Since = None) -> HTMLResponse:
    """A4 landscape: the roster with 和暦 dates, the office, page x / y and the stamp boxes."""
    return _printed(request, db, "roster_printed", "training/roster_print.html", _context(request, db, since,
                                                                                           paper=True))


def _printed(request: Request, db, action: str, template: str, context: dict[str, Any]) -> HTMLResponse:
    """A4 landscape, audited when it prints (a wrong date answers the page with its problem)."""
    if not context["errors"]:
        audit(db, request, action, {"from": context["since"], "lines": len(context["rows"])})
    return printout(request, template, context, orientation="landscape",
                    status_code=422 if context["errors"] else 200)


def _what(t, line: roster.ChangeLine, paper: str | None) -> str:
    """The fields that moved, in words: 資格: 看護師 → 介護支援専門員."""
    def word(field: str, value: Any) -> str:
        if value in (None, ""):
            return "—"
        if field == "roster_role":
            return t(f"roster.role.{value}")
        if field == "qualification":
            return t(f"roster.qualification.{value}")
        if field == "registered_on":
            return _day(date.fromisoformat(value), paper)
        if field == "active":
            return t("roster.active.yes") if value else t("roster.active.no")
        return str(value)

    if line.kind == "added":
        shown = [f for f in ("roster_role", "qualification", "registered_on") if line.fields.get(f, [None, None])[1]]
        return "、".join(f"{t(f'roster.field.{f}')}: {word(f, line.fields[f][1])}" for f in shown)
    return "、".join(f"{t(f'roster.field.{f}')}: {word(f, before)} → {word(f, after)}"
                     for f in FIELDS if f in line.fields and (before := line.fields[f][0]) != (after := line.fields[f][1]))


def _changes(request: Request, db, typed: str | None, *, paper: bool = False) -> dict[str, Any]:
    t, zone = translator(request.state.lang), request.app.state.settings.zone
    today = request.app.state.clock().astimezone(zone).date()
    since, problems = _since(request, typed or date(today.year if today.month >= 4 else today.year - 1, 4, 1)
                             .isoformat())
    lines = [] if problems or since is None else roster.changes_since(db, _instant(request, since))
    lang = request.state.lang if paper else None
    rows = [[_day(line.at.astimezone(zone).date(), lang), t(f"roster.change.{line.kind}"), line.person.name,
             t(f"roster.role.{r}") if (r := (line.fields.get("roster_role") or [None, None])[1]
                                       or (line.fields.get("roster_role") or [None, None])[0]) else "",
             _what(t, line, lang), line.by] for line in lines]
    return {"values": {"since": typed or (since.isoformat() if since else "")}, "errors": messages(request, problems),
            "since": since, "rows": rows, "columns": [t(f"roster.changes.col.{c}") for c in CHANGE_COLUMNS],
            "keys": CHANGE_COLUMNS, "query": request.url.query}


@router.get("/roster/changes", response_class=HTMLResponse)
def changes_page(request: Request, db: Db, user: Reader, since: Since = None) -> HTMLResponse:
    context = _changes(request, db, since)
    return page(request, "training/changes.html", context, status_code=422 if context["errors"] else 200)


@router.get("/roster/changes/print", response_class=HTMLResponse)
def changes_print(request: Request, db: Db, user: Reader, since: Since = None) -> HTMLResponse:
    """The 変更届 on A4: every addition, removal and change since the date, with who made it."""
    return _printed(request, db, "roster_changes_printed", "training/changes_print.html",
                    _changes(request, db, since, paper=True))
