"""Things kept in a cabinet: case folders, phones, media, laptops, keys."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime


class Item(Base):
    __tablename__ = "items"
    __table_args__ = (
        CheckConstraint("kind IN ('folder', 'phone', 'media', 'laptop', 'key')", name="kind"),
        CheckConstraint("status IN ('active', 'lost', 'retired')", name="status"),
        CheckConstraint("due_time IS NULL OR loan_minutes IS NULL", name="one_rule"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    tag_uid: Mapped[str] = mapped_column(String(20), unique=True)
    cabinet_id: Mapped[str] = mapped_column(ForeignKey("readers.id"), index=True)
    encrypted: Mapped[bool] = mapped_column(default=False)
    screen_locked: Mapped[bool] = mapped_column(default=False)  # phones must also have a screen lock to leave
    case_number: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    # The item's own loan rule, overriding its kind's (both empty: the kind's rule applies).
    due_time: Mapped[time | None] = mapped_column(default=None)
    loan_minutes: Mapped[int | None] = mapped_column(default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
