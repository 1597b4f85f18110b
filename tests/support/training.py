"""Recording and withdrawing 情報セキュリティ教育 attendance straight through the service (one unit of work)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from server.db import unit_of_work
from server.training.models import Attendance
from server.training.service import SessionFacts, record_session, withdraw


def record_training(factory, person_ids: list[int], held_on: date, *, by: str = "kanri") -> int:
    """A session held on `held_on` with these attendees; returns its id."""
    with unit_of_work(factory) as db:
        return record_session(db, datetime.now(UTC), max(held_on, date.today()), by,
                              SessionFacts(held_on, "情報セキュリティ教育", "ward"), person_ids).id


def withdraw_attendance(factory, person_id: int, reason: str = "誤って記録", *, by: str = "kanri") -> None:
    """Withdraw every attendance of the person that still stands."""
    with unit_of_work(factory) as db:
        ids = [a.id for a in db.scalars(select(Attendance).where(Attendance.person_id == person_id,
                                                                 Attendance.action == "attended"))]
        withdrawn = set(db.scalars(select(Attendance.withdraws_id).where(Attendance.withdraws_id.in_(ids))))
        for attendance_id in ids:
            if attendance_id not in withdrawn:
                withdraw(db, datetime.now(UTC), by, attendance_id, reason)
