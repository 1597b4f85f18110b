"""A survey request (the 受付簿 row, its current state) and its append-only history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime


class Case(Base):
    """Known by the ward's case number only; the state is what the events in `case_events` add up to."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("kind IN ('new', 'renewal', 'change')", name="kind"),
        CheckConstraint("destroy_method IS NULL OR destroy_method IN ('shredder', 'dissolve', 'erase')",
                        name="destroy_method"),
        CheckConstraint("witness_id IS NULL OR witness_id <> destroyed_by_id", name="witness_not_destroyer"),
        Index("ix_cases_received_on", "received_on"),
        Index("ix_cases_surveyor_received", "surveyor_id", "received_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    received_on: Mapped[date]
    kind: Mapped[str] = mapped_column(String(8))
    surveyor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), default=None)
    deadline: Mapped[date | None] = mapped_column(default=None)
    surveyed_on: Mapped[date | None] = mapped_column(default=None)
    submitted_on: Mapped[date | None] = mapped_column(default=None)
    withdrawn_on: Mapped[date | None] = mapped_column(default=None)
    retention_days: Mapped[int]  # the office's rule when the case was received, kept with the case
    retain_until: Mapped[date | None] = mapped_column(default=None)
    destroyed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    destroy_method: Mapped[str | None] = mapped_column(String(8), default=None)
    destroyed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), default=None)
    witness_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CaseEvent(Base):
    """One step in a case's history, never changed or deleted; a correction is a new event naming the
    one it corrects."""

    __tablename__ = "case_events"
    __table_args__ = (
        CheckConstraint("action IN ('received', 'survey', 'submit', 'withdraw', 'destroy', 'correct', 'note')",
                        name="action"),
        Index("ix_case_events_case_at", "case_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    action: Mapped[str] = mapped_column(String(10))
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    by_name: Mapped[str] = mapped_column(String(200))  # the account's name then, or "CSV取込"
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # field -> new value
    corrects_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id"), default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)


@event.listens_for(CaseEvent, "before_update")
@event.listens_for(CaseEvent, "before_delete")
def _history_is_append_only(_mapper, _connection, target: CaseEvent) -> None:
    raise PermissionError(f"case event {target.id} is history: add a correction instead of changing it")
