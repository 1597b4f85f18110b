"""Creating accounts and API tokens, and finding the user behind a token."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.accounts.models import ROLES, ApiToken, User
from server.accounts.passwords import hash_password, password_problems
from server.single_line import has_control

TOKEN_PREFIX = "mamori_"


class AccountError(ValueError):
    pass


def add_user(db: Session, name: str, role: str, password: str, now: datetime) -> User:
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
    user = User(name=name, role=role, password_hash=hash_password(password), created_at=now)
    db.add(user)
    db.flush()
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(db: Session, user_name: str, now: datetime) -> str:
    """Make a token for a user and return it; only its hash is kept."""
    user = db.scalars(select(User).where(User.name == user_name, User.active.is_(True))).first()
    if user is None:
        raise AccountError(f"no active user named {user_name!r}; add one with `mamori users add`")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.add(ApiToken(user_id=user.id, token_hash=_digest(token), prefix=token[:12], created_at=now))
    db.flush()
    return token


def user_for_token(db: Session, token: str, now: datetime) -> User | None:
    row = db.execute(
        select(ApiToken, User).join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None), User.active.is_(True))
    ).first()
    if row is None:
        return None
    api_token, user = row
    # Coarse on purpose: a write per request would compete with the ingest for SQLite's lock.
    if api_token.last_used_at is None or now - api_token.last_used_at > timedelta(minutes=5):
        api_token.last_used_at = now
    return user


def change_password(db: Session, user: User, password: str, now: datetime) -> None:
    """A new password under the rule; every open browser session of the person ends."""
    from server.accounts.login import end_all_sessions

    if problems := password_problems(password):
        raise AccountError("password needs " + "; ".join(problems))
    user.password_hash = hash_password(password)
    user.failed_logins, user.locked_until = 0, None
    end_all_sessions(db, user.id, now)
