"""情報セキュリティ教育: sessions held, who attended (append-only), and the roster's change history."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from server.db import Base, UtcDateTime

MATERIALS = ("ward", "office")  # the ward's own 教材, or the office's


class TrainingSession(Base):
    """One session held (or, `carried_over`, a training recorded on paper before mamori)."""

    __tablename__ = "training_sessions"
    __table_args__ = (
        CheckConstraint("material IS NULL OR material IN ('ward', 'office')", name="material"),
        CheckConstraint("minutes IS NULL OR minutes > 0", name="minutes"),
        Index("ix_training_sessions_held_on", "held_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    held_on: Mapped[date]
    title: Mapped[str] = mapped_column(String(200))
    material: Mapped[str | None] = mapped_column(String(8), default=None)
    instructor: Mapped[str | None] = mapped_column(String(200), default=None)
    minutes: Mapped[int | None] = mapped_column(default=None)
    carried_over: Mapped[bool] = mapped_column(default=False)  # an earlier training, entered from paper
    by_name: Mapped[str] = mapped_column(String(200))  # who recorded it (the account's name then)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Attendance(Base):
    """A person attended a session (`attended`), or that record was withdrawn (`withdrawn`, naming it).

    Evidence: never changed or deleted (the migration's triggers refuse it too); a mistake is withdrawn.
    """

    __tablename__ = "training_attendance"
    __table_args__ = (
        CheckConstraint("action IN ('attended', 'withdrawn')", name="action"),
        CheckConstraint("(action = 'withdrawn') = (withdraws_id IS NOT NULL)", name="withdrawal_names_one"),
        Index("ix_training_attendance_person", "person_id", "session_id"),
        Index("ix_training_attendance_session", "session_id"),
        Index("uq_training_attendance_withdraws", "withdraws_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    action: Mapped[str] = mapped_column(String(10))
    withdraws_id: Mapped[int | None] = mapped_column(ForeignKey("training_attendance.id"), default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    by_name: Mapped[str] = mapped_column(String(200))


class PersonChange(Base):
    """A change to a person the 要介護認定調査員名簿 shows (added, name, 資格, 登録日, role, left), append-only."""

    __tablename__ = "person_changes"
    __table_args__ = (Index("ix_person_changes_at", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    fields: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # field -> [before, after]
    by_name: Mapped[str] = mapped_column(String(200))


@event.listens_for(Attendance, "before_update")
@event.listens_for(Attendance, "before_delete")
@event.listens_for(PersonChange, "before_update")
@event.listens_for(PersonChange, "before_delete")
def _evidence_is_append_only(_mapper, _connection, target) -> None:
    raise PermissionError(f"{target.__tablename__} {target.id} is evidence: add a withdrawal instead")
