"""The sender's queries: claim the notices that are due, then mark each sent or failed."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.notify.models import Notice

# A claimed notice is someone's for this long; if that process dies before marking it, another
# sends it after the lease (the one case where a notice can go out twice).
LEASE = timedelta(minutes=5)
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=1)


def retry_delay(attempts: int) -> timedelta:
    """30 s after the first failure, doubling each time, never more than an hour."""
    return min(FIRST_RETRY * 2 ** min(attempts - 1, 20), LONGEST_WAIT)


def _due(now: datetime):
    return (Notice.sent_at.is_(None), Notice.failed_at.is_(None), Notice.next_attempt_at <= now)


def claim_due(db: Session, now: datetime, limit: int) -> list[Notice]:
    """Take up to `limit` due notices for this process by moving them past `now` (the caller commits).

    The conditions are checked again on the UPDATE itself: of two processes claiming at once, the
    second finds the row already moved and does not get it.
    """
    due_ids = (select(Notice.id).where(*_due(now))
               .order_by(Notice.next_attempt_at, Notice.id).limit(limit).scalar_subquery())
    claimed = db.scalars(
        update(Notice).where(Notice.id.in_(due_ids), *_due(now))
        .values(next_attempt_at=now + LEASE).returning(Notice)
        .execution_options(synchronize_session=False)
    ).all()
    return sorted(claimed, key=lambda notice: notice.id)


def mark_sent(db: Session, notice: Notice, now: datetime) -> None:
    db.execute(update(Notice).where(Notice.id == notice.id)
               .values(sent_at=now, attempts=notice.attempts + 1)
               .execution_options(synchronize_session=False))


def mark_failed(db: Session, notice: Notice, now: datetime, error: str, *, max_attempts: int) -> bool:
    """Record a failed attempt and when to try again; True when this was the last attempt."""
    attempts = notice.attempts + 1
    gave_up = attempts >= max_attempts
    db.execute(update(Notice).where(Notice.id == notice.id)
               .values(attempts=attempts, last_error=error[:2000], failed_at=now if gave_up else None,
                       next_attempt_at=now + retry_delay(attempts))
               .execution_options(synchronize_session=False))
    return gave_up
