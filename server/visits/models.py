"""Visits (the 入退室記録簿 for visitors) and every entry or exit at the entrance."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime

VISIT_STATES = ("expected", "in", "out", "not_signed_out", "cancelled")
# As SQL, for the indexes: the moment a visit belongs to (queries.visit_moment) and when it ended.
MOMENT = "coalesce(entered_at, expected_at, valid_from, registered_at)"
ENDED = "coalesce(left_at, closed_at)"


class Visit(Base):
    """One visitor's visit, from registration to the badge coming back.

    `state`: expected → in → out by taps; `not_signed_out` when the closing-time check closed a
    visit nobody tapped out of (`left_at` stays empty: nobody saw them leave); `cancelled` when an
    expected visitor did not come. The badge is lent from being assigned until `badge_returned_at`.
    """

    __tablename__ = "visits"
    __table_args__ = (
        CheckConstraint("state IN ('expected', 'in', 'out', 'not_signed_out', 'cancelled')", name="state"),
        # A badge is lent to one visit at a time: until it is back at reception.
        Index(
            "uq_visits_badge_lent",
            "badge_uid",
            unique=True,
            sqlite_where=text("badge_returned_at IS NULL"),
            postgresql_where=text("badge_returned_at IS NULL"),
        ),
        Index("ix_visits_state", "state"),
        Index("ix_visits_badge", "badge_uid", "id"),  # a badge's newest visit, for a late tap (the ingest's rewind)
        Index("ix_visits_valid_from", "valid_from"),
        Index("ix_visits_registered", "registered_at", "id"),  # the API's visitor log, newest first, at any depth
        Index("ix_visits_entered_at", "entered_at"),
        # The lists of a day or a period (queries.between, docs/performance.md "Scale"): the moment a
        # visit belongs to, exactly as queries.visit_moment reads, or neither database matches it. The
        # predicate (always true) makes SQLite take the range instead of walking the index in order;
        # PostgreSQL keeps statistics of an index expression only when the index is not partial.
        Index("ix_visits_moment", text(f"({MOMENT})"), sqlite_where=text(f"{MOMENT} IS NOT NULL")),
        # visits that began before a period and ended in it or later, or have not ended
        Index("ix_visits_ended", text(f"({ENDED})"), "entered_at"),
        # who is in (the desk, the roll call) and visitors closed as not signed out: few rows of many
        Index("ix_visits_in", "entered_at", sqlite_where=text("state = 'in'"), postgresql_where=text("state = 'in'")),
        Index("ix_visits_not_signed_out", "closed_at", sqlite_where=text("state = 'not_signed_out'"),
              postgresql_where=text("state = 'not_signed_out'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    visitor_name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(200), default="")
    purpose: Mapped[str] = mapped_column(String(500), default="")
    host: Mapped[str] = mapped_column(String(200), default="")
    host_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), default=None, index=True)
    badge_uid: Mapped[str | None] = mapped_column(ForeignKey("visitor_badges.uid"), default=None)
    state: Mapped[str] = mapped_column(String(16), default="expected")
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    registered_by: Mapped[str | None] = mapped_column(String(100), default=None)
    expected_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    # The badge opens the door for this visit only between these (entry; leaving always works).
    valid_from: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    valid_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    entered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    entered_by: Mapped[str | None] = mapped_column(String(100), default=None)  # marked in at the desk, not tapped
    left_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)  # not signed out / cancelled
    closed_by: Mapped[str | None] = mapped_column(String(100), default=None)
    badge_returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    anonymised_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class StaffInside(Base):
    """A staff member in the office now: their latest entrance tap was an entry (an entry and an exit at
    the same instant: in). Derived from `presence_events` by the ingest in the batch's own transaction
    (server/visits/inside.py); not evidence, so it is changed and deleted freely, never chained."""

    __tablename__ = "staff_inside"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True, autoincrement=False)
    since: Mapped[datetime] = mapped_column(UtcDateTime)  # the entry's own time
    reader_id: Mapped[str] = mapped_column(ForeignKey("readers.id"))  # the door they came in by
    scan_id: Mapped[str] = mapped_column(String(64))


class PresenceEvent(Base):
    """An entry or exit of a staff member or a visitor, at the scan's own time."""

    __tablename__ = "presence_events"
    __table_args__ = (
        CheckConstraint("kind IN ('entry', 'exit')", name="kind"),
        Index("ix_presence_person_at", "person_id", "at", "id"),
        Index("ix_presence_at", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), default=None)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), default=None)
    reader_id: Mapped[str] = mapped_column(ForeignKey("readers.id"))
    scan_id: Mapped[str] = mapped_column(String(64))
