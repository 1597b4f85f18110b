"""Creating accounts and API tokens, and finding the user behind a token."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.accounts.login import not_expired
from server.accounts.models import ROLES, ApiToken, User
from server.accounts.passwords import hash_password, password_problems
from server.single_line import has_control

TOKEN_PREFIX = "mamori_"
TOKEN_DAYS, MAX_TOKEN_DAYS = 90, 3650  # MAMORI_TOKEN_DAYS overrides the first for `mamori tokens create`
LAST_USE_GRAIN = timedelta(minutes=1)


class AccountError(ValueError):
    pass


def add_user(db: Session, name: str, role: str, password: str, now: datetime, *,
             expires_at: datetime | None = None) -> User:
    name = name.strip()
    if not 1 <= len(name) <= 100 or "\x00" in name:
        raise AccountError("a user name is 1 to 100 characters, e.g. the person's name or staff number")
    if has_control(name):
        raise AccountError("a user name is one line: no line breaks, tabs or other control characters")
    if role not in ROLES:
        raise AccountError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if problems := password_problems(password):
        raise AccountError("password needs " + "; ".join(problems))
    if db.scalars(select(User).where(User.name == name)).first():
        raise AccountError(f"a user named {name!r} already exists; each person has one account")
    if expires_at is not None and expires_at <= now:
        raise AccountError("an account's last day cannot be in the past")
    user = User(name=name, role=role, password_hash=hash_password(password), created_at=now, expires_at=expires_at)
    db.add(user)
    db.flush()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db: Session, user_name: str, now: datetime, *, days: int = TOKEN_DAYS) -> str:
    """Make a token for a user, valid for `days`, and return it; only its hash is kept."""
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise AccountError(f"a token lasts 1 to {MAX_TOKEN_DAYS} days; make a new one when it ends")
    user = db.scalars(select(User).where(User.name == user_name, User.active.is_(True))).first()
    if user is None:
        raise AccountError(f"no active user named {user_name!r}; add one with `mamori users add`")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.add(ApiToken(user_id=user.id, token_hash=_digest(token), prefix=token[:12], created_at=now,
                    expires_at=now + timedelta(days=days)))
    db.flush()
    return token


def user_for_token(db: Session, token: str, now: datetime) -> User | None:
    row = db.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None), ApiToken.expires_at > now,
               User.active.is_(True), not_expired(now))
    ).first()
    if row is None:
        return None
    api_token, user = row
    # Coarse on purpose: a write per request would compete with the ingest for SQLite's lock.
    if api_token.last_used_at is None or now - api_token.last_used_at > LAST_USE_GRAIN:
        api_token.last_used_at = now
    return user


def revoke_token(db: Session, token_id: int, now: datetime) -> ApiToken | None:
    """End one token for good; None if there is no such live token."""
    token = db.get(ApiToken, token_id)
    if token is None or token.revoked_at is not None:
        return None
    token.revoked_at = now
    return token


def revoke_all_tokens(db: Session, user_id: int, now: datetime) -> None:
    """End every live token of an account for good (it was deactivated, or its password reset)."""
    db.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
               .values(revoked_at=now).execution_options(synchronize_session=False))


def tokens_with_users(db: Session) -> list[tuple[ApiToken, str]]:
    """Every token with its account's name, newest first."""
    return list(db.execute(select(ApiToken, User.name).join(User, User.id == ApiToken.user_id)
                           .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())))


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    """The instant a temporary account with `day` as its last day ends: midnight after it, office time."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def last_day(expires_at: datetime, zone: ZoneInfo) -> date:
    return (expires_at.astimezone(zone) - timedelta(microseconds=1)).date()


def change_password(db: Session, user: User, password: str, now: datetime) -> None:
    """A new password under the rule; every open browser session and API token of the person ends."""
    from server.accounts.login import end_all_sessions

    if problems := password_problems(password):
        raise AccountError("password needs " + "; ".join(problems))
    user.password_hash = hash_password(password)
    end_all_sessions(db, user.id, now)
    revoke_all_tokens(db, user.id, now)
