"""What a request gets when it may not go on: the login page, the lock screen, or a page that says why.

Pages answer in the person's language with a way back; the API (`/api/…`) keeps JSON with a sentence.
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from server.web.deps import (
    POLL_HEADER,
    CsrfRejected,
    Forbidden,
    LoginRequired,
    ScreenLocked,
    choose_language,
    remember_viewer,
    session_of,
)
from server.web.i18n import translator
from server.web.render import page

log = logging.getLogger("mamori.web")
WORDED = (403, 404, 405, 409, 413, 422, 429)  # other statuses read as the generic error page


def _scripted(request: Request) -> bool:
    """A refresh or fetch from a page's script wants a status it can act on, not a redirect."""
    return POLL_HEADER in request.headers or request.headers.get("x-requested-with") == "fetch"


def _api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _know_the_viewer(request: Request) -> None:
    """For a path no page guard saw (an unknown address): the person's language and menu, if logged in."""
    if getattr(request.state, "user", None) is not None:
        return
    request.state.lang = choose_language(request, None)
    try:
        with request.app.state.session_factory() as db:
            if (found := session_of(request, db)) is not None:
                request.state.lang = choose_language(request, found[1])
                remember_viewer(request, found[1], found[0])
    except Exception:  # the database being away must not turn a 404 into a 500
        log.warning("no session lookup for an error page", exc_info=True)


def _back(request: Request) -> str:
    """The page the person came from, if it was one of ours; else the dashboard."""
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path and referer.path != request.url.path:
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return "/dashboard"


def error_page(request: Request, status: int, headers: dict[str, str] | None = None) -> Response:
    _know_the_viewer(request)
    t = translator(getattr(request.state, "lang", "ja"))
    code = status if status in WORDED else 500
    response = page(request, "error.html", {"title": t(f"error.{code}.title"), "message": t(f"error.{code}.explain"),
                                            "back": _back(request)}, status_code=status)
    response.headers.update(headers or {})
    return response


def install_page_errors(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired) -> Response:
        if _scripted(request):
            return JSONResponse({"detail": "log in", "login": f"/login?next={exc.next_url}"}, status_code=401)
        return RedirectResponse(f"/login?next={exc.next_url}", status_code=303)

    @app.exception_handler(ScreenLocked)
    async def _locked(request: Request, exc: ScreenLocked) -> Response:
        if _scripted(request):
            return JSONResponse({"detail": "the screen is locked", "locked": True}, status_code=401)
        return RedirectResponse(f"/lock?next={exc.next_url}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden) -> Response:
        t = translator(getattr(request.state, "lang", "ja"))
        message = t("forbidden.explain", roles=" / ".join(t("role." + r) for r in exc.roles), role=t("role." + exc.role))
        return page(request, "forbidden.html", {"message": message}, status_code=403)

    @app.exception_handler(CsrfRejected)
    async def _csrf(request: Request, exc: CsrfRejected) -> Response:
        t = translator(getattr(request.state, "lang", "ja"))
        return page(request, "forbidden.html", {"message": t("error.csrf")}, status_code=403)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if _api(request) or _scripted(request):
            return JSONResponse({"detail": _api_detail(request, exc)}, status_code=exc.status_code,
                                headers=getattr(exc, "headers", None))
        return error_page(request, exc.status_code, getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if _api(request) or _scripted(request):
            return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)
        return error_page(request, 422)

    @app.exception_handler(Exception)
    async def _broken(request: Request, exc: Exception) -> Response:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        if _api(request):
            return JSONResponse({"detail": "the server failed on this request; it is logged, try again or "
                                           "tell the administrator"}, status_code=500)
        return error_page(request, 500)


def _api_detail(request: Request, exc: HTTPException) -> object:
    """The route's own sentence; for an address no route has, one that says where the routes are listed."""
    if exc.status_code == 404 and exc.detail == "Not Found":
        return f"no such address: {request.url.path} (the API's addresses are listed at /docs)"
    if exc.status_code == 405 and exc.detail == "Method Not Allowed":
        return f"{request.method} is not allowed on {request.url.path} (see /docs for what it takes)"
    return exc.detail

