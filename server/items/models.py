"""Things kept in a cabinet: case folders, phones, media, laptops, keys."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint("kind IN ('folder', 'phone', 'media', 'laptop', 'key')", name="kind"),
        CheckConstraint("status IN ('active', 'lost', 'retired')", name="status"),
        CheckConstraint("due_time IS NULL OR loan_minutes IS NULL", name="one_rule"),
        Index("ix_items_tag_uid", "tag_uid"),
        # A tag is one item's while in use; a retired item (its case destroyed) frees it for a new folder
        # and keeps its own history.
        Index("uq_items_tag_uid_in_use", "tag_uid", unique=True, sqlite_where=text("status <> 'retired'"),
              postgresql_where=text("status <> 'retired'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    tag_uid: Mapped[str] = mapped_column(String(20))
    cabinet_id: Mapped[str] = mapped_column(ForeignKey("readers.id"), index=True)
    encrypted: Mapped[bool] = mapped_column(default=False)
    screen_locked: Mapped[bool] = mapped_column(default=False)  # phones must also have a screen lock to leave
    case_number: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # The item's own loan rule, overriding its kind's (both empty: the kind's rule applies).
    due_time: Mapped[time | None] = mapped_column(default=None)
    loan_minutes: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
