"""Who is calling, before any body is read: a request that changes data needs a live token or login first,
so an anonymous caller cannot make the server read (and hold) a body at all."""

from __future__ import annotations

from datetime import timedelta

import anyio
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from server.accounts.login import SESSION_COOKIE, live_session
from server.accounts.service import user_for_token
from server.web.deps import POLL_HEADER, here

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
ANONYMOUS = ("/login",)  # the one form a person sends before they are anyone (its own body cap is small)


def known_caller(request: Request) -> bool:
    """A valid bearer token (when one is sent, it alone counts, as in the API) or a live login session."""
    state = request.app.state
    now = state.clock()
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    with state.session_factory() as db:  # read only: the handler's own check records the token's last use
        if scheme.lower() == "bearer" and credentials:
            return user_for_token(db, credentials.strip(), now) is not None
        return live_session(db, request.cookies.get(SESSION_COOKIE), now,
                            timedelta(hours=state.settings.session_max_h)) is not None


class EarlyAuth:
    """Pure ASGI middleware: unsafe methods from unknown callers end here, with the body unread."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or scope["path"] in ANONYMOUS:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        if await anyio.to_thread.run_sync(known_caller, request):
            await self.app(scope, receive, send)
            return
        await refusal(request)(scope, receive, send)


def refusal(request: Request) -> Response:
    """What the route's own guard would answer an unknown caller: the API's 401, a page's way to the login."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": "log in, or send Authorization: Bearer <token>"}, status_code=401,
                            headers={"WWW-Authenticate": "Bearer"})
    login = f"/login?next={here(request)}"
    if request.headers.get(POLL_HEADER) is not None or request.headers.get("x-requested-with") == "fetch":
        return JSONResponse({"detail": "log in", "login": login}, status_code=401)
    return RedirectResponse(login, status_code=303)
