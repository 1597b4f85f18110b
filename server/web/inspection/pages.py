"""/inspection: the inspection pack (立入検査・監査) on screen — a summary per rule, one page per rule with its
exceptions (and the monthly self-inspection for (7) and (8)) — and on A4 paper, each rule on a page of its own.

Admins, managers and the ward's auditors read it; the printout is audited (exports are logged).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse

from server.accounts.models import User
from server.api.deps import Db
from server.inspection import pack
from server.inspection.evidence import RULES
from server.web.admin.common import audit, messages
from server.web.deps import require_page
from server.web.inspection.views import FINDING_KEYS, Asked, asked, checklist_context, period_text, words
from server.web.printout import printout
from server.web.render import OVERSIGHT, page

router = APIRouter(include_in_schema=False)
Reader = Annotated[User, Depends(require_page(*OVERSIGHT))]
From = Annotated[str | None, Query(alias="from", max_length=20)]
To = Annotated[str | None, Query(max_length=20)]


def _base(request: Request, a: Asked) -> dict[str, Any]:
    return {"values": a.values, "errors": messages(request, a.problems), "period": a.period,
            "query": a.period.query(), "period_text": period_text(a.period, request.state.lang)}


@router.get("/inspection", response_class=HTMLResponse)
def summary(request: Request, db: Db, user: Reader, start: From = None, to: To = None) -> HTMLResponse:
    a = asked(request, start, to)
    sections = [] if a.problems else pack.sections(db, a.period, request.app.state.settings)
    w = words(request)
    return page(request, "inspection/summary.html",
                {**_base(request, a), "sections": sections, "counts": {s.rule: w.counts(s) for s in sections},
                 "not_yet": {s.rule: w.not_yet(s) for s in sections}},
                status_code=422 if a.problems else 200)


def rule_context(request: Request, db, a: Asked, rule: str) -> dict[str, Any]:
    section = pack.section(db, rule, a.period, request.app.state.settings)
    w = words(request)
    context = {**_base(request, a), "section": section, "counts": w.counts(section), "not_yet": w.not_yet(section),
               "rows": [w.finding(f) for f in section.findings], "links": [f.link for f in section.findings]}
    if section.checklist:
        context.update(checklist_context(request, db, a.period))
    return context


def _last_answers(context: dict[str, Any]) -> dict[str, str]:
    """The form starts from the newest month's latest answer, so answering again changes only what changed."""
    months = context.get("months") or []
    row = context["latest"].get(months[-1][0]) if months else None
    if row is None:
        return {"month": months[-1][0]} if months else {}
    values = {"month": row.month}
    for key, answer in row.answers.items():
        values[f"q-{key}"], values[f"note-{key}"] = ("yes" if answer.get("ok") else "no"), answer.get("note") or ""
    return values


@router.get("/inspection/rules/{rule}", response_class=HTMLResponse)
def rule_page(request: Request, db: Db, user: Reader, rule: str, start: From = None, to: To = None,
              done: str | None = None) -> HTMLResponse:
    if rule not in RULES:
        raise HTTPException(status_code=404)
    a = asked(request, start, to)
    if a.problems:
        return page(request, "inspection/summary.html", {**_base(request, a), "sections": []}, status_code=422)
    context = rule_context(request, db, a, rule)
    context.update(answer_values=_last_answers(context), answer_errors={},
                   done="insp.self.saved" if done == "saved" else None)
    return page(request, "inspection/rule.html", context)


@router.get("/inspection/print", response_class=HTMLResponse)
def print_pack(request: Request, db: Db, user: Reader, start: From = None, to: To = None) -> HTMLResponse:
    """A4 portrait: the summary first, then every rule on a page of its own with its counts, its exceptions and,
    for (7) and (8), each month's self-inspection; the period in 和暦, page x / y on every page."""
    a = asked(request, start, to)
    w = words(request, paper=True)
    sections = [] if a.problems else pack.sections(db, a.period, request.app.state.settings)
    if not a.problems:
        audit(db, request, "inspection_pack_printed", {"from": a.period.first, "to": a.period.last,
                                                       "lines": sum(len(s.findings) for s in sections)})
    context = {**_base(request, a), "sections": sections, "keys": FINDING_KEYS,
               "columns": [w.t(f"insp.col.{k}") for k in FINDING_KEYS],
               "counts": {s.rule: w.counts(s) for s in sections}, "not_yet": {s.rule: w.not_yet(s) for s in sections},
               "rows": {s.rule: [w.finding(f) for f in s.findings] for s in sections},
               **checklist_context(request, db, a.period)}
    return printout(request, "inspection/print.html", context, status_code=422 if a.problems else 200)
