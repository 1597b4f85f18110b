"""What readers sent: every accepted scan and event, and every payload that was refused."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime


class ScanRecord(Base):
    """One accepted scan, with the reader's time, the time it arrived, and what it meant."""

    __tablename__ = "scans"
    __table_args__ = (
        Index("ix_scans_reader_at", "reader_id", "at"),
        Index("ix_scans_uid_at", "uid", "at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reader_id: Mapped[str] = mapped_column(ForeignKey("readers.id"))
    uid: Mapped[str] = mapped_column(String(20))
    tech: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    fresh: Mapped[bool]
    result: Mapped[str] = mapped_column(String(8))
    action: Mapped[str | None] = mapped_column(String(16), default=None)
    reason: Mapped[str | None] = mapped_column(String(32), default=None)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), default=None)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), default=None)
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"), default=None)
    duplicate_of: Mapped[str | None] = mapped_column(String(64), default=None)


class ReaderEvent(Base):
    """A door, tamper, exit-button or offline-unlock event."""

    __tablename__ = "reader_events"
    __table_args__ = (Index("ix_reader_events_reader_at", "reader_id", "at"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    reader_id: Mapped[str] = mapped_column(ForeignKey("readers.id"))
    type: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    scan_id: Mapped[str | None] = mapped_column(String(64), default=None)


class DeadLetter(Base):
    """Payloads the ingest refused: the first kept byte for byte with the reason, and how many more
    the same reader sent for the same reason until `last_received_at` (one row, not one per payload)."""

    __tablename__ = "dead_letters"
    __table_args__ = (Index("ix_dead_letters_fold", "source", "reason", "last_received_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    topic: Mapped[str] = mapped_column(Text)
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    reason: Mapped[str] = mapped_column(String(32), index=True)
    detail: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    source: Mapped[str] = mapped_column(String(200), default="")  # mamori/v1/<site>/<reader> of the topic
    count: Mapped[int] = mapped_column(default=1)
    last_received_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
