"""Per-person accounts (no shared logins, seed rule 8) and their API tokens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime

ROLES = ("admin", "manager", "receptionist", "surveyor", "auditor")


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'manager', 'receptionist', 'surveyor', 'auditor')", name="role"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    language: Mapped[str] = mapped_column(String(2), default="ja")
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # Notices (server/notify): where they go, the kinds this person turned off, and which staff
    # member (card holder) this login is, to find a visit's host or an item's holder.
    email: Mapped[str | None] = mapped_column(String(254), default=None)
    notices_off: Mapped[list[str]] = mapped_column(JSON, default=list)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), unique=True, default=None)
    # A temporary account (the ward's auditor): refused from this instant, the end of its last day in office time.
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class ApiToken(Base):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once. Revoked is for good."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class LoginLock(Base):
    """Wrong passwords for one user name from one address, and how long that pair is locked.

    Keyed on the name as typed, known or not, so an unknown name fails and locks exactly like a real one;
    keyed on the address too, so a guesser elsewhere cannot keep the real person out.
    """

    __tablename__ = "login_locks"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    last_failed_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)


class WebSession(Base):
    """A browser's login; only the SHA-256 of the cookie is stored. `locked` is the idle screen lock."""

    __tablename__ = "web_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_active_at: Mapped[datetime] = mapped_column(UtcDateTime)
    locked: Mapped[bool] = mapped_column(default=False)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
