"""Republish the cabinets' allowlists as soon as a change is committed, not at the next round."""

from __future__ import annotations

from fastapi import Request
from sqlalchemy import event
from sqlalchemy.orm import Session


def republish_after_commit(request: Request, db: Session) -> None:
    """After this unit of work commits, wake the allowlist publisher of `mamori serve` (if it runs here).

    After, not now: the publisher reads the database in its own session, and must see the change.
    """
    ingest = getattr(request.app.state, "ingest", None)
    if ingest is not None:
        event.listen(db, "after_commit", lambda _session: ingest.allowlists.wake(), once=True)
