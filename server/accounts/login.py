"""Logging in: the password check and the temporary lockout per (name, address), each step audited."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from server.accounts.models import LoginLock, User, WebSession
from server.accounts.passwords import hash_password, verify_password
from server.audit.service import record

# Compared against when the name is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = hash_password("not-a-real-password-1A!")
UNKNOWN_ADDRESS = "unknown"
FORGET_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    problem: str | None  # "wrong" | "locked" | "expired" | None
    locked_until: datetime | None = None  # locked: until when; expired: since when


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def log_in(db: Session, name: str, password: str, now: datetime, *, max_failures: int, lockout: timedelta,
           address: str | None) -> LoginOutcome:
    """Check a name and password. An unknown name takes the same path, work and answers as a wrong password,
    and after `max_failures` of either from one address, that name is locked for `lockout` from that address."""
    name = name.strip()[:100]
    lock = db.get(LoginLock, (name, _address_key(address)))
    if lock is not None and lock.locked_until is not None and lock.locked_until > now:
        record(db, now, "login_refused_locked", name, {"until": lock.locked_until}, address)
        return LoginOutcome(None, "locked", lock.locked_until)
    user = db.scalars(select(User).where(User.name == name)).first()
    if user is None or not user.active:
        verify_password(_DUMMY_HASH, password)
        return count_failure(db, name, now, max_failures=max_failures, lockout=lockout, address=address,
                             where="login", why="unknown_account")
    if not verify_password(user.password_hash, password):
        return count_failure(db, name, now, max_failures=max_failures, lockout=lockout, address=address,
                             where="login")
    forget_failures(db, name, address)
    if expired(user, now):  # told only to whoever knows the password: names stay untold apart
        record(db, now, "login_refused_expired", user.name, {"expired_at": user.expires_at}, address)
        return LoginOutcome(None, "expired", user.expires_at)
    user.last_login_at = now
    record(db, now, "login", user.name, {}, address)
    return LoginOutcome(user, None)


def count_failure(db: Session, name: str, now: datetime, *, max_failures: int, lockout: timedelta,
                  address: str | None, where: str, why: str = "wrong_password") -> LoginOutcome:
    """One more wrong password for (name, address), counted in the database itself: parallel guesses each count."""
    failures = _one_more_failure(db, name, _address_key(address), now)
    if failures >= max_failures:
        locked_until = now + lockout
        db.execute(update(LoginLock).where(LoginLock.name == name, LoginLock.address == _address_key(address))
                   .values(locked_until=locked_until, failures=0).execution_options(synchronize_session=False))
        record(db, now, "lockout", name, {"failures": max_failures, "where": where, "until": locked_until}, address)
        return LoginOutcome(None, "locked", locked_until)
    record(db, now, "login_failed" if where == "login" else "unlock_failed", name,
           {"reason": why, "failures": failures}, address)
    return LoginOutcome(None, "wrong")


def expired(user: User, now: datetime) -> bool:
    """A temporary account (the ward's auditor) past its last day."""
    return user.expires_at is not None and now >= user.expires_at


def not_expired(now: datetime):
    """The same, as SQL: every session and token of an expired account ends with it."""
    return or_(User.expires_at.is_(None), User.expires_at > now)


def _address_key(address: str | None) -> str:
    return address or UNKNOWN_ADDRESS


def _one_more_failure(db: Session, name: str, address: str, now: datetime) -> int:
    table = LoginLock.__table__
    insert = sqlite_insert if db.get_bind().dialect.name == "sqlite" else postgresql_insert
    # Old pairs nobody failed with for a day go, so guessed names do not pile up.
    db.execute(delete(LoginLock).where(LoginLock.last_failed_at < now - FORGET_AFTER,
                                       or_(LoginLock.locked_until.is_(None), LoginLock.locked_until < now))
               .execution_options(synchronize_session=False))
    upsert = insert(table).values(name=name, address=address, failures=1, last_failed_at=now)
    return db.execute(upsert.on_conflict_do_update(
        index_elements=[table.c.name, table.c.address],
        set_={"failures": table.c.failures + 1, "last_failed_at": now}).returning(table.c.failures)).scalar_one()


def forget_failures(db: Session, name: str, address: str | None) -> None:
    """The right password from this address: its count starts again (other addresses keep theirs)."""
    db.execute(delete(LoginLock).where(LoginLock.name == name, LoginLock.address == _address_key(address))
               .execution_options(synchronize_session=False))


def unlock_name(db: Session, name: str) -> None:
    """An admin lifts every lock on a name, from every address."""
    db.execute(delete(LoginLock).where(LoginLock.name == name).execution_options(synchronize_session=False))


def locked_names(db: Session, now: datetime) -> dict[str, datetime]:
    """Names locked from at least one address now, each with the latest end of its locks."""
    rows = db.execute(select(LoginLock.name, func.max(LoginLock.locked_until)).where(LoginLock.locked_until > now)
                      .group_by(LoginLock.name))
    return {name: until for name, until in rows}


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
        .where(WebSession.id == _digest(token), WebSession.ended_at.is_(None), User.active.is_(True),
               not_expired(now))
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
