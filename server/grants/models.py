"""Cabinet grants, their one-off openings, the office's own closed days, and the quarterly access reviews."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime


class CabinetGrant(Base):
    """One cabinet for one person or for everyone with a role; `hours` empty means any time."""

    __tablename__ = "cabinet_grants"
    __table_args__ = (CheckConstraint("(person_id IS NULL) <> (role IS NULL)", name="person_or_role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cabinet_id: Mapped[str] = mapped_column(ForeignKey("readers.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), default=None, index=True)
    role: Mapped[str | None] = mapped_column(String(32), default=None)
    hours: Mapped[list] = mapped_column(JSON, default=list)  # [[weekday 0-6, "08:00", "19:00"], …]
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class GrantOneOff(Base):
    """An opening on one day outside the grant's weekly hours, with its reason."""

    __tablename__ = "grant_one_offs"
    __table_args__ = (CheckConstraint("starts < ends", name="starts_before_ends"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("cabinet_grants.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column()
    starts: Mapped[time] = mapped_column()
    ends: Mapped[time] = mapped_column()
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class ClosedDay(Base):
    """A day the office closes on its own (public holidays and 年末年始 come from server/domain/grants.py)."""

    __tablename__ = "closed_days"

    day: Mapped[date] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    created_by: Mapped[str] = mapped_column(String(200))


class AccessReview(Base):
    """A manager's sign-off of the access-rights report for a quarter; append-only (the migration's triggers)."""

    __tablename__ = "access_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    quarter: Mapped[str] = mapped_column(String(7), index=True)  # 2026-Q4
    signed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    signed_by: Mapped[str] = mapped_column(String(200))
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the report as signed off
    lines: Mapped[int] = mapped_column()
    note: Mapped[str | None] = mapped_column(Text, default=None)
