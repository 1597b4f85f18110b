"""Writing to the audit log, inside the caller's unit of work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.audit.models import AuditEvent


def record(db: Session, at: datetime, action: str, actor: str | None, detail: str = "",
           address: str | None = None) -> None:
    db.add(AuditEvent(at=at, actor=actor, action=action, detail=detail[:2000], address=address))
