"""The monthly self-inspection's answers: append-only, a newer answer for the same month is a new row."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime


class SelfInspection(Base):
    """One manager's answers for one month (自己点検): question -> {"ok": bool, "note": str}."""

    __tablename__ = "self_inspections"
    __table_args__ = (Index("ix_self_inspections_month_at", "month", "answered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # 2026-11
    answered_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_by: Mapped[str] = mapped_column(String(200))  # the account's name then
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


@event.listens_for(SelfInspection, "before_update")
@event.listens_for(SelfInspection, "before_delete")
def _answers_are_kept(_mapper, _connection, target: SelfInspection) -> None:
    raise PermissionError(f"self-inspection {target.id} is evidence: answer the month again instead")
