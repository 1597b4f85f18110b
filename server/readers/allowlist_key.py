"""Each cabinet's allowlist key: made on the server, shown once, given to the reader out of band."""

from __future__ import annotations

import secrets

from sqlalchemy.orm import Session

from server.readers.models import Reader


class NotACabinet(ValueError):
    pass


def new_allowlist_key(db: Session, reader_id: str) -> str:
    """A fresh 256-bit key for the cabinet (hex), replacing any earlier one; the caller shows it once."""
    reader = db.get(Reader, reader_id)
    if reader is None or reader.role != "cabinet":
        raise NotACabinet(f"no cabinet reader {reader_id}: register it first (mamori readers add … --role cabinet)")
    reader.allowlist_key = secrets.token_hex(32)
    return reader.allowlist_key
