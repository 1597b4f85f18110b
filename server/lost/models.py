"""An item a manager marked lost: blocked from loans, with its history kept for an incident record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime


class LostItem(Base):
    __tablename__ = "lost_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    checkout_id: Mapped[int | None] = mapped_column(ForeignKey("checkouts.id"), default=None)  # the loan it was lost on
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), default=None)  # who held it then
    marked_at: Mapped[datetime] = mapped_column(UtcDateTime)
    marked_by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text, default=None)
    history: Mapped[list] = mapped_column(JSON)  # every checkout and tap of the item up to marked_at, frozen
    found_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    found_by: Mapped[str | None] = mapped_column(String(200), default=None)
