"""A stock-take of one cabinet: what was tapped, and what that says is missing or misplaced."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime


class Stocktake(Base):
    __tablename__ = "stocktakes"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'finished', 'cancelled')", name="state"),
        # One stock-take at a time per cabinet: its reader's taps must mean one thing.
        Index("uq_stocktakes_open_cabinet", "cabinet_id", unique=True, sqlite_where=text("state = 'open'"),
              postgresql_where=text("state = 'open'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cabinet_id: Mapped[str] = mapped_column(ForeignKey("readers.id"))
    state: Mapped[str] = mapped_column(String(16), default="open")
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    started_by: Mapped[str] = mapped_column(String(200))
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    finished_by: Mapped[str | None] = mapped_column(String(200), default=None)


class StocktakeLine(Base):
    """One item in a finished stock-take's result."""

    __tablename__ = "stocktake_lines"
    __table_args__ = (
        CheckConstraint("outcome IN ('found', 'missing', 'unexpected', 'on_loan')", name="outcome"),
        UniqueConstraint("stocktake_id", "item_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stocktake_id: Mapped[int] = mapped_column(ForeignKey("stocktakes.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str | None] = mapped_column(String(200), default=None)  # e.g. whose loan, or its home cabinet
    scan_id: Mapped[str | None] = mapped_column(String(64), default=None)  # the tap that found it
