"""The manager's dashboard (the page left open all day)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from server.accounts.models import User
from server.web.deps import require_page
from server.web.render import EVERYONE, page

router = APIRouter(include_in_schema=False)


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, user: Annotated[User, Depends(require_page(*EVERYONE))]) -> HTMLResponse:
    return page(request, "dashboard.html")
