"""/admin/loan-rules (貸出ルール): how long each kind of item may stay out, and the office-wide chase timings.

A kind's rule changes through the same service as `PUT /api/v1/loan-rules/{kind}`; the chase
timings are server settings and only shown here, so the whole policy is on one page.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.api.deps import Db
from server.domain.loans import LoanRule
from server.items import rule_service
from server.items.loan_rules import KINDS, RULES_TTL_S
from server.items.rule_routes import RuleIn
from server.web.admin.common import EDIT, VIEW, Posted, address, messages, notice, text
from server.web.admin.validation import Problem, check
from server.web.deps import require_page
from server.web.i18n import translator
from server.web.render import duration, page

router = APIRouter(include_in_schema=False)
MAX_MINUTES = 60 * 24 * 60  # the API's bound (RuleIn.loan_minutes, LoanRule)
CLOCK_TIME = re.compile(r"\d{1,2}:\d{2}")  # 17:00 — no seconds and no zone: a rule is a time on the office clock


def _typed(form: Any) -> dict[str, str]:
    """What was typed, with full-width digits and colons (１７：００) made plain."""
    return {name: unicodedata.normalize("NFKC", text(form, name)).strip() for name in ("due_time", "loan_minutes")}


def _check(typed: dict[str, str]) -> tuple[LoanRule | None, dict[str, Problem]]:
    """The API's own schema, with messages that say what to type."""
    problems: dict[str, Problem] = {}
    if typed["due_time"] and not CLOCK_TIME.fullmatch(typed["due_time"]):
        problems["due_time"] = ("admin.rules.err.time", {})
    body, found = check(RuleIn, {name: value or None for name, value in typed.items()})
    for field in found:
        if field == "due_time":
            problems.setdefault("due_time", ("admin.rules.err.time", {}))
        elif field == "loan_minutes":
            problems.setdefault("loan_minutes", ("admin.rules.err.minutes", {"max": MAX_MINUTES}))
        elif not problems:  # neither or both: a problem of the row, not of one field
            both = bool(typed["due_time"]) and bool(typed["loan_minutes"])
            problems[""] = ("admin.rules.err.both" if both else "admin.rules.err.neither", {})
    if problems or body is None:
        return None, problems
    return LoanRule(due_time=body.due_time, minutes=body.loan_minutes), {}


def _shown(rule: LoanRule) -> dict[str, str]:
    return {"due_time": f"{rule.due_time:%H:%M}" if rule.due_time is not None else "",
            "loan_minutes": str(rule.minutes) if rule.minutes is not None else ""}


def _context(request: Request, db: Session, kind: str | None = None, typed: dict[str, str] | None = None,
             errors: dict[str, str] | None = None) -> dict[str, Any]:
    """The rows, with `kind`'s row showing what was typed and its problems."""
    rules = rule_service.all_rules(db)
    return {"rules": rules, "values": {r.kind: typed if r.kind == kind and typed else _shown(r.rule) for r in rules},
            "error_kind": kind if errors else None, "errors": errors or {}, "reload_s": int(RULES_TTL_S),
            "max_minutes": MAX_MINUTES, "can_edit": request.state.user.role in EDIT,
            "chase": _chase(request)}


def _chase(request: Request) -> list[tuple[str, str]]:
    """The office-wide chase timings in words (「返却期限の30分前に本人へお知らせ」); the settings' names are in the README."""
    settings, lang = request.app.state.settings, request.state.lang
    t = translator(lang)
    minutes = {"remind_before_min": settings.remind_before_min, "escalate_after_min": settings.escalate_after_min,
               "lost_prompt_after_h": settings.lost_prompt_after_h * 60,
               "erase_confirm_within_h": settings.erase_confirm_within_h * 60}
    def length(n: float) -> str:  # 2時間, not 2時間0分
        whole_hours = n % 60 == 0 and 0 < n < 24 * 60
        return t("admin.rules.hours", n=int(n // 60)) if whole_hours else duration(n * 60, lang)

    return [(name, t(f"admin.rules.chase.{name}.off") if name == "remind_before_min" and not n
             else t(f"admin.rules.chase.{name}.value", length=length(n)))
            for name, n in minutes.items()]


@router.get("/admin/loan-rules", response_class=HTMLResponse)
def rules_page(request: Request, db: Db, user: Annotated[User, Depends(require_page(*VIEW))],
               saved: str | None = None) -> HTMLResponse:
    return page(request, "admin/loan_rules.html", {**_context(request, db), "notice": notice(saved)})


@router.post("/admin/loan-rules/{kind}", response_class=HTMLResponse)
def change_rule(request: Request, db: Db, kind: str, user: Annotated[User, Depends(require_page(*EDIT))],
                form: Posted) -> Response:
    if kind not in KINDS:
        raise HTTPException(404, f"no kind {kind}")
    typed = _typed(form)
    rule, problems = _check(typed)
    if rule is None:
        return page(request, "admin/loan_rules.html", {**_context(request, db, kind, typed, messages(request, problems)),
                                                        "notice": None}, status_code=422)
    if rule == rule_service.rule_of(db, kind).rule:
        return RedirectResponse(f"/admin/loan-rules?saved=unchanged#rule-{kind}", status_code=303)
    rule_service.set_rule(db, request.app.state.clock(), kind, rule, user.name, address(request))
    return RedirectResponse(f"/admin/loan-rules?saved=saved#rule-{kind}", status_code=303)
