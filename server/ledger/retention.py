"""Dead letters are kept for inspection, not for ever: deleted a retention period after their last refusal."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from server.ledger.models import DeadLetter


def prune_dead_letters(db: Session, now: datetime, *, days: int) -> int:
    """Delete the dead letters last refused more than `days` ago; how many went."""
    result = db.execute(delete(DeadLetter).where(DeadLetter.last_received_at < now - timedelta(days=days)))
    return result.rowcount
