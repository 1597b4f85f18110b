"""Remote unlock of a cabinet: the contract's `command`, sent from the dashboard or the API.

The audit entry is committed before the command is published: an entry for an unlock that did
not arrive is better than an unlock nobody can account for. The command is QoS 1 and never
retained (a retained unlock would reopen the lock at every reconnect); a reader ignores one older
than 10 seconds, so a command held back by a broken connection cannot open the door later.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session
from ulid import ULID

from gateway import protocol
from server.audit.service import record
from server.readers.models import Reader

DOUBLE_CLICK_S = 2.0
# Per broker link (one per running server): (cabinet, person) -> (when, command).
_recent: WeakKeyDictionary = WeakKeyDictionary()
_recent_lock = threading.Lock()


class ReaderMissing(LookupError):
    pass


class NotACabinet(Exception):
    def __init__(self, reader: Reader):
        super().__init__(f"reader {reader.id} is an {reader.role} reader, not a cabinet: it has no lock to open")
        self.reader = reader


class BrokerAway(Exception):
    pass


def cabinet_to_unlock(db: Session, reader_id: str) -> Reader:
    reader = db.get(Reader, reader_id)
    if reader is None:
        raise ReaderMissing(reader_id)
    if reader.role != "cabinet":
        raise NotACabinet(reader)
    return reader


def broker_connected(link) -> bool:
    return link is not None and bool(link.connected)


def remote_unlock(db: Session, link, reader_id: str, *, by: str, at: datetime, zone: ZoneInfo, unlock_s: int,
                  note: str | None = None, address: str | None = None) -> protocol.Command:
    """Audit (and commit), then publish one unlock command to the cabinet. `link` is the ingest's
    BrokerLink, or None when this process runs without one."""
    reader = cabinet_to_unlock(db, reader_id)
    if not broker_connected(link):
        raise BrokerAway()
    with _recent_lock:
        previous = _recent.setdefault(link, {}).get((reader.id, by))
        if previous and time.monotonic() - previous[0] < DOUBLE_CLICK_S:
            return previous[1]  # the same person twice at once (a double click): one unlock, one audit entry
    command = protocol.Command(v=1, id=str(ULID()), type="unlock", unlock_s=unlock_s, by=by, at=at.astimezone(zone))
    note = (note or "").strip()[:500]
    record(db, at, "remote_unlock", by,
           {"reader": reader.name, "seconds": unlock_s, "command": command.id, "note": note or None}, address)
    # Kept before the command leaves, so the door opening it causes is never judged as forced.
    previous_unlock_at, reader.remote_unlock_at = reader.remote_unlock_at, at
    db.commit()
    try:
        link.publish(protocol.topic(reader.site, reader.id, "command"), protocol.encode(command), retain=False)
    except Exception as exc:
        record(db, at, "remote_unlock_failed", by,
               {"reader": reader.name, "command": command.id, "reason": "broker_away"}, address)
        reader.remote_unlock_at = previous_unlock_at
        db.commit()
        raise BrokerAway() from exc
    with _recent_lock:
        _recent.setdefault(link, {})[(reader.id, by)] = (time.monotonic(), command)
    return command
