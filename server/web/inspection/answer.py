"""POST /inspection/self-inspection: a manager answers the month's self-inspection (自己点検) on the rule page.

Every answer is a new row (a month answered again keeps its earlier answer), audited with who and when.
A problem is shown next to its question, with everything typed kept.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.accounts.models import User
from server.api.deps import Db
from server.domain import self_inspection
from server.domain.self_inspection import KEYS, Answer
from server.inspection import self_check
from server.web.admin.common import Posted, audit, text
from server.web.deps import require_page
from server.web.i18n import translator
from server.web.inspection.pages import rule_context
from server.web.inspection.views import asked
from server.web.render import page

router = APIRouter(include_in_schema=False)
Manager = Annotated[User, Depends(require_page("manager"))]
BACK = ("7", "8")


def _typed(form) -> tuple[dict[str, Answer], dict[str, str]]:
    answers: dict[str, Answer] = {}
    values: dict[str, str] = {}
    for key in KEYS:
        said, note = text(form, f"q-{key}"), text(form, f"note-{key}")
        values[f"q-{key}"], values[f"note-{key}"] = said, note
        if said in ("yes", "no"):
            answers[key] = Answer(said == "yes", note)
    return answers, values


@router.post("/inspection/self-inspection", response_class=HTMLResponse)
def answer(request: Request, db: Db, user: Manager, form: Posted) -> Response:
    rule = text(form, "rule") if text(form, "rule") in BACK else "7"
    a = asked(request, text(form, "from") or None, text(form, "to") or None)
    month = text(form, "month")
    answers, values = _typed(form)
    months = self_inspection.months(a.period.first, a.period.last, a.period.today)
    errors = {f"q-{key}": f"insp.err.{problem}" for key, problem in self_inspection.problems(answers).items()}
    if month not in months:
        errors["month"] = "insp.err.month"
    if a.problems or errors:
        t = translator(request.state.lang)
        values["month"] = month
        context = {**rule_context(request, db, a, rule), "answer_values": values,
                   "answer_errors": {name: t(key) for name, key in errors.items()}, "done": None}
        return page(request, "inspection/rule.html", context, status_code=422)
    now = request.app.state.clock()
    row = self_check.answer(db, now, month, answers, by=user.name, user_id=user.id)
    audit(db, request, "self_inspection_answered",
          {"month": month, "answer": row.id, "not_kept": sum(not answers[key].ok for key in KEYS)})
    query = urlencode({"from": a.period.first.isoformat(), "to": a.period.last.isoformat(), "done": "saved"})
    return RedirectResponse(f"/inspection/rules/{rule}?{query}#self-inspection", status_code=303)
