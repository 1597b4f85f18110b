"""Answering the monthly self-inspection and reading it back: the latest answer of each month, and every
answer of a month (newest first). Answers are only ever added (the caller commits)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.domain.self_inspection import Answer
from server.inspection.models import SelfInspection


def answer(db: Session, at: datetime, month: str, answers: dict[str, Answer], *, by: str,
           user_id: int | None) -> SelfInspection:
    row = SelfInspection(month=month, answered_at=at, answered_by=by, user_id=user_id,
                         answers={key: {"ok": a.ok, "note": a.note} for key, a in answers.items()})
    db.add(row)
    db.flush()
    return row


def answers_of(row: SelfInspection) -> dict[str, Answer]:
    return {key: Answer(bool(value.get("ok")), str(value.get("note") or "")) for key, value in row.answers.items()}


def latest(db: Session, months: list[str]) -> dict[str, SelfInspection]:
    """month -> its newest answer, for the months that have one."""
    if not months:
        return {}
    newest = (select(SelfInspection.month, func.max(SelfInspection.id).label("id"))
              .where(SelfInspection.month.in_(months)).group_by(SelfInspection.month).subquery())
    rows = db.scalars(select(SelfInspection).join(newest, newest.c.id == SelfInspection.id))
    return {row.month: row for row in rows}


def history(db: Session, months: list[str]) -> list[SelfInspection]:
    """Every answer for these months, the newest month first and, within it, the newest answer first."""
    if not months:
        return []
    return list(db.scalars(select(SelfInspection).where(SelfInspection.month.in_(months))
                           .order_by(SelfInspection.month.desc(), SelfInspection.id.desc())))
