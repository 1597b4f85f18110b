"""Logging in and out, the screen lock, and the language switch."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.accounts.login import SESSION_COOKIE, count_failure, end_session, forget_failures, log_in, start_session
from server.accounts.models import ROLES, User
from server.accounts.passwords import verify_password
from server.accounts.service import last_day
from server.api.deps import Db
from server.audit.service import record
from server.web.deps import LANG_COOKIE, check_csrf, choose_language, idle, remember_viewer, require_page, session_of
from server.web.i18n import LANGUAGES
from server.web.render import office_date, office_time, page

router = APIRouter(include_in_schema=False)
LOGIN_CSRF_COOKIE = "mamori_login_csrf"
# Where each role starts its day after logging in (unless the login was for a page they asked for).
LANDING = {"receptionist": "/reception", "surveyor": "/my"}


def safe_next(url: str | None, default: str = "/dashboard") -> str:
    """Only a path on this site (no //evil.example, no scheme)."""
    if not url:
        return default
    parts = urlsplit(url)
    if parts.scheme or parts.netloc or not url.startswith("/") or url.startswith("//"):
        return default
    return url


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _set_cookie(request: Request, response: Response, name: str, value: str, *, max_age: int | None = None) -> None:
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="strict", path="/",
                        secure=request.app.state.settings.cookie_secure)


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, db: Db, next: str | None = None) -> HTMLResponse:
    request.state.lang = choose_language(request, None)
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", {"next": safe_next(next, ""), "login_csrf": token, "error": None,
                                            "name": ""})
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.post("/login", response_class=HTMLResponse)
def login(request: Request, db: Db, name: Annotated[str, Form(max_length=100)],
          password: Annotated[str, Form(max_length=1000)], csrf: Annotated[str, Form()] = "",
          next: Annotated[str, Form()] = "") -> Response:
    request.state.lang = choose_language(request, None)
    settings, now, address = request.app.state.settings, request.app.state.clock(), _address(request)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not secrets.compare_digest(csrf, expected):
        return login_error(request, "login.expired", next, name, status_code=400)
    outcome = log_in(db, name, password, now, max_failures=settings.login_max_failures,
                     lockout=timedelta(minutes=settings.lockout_min), address=address)
    if outcome.user is not None:
        if (previous := session_of(request, db)) is not None:  # someone else's session on this browser ends
            previous[0].ended_at = now
            record(db, now, "logout", previous[1].name, {"reason": "other_login"}, address)
    if outcome.problem == "locked":
        return login_error(request, "login.locked", next, name, status_code=403,
                           until=office_time(outcome.locked_until, settings.zone, request.state.lang))
    if outcome.problem == "expired" and outcome.locked_until is not None:
        return login_error(request, "login.account_expired", next, name, status_code=403,
                           day=office_date(last_day(outcome.locked_until, settings.zone), request.state.lang))
    if outcome.user is None:
        return login_error(request, "login.wrong", next, name, status_code=401)
    response = RedirectResponse(safe_next(next, LANDING.get(outcome.user.role, "/dashboard")), status_code=303)
    _set_cookie(request, response, SESSION_COOKIE, start_session(db, outcome.user, now))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


def login_error(request: Request, key: str, next: str, name: str = "", *, status_code: int,
                **values) -> HTMLResponse:
    """The form again with what went wrong; the name stays typed in, only the password is asked again."""
    token = secrets.token_urlsafe(24)
    response = page(request, "login.html", {"next": safe_next(next, ""), "login_csrf": token, "name": name,
                                            "error": (key, values)}, status_code=status_code)
    _set_cookie(request, response, LOGIN_CSRF_COOKIE, token, max_age=3600)
    return response


@router.post("/logout")
async def logout(request: Request, db: Db) -> Response:
    """Ends the session; needs only the session and its token, so it works from the lock screen too."""
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    found = session_of(request, db)
    if found is None:
        return response
    session, user = found
    await check_csrf(request, session.csrf)
    now = request.app.state.clock()
    session.ended_at = now
    record(db, now, "logout", user.name, {}, _address(request))
    return response


@router.get("/lock", response_class=HTMLResponse)
def lock_screen(request: Request, db: Db, next: str | None = None) -> Response:
    found = session_of(request, db)
    if found is None:
        return RedirectResponse(f"/login?next={safe_next(next)}", status_code=303)
    session, user = found
    request.state.lang = choose_language(request, user)
    remember_viewer(request, user, session)
    return page(request, "lock.html", {"next": safe_next(next), "error": None, "lock_page": True})


@router.post("/unlock")
async def unlock(request: Request, db: Db) -> Response:
    """The password again, after the idle lock; a fetch from the page's overlay gets 204 instead of a redirect."""
    found = session_of(request, db)
    form = await request.form()
    next_url = safe_next(str(form.get("next", "")) or None)
    if found is None:
        return RedirectResponse(f"/login?next={next_url}", status_code=303)
    session, user = found
    await check_csrf(request, session.csrf)
    settings, now, address = request.app.state.settings, request.app.state.clock(), _address(request)
    fetch = request.headers.get("x-requested-with") == "fetch"
    if verify_password(user.password_hash, str(form.get("password", ""))):
        session.locked, session.last_active_at = False, now
        forget_failures(db, user.name, address)
        record(db, now, "unlock", user.name, {}, address)
        return Response(status_code=204) if fetch else RedirectResponse(next_url, status_code=303)
    outcome = count_failure(db, user.name, now, max_failures=settings.login_max_failures,
                            lockout=timedelta(minutes=settings.lockout_min), address=address, where="unlock")
    if outcome.problem == "locked":  # whoever is guessing at this screen loses it
        end_session(db, session, now)
        return Response(status_code=401) if fetch else RedirectResponse("/login", status_code=303)
    if fetch:
        return Response(status_code=401)
    request.state.lang = choose_language(request, user)
    remember_viewer(request, user, session)
    return page(request, "lock.html", {"next": next_url, "error": ("login.wrong", {}), "lock_page": True},
                status_code=401)


@router.post("/activity")
def activity(user: Annotated[User, Depends(require_page(*ROLES))]) -> Response:
    """The page says someone is moving the mouse or typing: the server's idle clock starts again."""
    return Response(status_code=204)


@router.get("/language/{lang}")
def language(request: Request, db: Db, lang: str, next: str | None = None) -> Response:
    """Switch the language: remembered in a cookie, and for a logged-in person on their account."""
    lang = lang if lang in LANGUAGES else "ja"
    found = session_of(request, db)
    if found is not None and not idle(request, found[0]):  # a locked screen changes nothing on the account
        found[1].language = lang
    response = RedirectResponse(safe_next(next, "/login" if found is None else "/dashboard"), status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax", path="/",
                        secure=request.app.state.settings.cookie_secure)
    return response
