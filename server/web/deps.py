"""Who is at the browser: the session cookie, the idle screen lock, role guards and CSRF for pages."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from server.accounts.login import SESSION_COOKIE, is_idle, live_session
from server.accounts.models import User, WebSession
from server.api.deps import Db
from server.audit.views import POLL_HEADER, record_view  # POLL_HEADER: the dashboard's own refreshes
from server.web.i18n import LANGUAGES, from_accept_language

LANG_COOKIE = "mamori_lang"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class LoginRequired(Exception):
    def __init__(self, next_url: str):
        self.next_url = next_url


class ScreenLocked(Exception):
    def __init__(self, next_url: str):
        self.next_url = next_url


class Forbidden(Exception):
    def __init__(self, roles: tuple[str, ...], role: str):
        self.roles, self.role = roles, role


class CsrfRejected(Exception):
    pass


def here(request: Request) -> str:
    """This page's path and query, to come back to after logging in or unlocking."""
    url = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return quote(url, safe="/")  # the whole path and query travel as one `next` value


def choose_language(request: Request, user: User | None) -> str:
    if user is not None and user.language in LANGUAGES:
        return user.language
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in LANGUAGES:
        return cookie
    return from_accept_language(request.headers.get("accept-language"))


def session_of(request: Request, db: Session) -> tuple[WebSession, User] | None:
    settings = request.app.state.settings
    return live_session(db, request.cookies.get(SESSION_COOKIE), request.app.state.clock(),
                        timedelta(hours=settings.session_max_h))


def idle(request: Request, session: WebSession) -> bool:
    return is_idle(session, request.app.state.clock(), timedelta(minutes=request.app.state.settings.idle_lock_min))


def page_user(request: Request, db: Db) -> User:
    """The logged-in person, or a redirect to the login page or the lock screen."""
    request.state.lang = choose_language(request, None)
    found = session_of(request, db)
    if found is None:
        raise LoginRequired(here(request))
    session, user = found
    request.state.lang = choose_language(request, user)
    if idle(request, session):
        raise ScreenLocked(here(request))
    now = request.app.state.clock()
    # A write per page view would fight the ingest for SQLite's lock; a 15 s grain is plenty for a 10 min lock.
    if request.headers.get(POLL_HEADER) is None and now - session.last_active_at > timedelta(seconds=15):
        session.last_active_at = now
    remember_viewer(request, user, session)
    record_view(db, request, user)
    return user


@dataclass(frozen=True)
class Viewer:
    """Who the page is for, as plain values: error pages render after the unit of work has ended."""

    id: int
    name: str
    role: str


def remember_viewer(request: Request, user: User, session: WebSession) -> None:
    request.state.user = Viewer(user.id, user.name, user.role)
    request.state.csrf, request.state.session = session.csrf, session


async def check_csrf(request: Request, expected: str) -> None:
    """Unsafe methods carry the session's token, in the form (`csrf`) or the X-CSRF-Token header."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = (await request.form()).get("csrf")
    if not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise CsrfRejected()


def require_page(*roles: str) -> Callable[..., object]:
    """A page guard: logged in, unlocked, one of `roles`, and a CSRF token on anything that changes data."""

    async def guard(request: Request, user: Annotated[User, Depends(page_user)]) -> User:
        if user.role not in roles:
            raise Forbidden(roles, user.role)
        await check_csrf(request, request.state.csrf)
        return user

    guard.roles = roles  # type: ignore[attr-defined]  # read by the role x route matrix test
    return guard
