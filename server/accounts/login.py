"""Logging in: the password check, the throttle and the temporary lockout, each step audited."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.accounts.models import User, WebSession
from server.accounts.passwords import hash_password, verify_password
from server.audit.service import record

# Compared against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = hash_password("not-a-real-password-1A!")


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    problem: str | None  # "wrong" | "locked" | None
    locked_until: datetime | None = None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def log_in(db: Session, name: str, password: str, now: datetime, *, max_failures: int, lockout: timedelta,
           address: str | None) -> LoginOutcome:
    """Check a name and password; after `max_failures` wrong ones in a row the account locks for `lockout`."""
    user = db.scalars(select(User).where(User.name == name.strip())).first()
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)
        record(db, now, "login_failed", name.strip()[:100], {"reason": "unknown_account"}, address)
        return LoginOutcome(None, "wrong")
    if user.locked_until is not None and user.locked_until > now:
        record(db, now, "login_refused_locked", user.name, {"until": user.locked_until}, address)
        return LoginOutcome(None, "locked", user.locked_until)
    if not verify_password(user.password_hash, password):
        return count_failure(db, user, now, max_failures=max_failures, lockout=lockout, address=address,
                             where="login")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    record(db, now, "login", user.name, {}, address)
    return LoginOutcome(user, None)


def count_failure(db: Session, user: User, now: datetime, *, max_failures: int, lockout: timedelta,
                  address: str | None, where: str) -> LoginOutcome:
    """One more wrong password, counted in the database itself: guesses sent in parallel each count."""
    failures = db.execute(update(User).where(User.id == user.id).values(failed_logins=User.failed_logins + 1)
                          .returning(User.failed_logins).execution_options(synchronize_session=False)).scalar_one()
    if failures >= max_failures:
        locked_until = now + lockout
        db.execute(update(User).where(User.id == user.id).values(locked_until=locked_until, failed_logins=0)
                   .execution_options(synchronize_session=False))
        end_all_sessions(db, user.id, now)
        record(db, now, "lockout", user.name, {"failures": max_failures, "where": where, "until": locked_until},
               address)
        db.refresh(user)
        return LoginOutcome(None, "locked", locked_until)
    record(db, now, "login_failed" if where == "login" else "unlock_failed", user.name,
           {"reason": "wrong_password", "failures": failures}, address)
    db.refresh(user)
    return LoginOutcome(None, "wrong")


def start_session(db: Session, user: User, now: datetime) -> str:
    """A new browser session for `user`; returns the cookie value (only its hash is kept)."""
    token = secrets.token_urlsafe(32)
    db.add(WebSession(id=_digest(token), user_id=user.id, csrf=secrets.token_urlsafe(32), created_at=now,
                      last_active_at=now))
    return token


SESSION_COOKIE = "mamori_session"


def live_session(db: Session, token: str | None, now: datetime, max_age: timedelta) -> tuple[WebSession, User] | None:
    """The session behind a cookie, unless it was ended, is older than `max_age` or its user left."""
    if not token:
        return None
    row = db.execute(
        select(WebSession, User).join(User, User.id == WebSession.user_id)
        .where(WebSession.id == _digest(token), WebSession.ended_at.is_(None), User.active.is_(True))
    ).first()
    if row is None or now - row[0].created_at > max_age:
        return None
    return row[0], row[1]


def is_idle(session: WebSession, now: datetime, idle_after: timedelta) -> bool:
    """The screen lock: locked by hand, or nothing done for `idle_after`."""
    return session.locked or now - session.last_active_at > idle_after


def end_session(db: Session, session: WebSession, now: datetime) -> None:
    session.ended_at = now


def end_all_sessions(db: Session, user_id: int, now: datetime) -> None:
    db.execute(update(WebSession).where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
               .values(ended_at=now))
