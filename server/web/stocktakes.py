"""/stocktakes: start a stock-take of a cabinet, follow its taps live, finish (or cancel) it, and
read or print (A4) the result.

The live part is a fragment (`/stocktakes/{id}/live`) that the page's script fetches every few
seconds with the X-Mamori-Poll header, like the dashboard: a refresh is not someone at the screen.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from server.accounts.models import User
from server.api.deps import Db
from server.api.schemas import RowId
from server.domain.stocktake import OUTCOMES
from server.items import service as items
from server.stocktakes import service
from server.stocktakes.models import Stocktake
from server.web.admin.common import EDIT, VIEW, address, audit
from server.web.deps import require_page
from server.web.i18n import translator
from server.web.printout import printout
from server.web.render import office_time, page

router = APIRouter(include_in_schema=False)
Viewer = Annotated[User, Depends(require_page(*VIEW))]
Manager = Annotated[User, Depends(require_page(*EDIT))]
NOTICES = {"started": "st.started", "finished": "st.finished", "cancelled": "st.cancelled"}


def _names(db: Session) -> dict[str, str]:
    return {c.id: c.name for c in items.cabinets(db)}


def _list_context(request: Request, db: Session) -> dict[str, Any]:
    cabinets = items.cabinets(db)
    return {"stocktakes": service.listing(db), "cabinets": cabinets, "names": {c.id: c.name for c in cabinets},
            "can_edit": request.state.user.role in EDIT}


@router.get("/stocktakes", response_class=HTMLResponse)
def stocktakes_page(request: Request, db: Db, user: Viewer) -> HTMLResponse:
    context = _list_context(request, db)
    first = context["cabinets"][0].id if context["cabinets"] else ""
    return page(request, "stocktakes/list.html", {**context, "values": {"cabinet": first}, "errors": {}})


@router.post("/stocktakes", response_class=HTMLResponse)
def start(request: Request, db: Db, user: Manager, cabinet: Annotated[str, Form(max_length=32)] = "") -> Response:
    t = translator(request.state.lang)
    try:
        stocktake = service.start(db, cabinet, by=user.name, at=request.app.state.clock(), address=address(request))
    except service.NotACabinet:
        problem, running, status = t("st.err.not_cabinet"), None, 422
    except service.AlreadyOpen as exc:
        at = office_time(exc.stocktake.started_at, request.app.state.settings.zone, request.state.lang)
        problem, running, status = t("st.err.open", name=exc.stocktake.started_by, at=at), exc.stocktake, 409
    else:
        return RedirectResponse(f"/stocktakes/{stocktake.id}?done=started", status_code=303)
    return page(request, "stocktakes/list.html", {**_list_context(request, db), "values": {"cabinet": cabinet},
                                                  "errors": {"cabinet": problem}, "running": running},
                status_code=status)


def _stocktake(request: Request, db: Session, stocktake_id: int) -> Stocktake | HTMLResponse:
    try:
        return service.get(db, stocktake_id)
    except service.StocktakeMissing:
        return _message(request, translator(request.state.lang)("st.missing"), 404)


def _message(request: Request, message: str, status_code: int) -> HTMLResponse:
    return page(request, "stocktakes/message.html", {"message": message}, status_code=status_code)


def _live_context(request: Request, db: Session, stocktake: Stocktake) -> dict[str, Any]:
    now = request.app.state.clock()
    tap_list = service.taps(db, stocktake, now)
    preview = service.preview(db, stocktake, tap_list)
    return {"stocktake": stocktake, "taps": list(reversed(tap_list)), "names": _names(db),
            "not_yet": sum(1 for line, _item in preview if line.outcome == "missing"),
            "tapped_items": len(service.first_taps(tap_list)),
            "outcome_of": {line.item_id: line for line, _item in preview if line.scan_id},
            "updated": now.astimezone(request.app.state.settings.zone).strftime("%H:%M:%S")}


def _result_context(db: Session, stocktake: Stocktake) -> dict[str, Any]:
    lines = service.lines(db, stocktake)
    counts = Counter(line.outcome for line, _item in lines)
    unknown = sorted({tap.scan.uid for tap in service.taps(db, stocktake) if tap.item is None})
    return {"stocktake": stocktake, "lines": lines, "counts": {o: counts.get(o, 0) for o in OUTCOMES},
            "unknown": unknown, "names": _names(db)}


def why(line_detail: str | None, names: dict[str, str], t) -> str:
    """A line's stored `why:value` in the viewer's words."""
    if not line_detail:
        return ""
    reason, _, value = line_detail.partition(":")
    key = f"st.why.{reason}"
    text = t(key, value=names.get(value, value) if reason == "elsewhere" else value)
    return line_detail if text == key else text


@router.get("/stocktakes/{stocktake_id}", response_class=HTMLResponse)
def stocktake_page(request: Request, db: Db, user: Viewer, stocktake_id: RowId,
                   done: str | None = None) -> HTMLResponse:
    stocktake = _stocktake(request, db, stocktake_id)
    if isinstance(stocktake, HTMLResponse):
        return stocktake
    t = translator(request.state.lang)
    context = _live_context(request, db, stocktake) if stocktake.state == "open" else _result_context(db, stocktake)
    return page(request, "stocktakes/stocktake.html", {
        **context, "notice": t(NOTICES[done]) if done in NOTICES else None, "why": lambda d: why(d, context["names"], t),
        "can_edit": request.state.user.role in EDIT})


@router.get("/stocktakes/{stocktake_id}/live", response_class=HTMLResponse)
def live(request: Request, db: Db, user: Viewer, stocktake_id: RowId) -> HTMLResponse:
    """The taps so far, alone, for the page's refresh (send X-Mamori-Poll: it is not activity)."""
    stocktake = _stocktake(request, db, stocktake_id)
    if isinstance(stocktake, HTMLResponse):
        return stocktake
    if stocktake.state != "open":  # finished elsewhere meanwhile: the page reloads itself to the result
        return HTMLResponse('<div data-closed="1"></div>', headers={"Cache-Control": "no-store"})
    t = translator(request.state.lang)
    context = _live_context(request, db, stocktake)
    return page(request, "stocktakes/_live.html", {**context, "why": lambda d: why(d, context["names"], t)})


def _close(request: Request, db: Session, user: User, stocktake_id: int, action, done: str) -> Response:
    t, settings = translator(request.state.lang), request.app.state.settings
    try:
        action(db, stocktake_id, by=user.name, at=request.app.state.clock(), address=address(request))
    except service.StocktakeMissing:
        return _message(request, t("st.missing"), 404)
    except service.NotOpen as exc:
        closed = exc.stocktake
        return _message(request, t("st.err.closed", state=t(f"st.state.{closed.state}"), name=closed.finished_by,
                                   at=office_time(closed.finished_at, settings.zone, request.state.lang)), 409)
    return RedirectResponse(f"/stocktakes/{stocktake_id}?done={done}", status_code=303)


@router.post("/stocktakes/{stocktake_id}/finish")
def finish(request: Request, db: Db, user: Manager, stocktake_id: RowId) -> Response:
    return _close(request, db, user, stocktake_id, service.finish, "finished")


@router.post("/stocktakes/{stocktake_id}/cancel")
def cancel(request: Request, db: Db, user: Manager, stocktake_id: RowId) -> Response:
    return _close(request, db, user, stocktake_id, service.cancel, "cancelled")


@router.get("/stocktakes/{stocktake_id}/print", response_class=HTMLResponse)
def print_result(request: Request, db: Db, user: Viewer, stocktake_id: RowId) -> HTMLResponse:
    """The result on A4 (print_base.html) with who started and finished it; printing is audited."""
    stocktake = _stocktake(request, db, stocktake_id)
    if isinstance(stocktake, HTMLResponse):
        return stocktake
    t = translator(request.state.lang)
    context = _result_context(db, stocktake)
    audit(db, request, "stocktake_printed", {"stocktake": stocktake.id, "state": stocktake.state,
                                             "lines": len(context["lines"])})
    return printout(request, "stocktakes/print.html", {**context, "why": lambda d: why(d, context["names"], t),
                                                       "on_paper": True})
