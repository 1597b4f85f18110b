"""Registering readers: shared by the API and the admin pages."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.readers.models import Reader


def register_reader(db: Session, now: datetime, *, id: str, site: str, role: str, name: str) -> Reader:
    """The caller has checked that `id` is free (`db.get(Reader, id)` is None)."""
    reader = Reader(id=id, site=site, role=role, name=name, created_at=now)
    db.add(reader)
    db.flush()
    return reader
