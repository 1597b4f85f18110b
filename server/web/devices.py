"""/devices 「端末の返却・データ消去確認」: phones, media and laptops after the tap.

Two lists: devices out with no purpose yet (a form to choose it), and devices back in the cabinet
waiting for "調査データ消去済み" (who returned them, when, how long they have waited, red past
`erase_confirm_within_h`) with a confirm button. A surveyor sees their own; managers, admins and
auditors (read-only) see everyone's.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from server.accounts.models import User
from server.api.deps import Db
from server.checkouts import erasure
from server.checkouts.models import Checkout
from server.checkouts.not_erased import PENDING
from server.domain.erasure import PURPOSE_MAX, erasure_late, may_act
from server.items.models import Item
from server.people.models import Person
from server.web.admin.common import Posted, address, text
from server.web.deps import require_page
from server.web.i18n import translator
from server.web.render import office_time, page

router = APIRouter(include_in_schema=False)
ACT = ("admin", "manager", "receptionist", "surveyor")  # the holder's own; managers any (server/domain/erasure.py)
VIEW = (*ACT, "auditor")
SEE_ALL = ("admin", "manager", "auditor")
SHOWN = 500  # rows per list; more than that waiting is a problem the alerts already show
DONE = {"erased": "dev.done.erased", "purpose": "dev.done.purpose", "erased_many": "dev.done.erased_many"}
BACK = {"devices": "/devices", "my": "/my"}  # the pages the "confirm these" form is on
CONFLICTS = {"already": "dev.err.already", "not_returned": "dev.err.not_returned", "not_device": "dev.err.not_device"}
PURPOSE_ERRORS = {"empty": "admin.err.required", "too_long": "admin.err.too_long", "control": "dev.err.control"}


def _scoped(query, user: User):
    if user.role in SEE_ALL:
        return query
    return query.where(Checkout.person_id == user.person_id) if user.person_id else query.where(False)


def _lists(db: Session, user: User) -> tuple[list, list]:
    returner = aliased(Person)
    base = (select(Checkout, Item, Person, returner).join(Item, Item.id == Checkout.item_id)
            .join(Person, Person.id == Checkout.person_id)
            .outerjoin(returner, returner.id == Checkout.returned_by_id))
    no_purpose = _scoped(base.where(Checkout.returned_at.is_(None), Checkout.erasure.is_not(None),
                                    or_(Checkout.purpose.is_(None), Checkout.purpose == "")), user)
    waiting = _scoped(base.where(PENDING, Checkout.returned_at.is_not(None)), user)
    return (db.execute(no_purpose.order_by(Checkout.out_at, Checkout.id).limit(SHOWN)).all(),
            db.execute(waiting.order_by(Checkout.returned_at, Checkout.id).limit(SHOWN)).all())


def _context(request: Request, db: Session, user: User, *, values: dict[str, str] | None = None,
             errors: dict[str, str] | None = None, problem: str | None = None,
             notice: str | None = None) -> dict[str, Any]:
    settings = request.app.state.settings
    now = request.app.state.clock()
    within = timedelta(hours=settings.erase_confirm_within_h)
    no_purpose, waiting = _lists(db, user)
    return {
        "no_purpose": [{"checkout": c, "item": i, "holder": p, "may": may_act(user.role, user.person_id, c.person_id)}
                       for c, i, p, _r in no_purpose],
        "waiting": [{"checkout": c, "item": i, "holder": p, "returner": r,
                     "waited_s": (now - c.returned_at).total_seconds(), "late": erasure_late(c.returned_at, now, within),
                     "may": may_act(user.role, user.person_id, c.person_id)} for c, i, p, r in waiting],
        "sees_all": user.role in SEE_ALL, "unlinked": user.role not in SEE_ALL and not user.person_id,
        "within_h": f"{settings.erase_confirm_within_h:g}", "purpose_max": PURPOSE_MAX, "now": now,
        "values": values or {}, "errors": errors or {}, "problem": problem, "notice": notice,
    }


@router.get("/devices", response_class=HTMLResponse)
def devices_page(request: Request, db: Db, user: Annotated[User, Depends(require_page(*VIEW))],
                 done: str | None = None) -> HTMLResponse:
    return page(request, "devices/devices.html", _context(request, db, user, notice=DONE.get(done or "")))


def _refused(request: Request, db: Session, user: User, exc: Exception, **kw: Any) -> HTMLResponse:
    t = translator(getattr(request.state, "lang", "ja"))
    if isinstance(exc, erasure.CheckoutMissing):
        return page(request, "devices/devices.html", _context(request, db, user, problem=t("dev.err.missing"), **kw),
                    status_code=404)
    if isinstance(exc, erasure.NotAllowed):
        return page(request, "devices/devices.html", _context(request, db, user, problem=t("dev.err.not_yours"),
                                                              **kw), status_code=403)
    assert isinstance(exc, erasure.CheckoutConflict)
    c = exc.checkout
    message = t(CONFLICTS[exc.reason], name=c.erased_by or "—",
                at=office_time(c.erased_at, request.app.state.settings.zone, getattr(request.state, "lang", "ja")))
    return page(request, "devices/devices.html", _context(request, db, user, problem=message, **kw), status_code=409)


@router.post("/devices/{checkout_id}/erased", response_class=HTMLResponse)
def confirm_erased(request: Request, db: Db, checkout_id: int,
                   user: Annotated[User, Depends(require_page(*ACT))]) -> Response:
    settings = request.app.state.settings
    try:
        erasure.confirm_erased(db, checkout_id, by=user, at=request.app.state.clock(), zone=settings.zone,
                               address=address(request))
    except (erasure.CheckoutMissing, erasure.NotAllowed, erasure.CheckoutConflict) as exc:
        return _refused(request, db, user, exc)
    return RedirectResponse("/devices?done=erased", status_code=303)


@router.post("/devices/erased", response_class=HTMLResponse)
def confirm_many(request: Request, db: Db, user: Annotated[User, Depends(require_page(*ACT))],
                 form: Posted) -> Response:
    """Several devices confirmed at once (ten returns of one phone need not be ten clicks).

    All or nothing: one that cannot be confirmed (not the holder's, confirmed meanwhile) stops the
    lot and says which, so nobody believes a device was confirmed that was not."""
    back = BACK.get(text(form, "back"), "/devices")
    ids = [int(v) for v in form.getlist("checkout") if isinstance(v, str) and v.isdigit() and len(v) <= 9]
    if not ids:
        t = translator(getattr(request.state, "lang", "ja"))
        if back == "/my":
            return RedirectResponse("/my?problem=none_chosen#waiting", status_code=303)
        return page(request, "devices/devices.html", _context(request, db, user, problem=t("dev.err.none_chosen")),
                    status_code=422)
    settings, now = request.app.state.settings, request.app.state.clock()
    for checkout_id in dict.fromkeys(ids):
        try:
            erasure.confirm_erased(db, checkout_id, by=user, at=now, zone=settings.zone, address=address(request))
        except (erasure.CheckoutMissing, erasure.NotAllowed, erasure.CheckoutConflict) as exc:
            db.rollback()
            return _refused(request, db, user, exc)
    return RedirectResponse(f"{back}?done=erased_many", status_code=303)


@router.post("/devices/{checkout_id}/purpose", response_class=HTMLResponse)
def set_purpose(request: Request, db: Db, checkout_id: int, user: Annotated[User, Depends(require_page(*ACT))],
                form: Posted) -> Response:
    typed = text(form, "purpose")
    field = f"purpose-{checkout_id}"
    try:
        erasure.set_purpose(db, checkout_id, typed, by=user, at=request.app.state.clock(), address=address(request))
    except (erasure.CheckoutMissing, erasure.NotAllowed, erasure.CheckoutConflict) as exc:
        return _refused(request, db, user, exc, values={field: typed})
    except erasure.BadPurpose as exc:
        t = translator(getattr(request.state, "lang", "ja"))
        errors = {field: t(PURPOSE_ERRORS[exc.reason], max=PURPOSE_MAX)}
        return page(request, "devices/devices.html", _context(request, db, user, values={field: typed}, errors=errors),
                    status_code=422)
    return RedirectResponse("/devices?done=purpose", status_code=303)
