"""/admin/badges: the reception's pool of visitor badges (来所者カード)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.api.deps import Db
from server.api.uids import registered_as
from server.people import service
from server.people.models import VisitorBadge
from server.people.routes import BadgeIn
from server.web.admin.common import (
    BADGE_EDIT,
    BADGE_VIEW,
    Posted,
    audit,
    messages,
    notice,
    readers,
    text,
    ticked,
)
from server.web.admin.validation import check
from server.web.deps import require_page
from server.web.render import page

router = APIRouter(include_in_schema=False)


def _listing(request: Request, db: Session) -> dict[str, Any]:
    badges = list(db.scalars(select(VisitorBadge).order_by(VisitorBadge.active.desc(), VisitorBadge.label,
                                                           VisitorBadge.uid)))
    return {"badges": badges, "can_edit": request.state.user.role in BADGE_EDIT, "readers": readers(db)}


@router.get("/admin/badges", response_class=HTMLResponse)
def badges_page(request: Request, db: Db, user: Annotated[User, Depends(require_page(*BADGE_VIEW))],
                saved: str | None = None) -> HTMLResponse:
    return page(request, "admin/badges.html", {**_listing(request, db), "values": {"active": True}, "errors": {},
                                                "notice": notice(saved)})


@router.post("/admin/badges", response_class=HTMLResponse)
def add_badge(request: Request, db: Db, user: Annotated[User, Depends(require_page(*BADGE_EDIT))],
              form: Posted) -> Response:
    typed = {"uid": text(form, "uid"), "label": text(form, "label"), "active": ticked(form, "active")}
    body, problems = check(BadgeIn, {"uid": typed["uid"], "label": typed["label"]})
    if body is not None and (used := registered_as(db, body.uid)):
        problems["uid"] = (f"admin.err.uid_taken.{used}", {})
    if problems:
        return page(request, "admin/badges.html", {**_listing(request, db), "values": typed,
                                                    "errors": messages(request, problems)}, status_code=422)
    assert body is not None
    badge = service.add_badge(db, request.app.state.clock(), uid=body.uid, label=body.label, active=typed["active"])
    audit(db, request, "badge_added", {"badge": badge.label, "card": badge.uid, "active": badge.active})
    return RedirectResponse(f"/admin/badges?saved=added#badge-{badge.uid}", status_code=303)


def _badge(db: Session, uid: str) -> VisitorBadge:
    badge = db.get(VisitorBadge, uid)
    if badge is None:
        raise HTTPException(404, f"no visitor badge {uid}")
    return badge


@router.get("/admin/badges/{uid}", response_class=HTMLResponse)
def edit_badge_page(request: Request, db: Db, uid: str,
                    user: Annotated[User, Depends(require_page(*BADGE_EDIT))]) -> HTMLResponse:
    badge = _badge(db, uid)
    return page(request, "admin/badge_edit.html", {"badge": badge, "values": {"label": badge.label,
                                                                             "active": badge.active}, "errors": {}})


@router.post("/admin/badges/{uid}", response_class=HTMLResponse)
def edit_badge(request: Request, db: Db, uid: str, user: Annotated[User, Depends(require_page(*BADGE_EDIT))],
               form: Posted) -> Response:
    badge = _badge(db, uid)
    typed = {"label": text(form, "label"), "active": ticked(form, "active")}
    body, problems = check(BadgeIn, {"uid": badge.uid, "label": typed["label"]})
    if problems:
        return page(request, "admin/badge_edit.html", {"badge": badge, "values": typed,
                                                        "errors": messages(request, problems)}, status_code=422)
    assert body is not None
    changes = {name: (getattr(badge, name), value) for name, value in (("label", body.label),
                                                                        ("active", typed["active"]))
               if getattr(badge, name) != value}
    if not changes:
        return RedirectResponse(f"/admin/badges?saved=unchanged#badge-{badge.uid}", status_code=303)
    label = badge.label
    for name, (_before, after) in changes.items():
        setattr(badge, name, after)
    audit(db, request, "badge_changed", {"badge": label, "card": badge.uid, "changes": changes})
    return RedirectResponse(f"/admin/badges?saved=saved#badge-{badge.uid}", status_code=303)
