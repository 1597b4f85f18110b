"""Cabinet sessions (a key holder at the open cabinet) and the checkouts made in them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime


class CabinetSession(Base):
    __tablename__ = "cabinet_sessions"
    __table_args__ = (
        Index("ix_cabinet_sessions_cabinet_opened", "cabinet_id", "opened_at"),
        # The ingest's per-tap look-ups, constant with history (docs/performance.md "Flat with history"):
        # a cabinet's open session, and the sessions a late scan falls into (closed after it).
        Index("ix_cabinet_sessions_open", "cabinet_id", "opened_at", sqlite_where=text("closed_at IS NULL"),
              postgresql_where=text("closed_at IS NULL")),
        Index("ix_cabinet_sessions_cabinet_closed", "cabinet_id", "closed_at", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    cabinet_id: Mapped[str] = mapped_column(ForeignKey("readers.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_scan_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    closed_reason: Mapped[str | None] = mapped_column(String(16), default=None)
    scan_id: Mapped[str] = mapped_column(String(64))


class Checkout(Base):
    """One take-out of one item, open until it is returned (the 持ち出し管理簿 row)."""

    __tablename__ = "checkouts"
    __table_args__ = (
        # At most one open checkout per item, enforced by the database itself.
        Index(
            "uq_checkouts_open_item",
            "item_id",
            unique=True,
            sqlite_where=text("returned_at IS NULL"),
            postgresql_where=text("returned_at IS NULL"),
        ),
        Index("ix_checkouts_item_out", "item_id", "out_at"),
        Index("ix_checkouts_open_due", "due_at", sqlite_where=text("returned_at IS NULL"),
              postgresql_where=text("returned_at IS NULL")),
        Index("ix_checkouts_person_out", "person_id", "out_at"),
        # The 持ち出し管理簿 of a period and the API's list in out_at order; `id` in it too, so a deep page
        # skips its offset on the index alone (PostgreSQL walked the heap for every skipped row).
        Index("ix_checkouts_out_at", "out_at", "id"),
        # The checkouts a replayed stretch made or closed (server/ingest/rewind.py).
        Index("ix_checkouts_out_scan", "out_scan_id"),
        Index("ix_checkouts_return_scan", "return_scan_id"),
        # The returned take-outs, newest first at any depth (GET /checkouts?state=returned).
        Index("ix_checkouts_returned", "returned_at", "id", sqlite_where=text("returned_at IS NOT NULL"),
              postgresql_where=text("returned_at IS NOT NULL")),
        CheckConstraint("erasure IN ('pending', 'done')", name="erasure"),
        # Devices back in the cabinet whose survey data nobody has yet confirmed erased.
        Index("ix_checkouts_erasure_pending", "returned_at", sqlite_where=text("erasure = 'pending'"),
              postgresql_where=text("erasure = 'pending'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    session_id: Mapped[int | None] = mapped_column(ForeignKey("cabinet_sessions.id"), default=None)
    out_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    loan_rule: Mapped[str | None] = mapped_column(String(64), default=None)  # the policy that set due_at, in words
    returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    returned_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), default=None)
    out_scan_id: Mapped[str] = mapped_column(String(64))
    return_scan_id: Mapped[str | None] = mapped_column(String(64), default=None)
    # What it was taken for: a folder's case number, or chosen on the page afterwards for a device.
    purpose: Mapped[str | None] = mapped_column(String(200), default=None)
    # Phones, media and laptops: 'pending' until somebody confirms the survey data erased after the return.
    erasure: Mapped[str | None] = mapped_column(String(8), default=None)
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    erased_by: Mapped[str | None] = mapped_column(String(200), default=None)
