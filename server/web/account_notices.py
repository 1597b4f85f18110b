"""/account/notices: each person's e-mail address and the kinds of notice they want."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.accounts.models import User
from server.api.deps import Db
from server.audit.service import record
from server.notify.kinds import kinds_for_role
from server.notify.recipients import email_problem, kinds_turned_off
from server.web.deps import require_page
from server.web.render import EVERYONE, page

router = APIRouter(include_in_schema=False)


def _form(request: Request, user: User, *, email: str | None, off: list[str], errors: dict | None = None,
          saved: bool = False, status_code: int = 200) -> HTMLResponse:
    lang = request.state.lang
    kinds = [(kind.name, kind.ja if lang == "ja" else kind.en, kind.name not in off)
             for kind in kinds_for_role(user.role)]
    return page(request, "account_notices.html", {
        "email": email or "", "kinds": kinds, "errors": errors or {}, "saved": saved,
        "email_off": not request.app.state.settings.smtp_url,
    }, status_code=status_code)


@router.get("/account/notices", response_class=HTMLResponse)
def own_notices(request: Request, user: Annotated[User, Depends(require_page(*EVERYONE))],
                saved: bool = False) -> HTMLResponse:
    return _form(request, user, email=user.email, off=list(user.notices_off or []), saved=saved)


@router.post("/account/notices", response_class=HTMLResponse)
def choose_notices(request: Request, db: Db, user: Annotated[User, Depends(require_page(*EVERYONE))],
                   email: Annotated[str, Form(max_length=1000)] = "",
                   kinds: Annotated[list[str], Form()] = []) -> Response:
    address = email.strip() or None
    off = kinds_turned_off(user.role, user.notices_off or [], kinds)
    if address and (problem := email_problem(address)):
        return _form(request, user, email=address, off=off, errors={"email": [problem]}, status_code=422)
    if (address, off) != (user.email, sorted(user.notices_off or [])):
        user.email, user.notices_off = address, off
        record(db, request.app.state.clock(), "notices_changed", user.name, {"email": address, "off": off},
               request.client.host if request.client else None)
    return RedirectResponse("/account/notices?saved=true", status_code=303)
