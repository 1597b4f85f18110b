"""Request dependencies: one unit of work per request, the caller, and role guards."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from server.accounts.login import SESSION_COOKIE, is_idle, live_session
from server.accounts.models import User
from server.accounts.service import user_for_token
from server.api.uid_view import show_uids_to
from server.audit.views import record_view
from server.config import Settings
from server.db import unit_of_work

_bearer = HTTPBearer(auto_error=False, description="a token from `mamori tokens create --user NAME`")

READ = ("admin", "manager", "receptionist", "surveyor", "auditor")
MANAGE = ("admin", "manager")
RECEPTION = ("admin", "manager", "receptionist")
HOSTS = ("admin", "manager", "receptionist", "surveyor")


def get_db(request: Request) -> Iterator[Session]:
    """The request's unit of work: committed when the handler returns, rolled back if it raises."""
    with unit_of_work(request.app.state.session_factory) as db:
        yield db


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


# scope="function": commit before the response leaves, so a failed commit is an error, not a 201.
Db = Annotated[Session, Depends(get_db, scope="function")]
AppSettings = Annotated[Settings, Depends(get_settings)]


def current_user(request: Request, db: Db,
                 credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> User:
    if credentials is None:
        user = _cookie_user(request, db)
    else:
        found = user_for_token(db, credentials.credentials, request.app.state.clock())
        if found is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "this token is unknown or revoked; create a new one "
                                "with `mamori tokens create --user NAME`", headers={"WWW-Authenticate": "Bearer"})
        user = found
    record_view(db, request, user)
    return user


def _cookie_user(request: Request, db: Session) -> User:
    """The contract also lets the web session's cookie call the API (the pages' own scripts do)."""
    settings, now = request.app.state.settings, request.app.state.clock()
    found = live_session(db, request.cookies.get(SESSION_COOKIE), now, timedelta(hours=settings.session_max_h))
    if found is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "log in, or send Authorization: Bearer <token>",
                            headers={"WWW-Authenticate": "Bearer"})
    session, user = found
    if is_idle(session, now, timedelta(minutes=settings.idle_lock_min)):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "the screen is locked: unlock it with your password")
    if request.method not in ("GET", "HEAD", "OPTIONS") and not hmac.compare_digest(
            request.headers.get("x-csrf-token", ""), session.csrf):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "send the page's X-CSRF-Token header with a cookie login")
    return user


def require(*roles: str) -> Callable[..., User]:
    """A dependency that lets only the given roles through (403 for the others)."""

    async def guard(user: Annotated[User, Depends(current_user)]) -> User:
        # async: it runs in the request's own context, so the uid masking it sets holds for the response
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                f"the {user.role} role may not do this; ask a manager")
        show_uids_to(user.role)
        return user

    guard.roles = roles  # type: ignore[attr-defined]  # read by the role x route matrix test
    return guard


class Page:
    """`limit` and `offset` query parameters shared by every list."""

    def __init__(self, limit: int = 100, offset: int = 0):
        if not 1 <= limit <= 1000:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "limit must be between 1 and 1000")
        if not 0 <= offset <= 2**31 - 1:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "offset must be between 0 and 2147483647")
        self.limit, self.offset = limit, offset


Paging = Annotated[Page, Depends(Page)]
