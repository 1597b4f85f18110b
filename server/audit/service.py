"""Writing to the audit log, inside the caller's unit of work."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, time

from sqlalchemy.orm import Session

from server.audit.actions import ACTIONS
from server.audit.models import AuditEvent

TEXT_MAX = 500  # a free-text fact (a note, a search) is cut here, so one entry stays readable


def record(db: Session, at: datetime, action: str, actor: str | None, facts: Mapping[str, object] | None = None,
           address: str | None = None) -> None:
    """One entry: `facts` are what the page words (keys named in audit.fact.*), kept as JSON."""
    if action not in ACTIONS:
        raise ValueError(f"audit action {action!r} is not in server/audit/actions.py: add it there and label it")
    detail = json.dumps({k: _plain(v) for k, v in (facts or {}).items()}, ensure_ascii=False, sort_keys=False)
    db.add(AuditEvent(at=at, actor=actor, action=action, detail=detail, address=address))


def facts_of(detail: str) -> dict[str, object] | None:
    """The facts of an entry, or None for an entry written before they were kept as JSON (plain text)."""
    if not detail.startswith("{"):
        return None
    try:
        facts = json.loads(detail)
    except ValueError:
        return None
    return facts if isinstance(facts, dict) else None


def _plain(value: object) -> object:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, str):
        return value[:TEXT_MAX]
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value
