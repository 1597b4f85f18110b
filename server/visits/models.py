"""Visits (the 入退室記録簿 for visitors) and every entry or exit at the entrance."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime


class Visit(Base):
    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint("state IN ('expected', 'in', 'out')", name="state"),
        # A badge is lent to one visit at a time.
        Index(
            "uq_visits_badge_active",
            "badge_uid",
            unique=True,
            sqlite_where=text("state != 'out'"),
            postgresql_where=text("state != 'out'"),
        ),
        Index("ix_visits_state", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    purpose: Mapped[str] = mapped_column(String(500), default="")
    host: Mapped[str] = mapped_column(String(200), default="")
    badge_uid: Mapped[str] = mapped_column(ForeignKey("visitor_badges.uid"))
    state: Mapped[str] = mapped_column(String(8), default="expected")
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    entered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class PresenceEvent(Base):
    """An entry or exit of a staff member or a visitor, at the scan's own time."""

    __tablename__ = "presence_events"
    __table_args__ = (
        CheckConstraint("kind IN ('entry', 'exit')", name="kind"),
        Index("ix_presence_person_at", "person_id", "at"),
        Index("ix_presence_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), default=None)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), default=None)
    reader_id: Mapped[str] = mapped_column(ForeignKey("readers.id"))
    scan_id: Mapped[str] = mapped_column(String(64))
