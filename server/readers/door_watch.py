"""Cabinet door alerts: a door opened with no unlock (door_forced), a door left open (door_held_open).

- The ingest judges each cabinet `door_open` as it is applied (`door_opened`): with no granted
  tap, offline unlock, exit button or remote unlock in the window before it, it opens a
  `door_forced` alert (high), or counts up the cabinet's unresolved one (each event an occurrence).
  An unlock that arrives after the opening it explains (the network delivered them out of order)
  takes that occurrence back (`explained_late`): the alert is counted again, noted, and resolved by
  mamori when nothing is left of it, as if the two had arrived in order.
- Every `door_check_s` seconds `DoorWatch` looks at each cabinet's newest door event: a
  `door_open` older than `door_open_max_s` opens one `door_held_open` alert (medium) for it —
  once the server has known of it for a few seconds, so a replayed opening whose closing is
  on its way behind it is not judged alone.
- When the door closes (`door_closed`), the ingest notes on that alert how long the door stood
  open; the manager resolves it. A door that was open too long but closed before any round saw
  it (or whose events arrive late, replayed) gets its alert at the closing.

The entrance door has no lock state in the contract, so only cabinet doors are watched. Held-open
alerts are unique per (type, event) in the database and written with ON CONFLICT DO NOTHING, so a
second round or a second process never opens another and never fails a batch; a re-sent event is
known to the ingest and judged once.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased, sessionmaker

from server.alerts import fold, notes
from server.alerts.models import Alert, AlertOccurrence
from server.alerts.to_managers import tell_managers
from server.bulk import among
from server.clock import Clock
from server.config import Settings
from server.domain.alerts import fold_key
from server.domain.door import DOOR_EVENTS, door_forced, held_open_too_long, unlock_window
from server.ledger.models import ReaderEvent
from server.notify.models import Notice
from server.periodic import Periodic
from server.readers.models import Reader

log = logging.getLogger("mamori.doors")

INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}

_door = aliased(ReaderEvent)
_newest_door_event = (select(_door.id).where(_door.reader_id == Reader.id, _door.type.in_(DOOR_EVENTS))
                      .order_by(_door.at.desc(), _door.id.desc()).limit(1).correlate(Reader).scalar_subquery())
# Each cabinet with its newest door event, unless that event already has its held-open alert.
_DOORS = (select(Reader.id, Reader.name, ReaderEvent.id, ReaderEvent.type, ReaderEvent.at, ReaderEvent.received_at)
          .join(ReaderEvent, ReaderEvent.id == _newest_door_event)
          .where(Reader.role == "cabinet",
                 ~exists().where(Alert.type == "door_held_open", Alert.event_id == ReaderEvent.id))
          .order_by(Reader.id))


def _clock_time(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%Y/%m/%d %H:%M:%S")


def open_door_alert(db: Session, row: dict) -> bool:
    """Insert one door alert unless its (type, event) is already there; True if it is new."""
    dialect = db.get_bind().dialect.name
    if dialect not in INSERTS:
        raise RuntimeError(f"door alerts need SQLite or PostgreSQL, not {dialect}")
    values = {"state": "open", "reason": None, "person_id": None, "item_id": None, "scan_id": None, **row}
    inserted = db.execute(INSERTS[dialect](Alert).values(values).on_conflict_do_nothing().returning(Alert.id))
    return inserted.first() is not None


# ---------------------------------------------------------------- door_forced (from the ingest)

def door_opened(db: Session, settings: Settings, *, reader_id: str, reader_name: str, event_id: str,
                opened_at: datetime, unlocks: list[datetime], now: datetime) -> bool:
    """Judge a cabinet's `door_open`; opens (and tells) its door_forced alert. True if it did."""
    if not door_forced(opened_at, unlocks, unlock_s=settings.unlock_s, grace_s=settings.door_forced_grace_s):
        return False
    when = _clock_time(opened_at, settings.zone)
    subject = f"{reader_name}: door opened at {when} with no unlock"
    # Forced again while its alert is unresolved: the same problem, counted up (server/alerts/fold.py).
    fold.write(db, [{"type": "door_forced", "severity": "high", "state": "open", "opened_at": opened_at,
                     "subject": subject, "reason": None, "reader_id": reader_id, "person_id": None, "item_id": None,
                     "scan_id": None, "event_id": event_id, "fold_key": fold_key("door_forced", reader_id=reader_id)}])
    log.warning("door forced: %s", subject)
    tell_managers(db, now, settings, kind="door_forced", key=f"door_forced:{event_id}",
                  ja=("【mamori】解錠なしでキャビネットの扉が開きました", f"{reader_name}：{when} に解錠の記録なしで扉が開きました。"),
                  en=("[mamori] A cabinet door opened with no unlock",
                      f"{reader_name}: the door opened at {when} with no unlock on record."),
                  payload={"reader": reader_id, "event_id": event_id, "opened_at": opened_at.isoformat()})
    return True


_FORCED_OPEN = (select(AlertOccurrence.id, AlertOccurrence.alert_id, AlertOccurrence.reader_id, AlertOccurrence.at,
                       AlertOccurrence.event_id)
                .join(Alert, Alert.id == AlertOccurrence.alert_id)
                .where(among(Alert.fold_key, "keys"), Alert.state != "resolved", Alert.type == "door_forced"))


def explained_late(db: Session, settings: Settings, unlocks: dict[str, list[datetime]], now: datetime) -> int:
    """Withdraw the door_forced occurrences that a batch's unlocks ({cabinet: times}) explain; how many.

    Only an unresolved alert is revised: a resolved one is history as the manager closed it."""
    keys = [fold_key("door_forced", reader_id=cabinet) for cabinet, times in unlocks.items() if times]
    if not keys:
        return 0
    explained = [row for row in db.execute(_FORCED_OPEN, {"keys": keys})
                 if not door_forced(row.at, unlocks.get(row.reader_id, []), unlock_s=settings.unlock_s,
                                    grace_s=settings.door_forced_grace_s)]
    for row in explained:
        line = notes.line(now, "mamori", "revised", why="unlock_arrived_late", door_at=row.at.isoformat())
        db.execute(update(Alert).where(Alert.id == row.alert_id)
                   .values(note=func.coalesce(Alert.note + ("\n" + line), line))
                   .execution_options(synchronize_session=False))
        # A mail not sent yet need not go: the alert and its note are the record.
        db.execute(delete(Notice).where(Notice.dedupe_key.startswith(f"door_forced:{row.event_id}:"),
                                        Notice.sent_at.is_(None)))
        log.info("door forced taken back: the opening at %s had an unlock that arrived after it", row.at)
    fold.withdraw(db, {row.id: row.alert_id for row in explained}, now, "mamori")
    return len(explained)


def unlocks_from(opened_at: datetime, settings: Settings) -> datetime:
    """The earliest time an unlock may lie and still explain a door opened at `opened_at`."""
    return unlock_window(opened_at, unlock_s=settings.unlock_s, grace_s=settings.door_forced_grace_s)[0]


# ---------------------------------------------------------------- door_held_open

def _held_open_alert(db: Session, settings: Settings, now: datetime, *, reader_id: str, reader_name: str,
                     event_id: str, opened_at: datetime, note: str | None = None) -> bool:
    limit = settings.door_open_max_s
    since = _clock_time(opened_at, settings.zone)
    subject = f"{reader_name}: door open since {since} (limit {limit} s)"
    if not open_door_alert(db, {"type": "door_held_open", "severity": "medium",
                                "opened_at": opened_at + timedelta(seconds=limit), "subject": subject,
                                "reader_id": reader_id, "event_id": event_id, "note": note}):
        return False
    log.warning("door held open: %s", subject)
    tell_managers(db, now, settings, kind="door_held_open", key=f"door_held_open:{event_id}",
                  ja=("【mamori】キャビネットの扉が開いたままです", f"{reader_name}：{since} から扉が開いています（上限 {limit} 秒）。"),
                  en=("[mamori] A cabinet door is held open",
                      f"{reader_name}: the door has been open since {since} (limit {limit} s)."),
                  payload={"reader": reader_id, "event_id": event_id, "opened_at": opened_at.isoformat()})
    return True


def doors_held_open(db: Session, now: datetime, settings: Settings) -> list[str]:
    """One round: a held-open alert for each cabinet whose door is open too long; their subjects."""
    limit = timedelta(seconds=settings.door_open_max_s)
    opened: list[str] = []
    for reader_id, name, event_id, kind, at, heard_at in db.execute(_DOORS).all():
        if held_open_too_long(kind, at, now, limit, heard_at) and _held_open_alert(
                db, settings, now, reader_id=reader_id, reader_name=name, event_id=event_id, opened_at=at):
            opened.append(f"{name}: {event_id}")
    return opened


def door_closed(db: Session, settings: Settings, *, reader_id: str, reader_name: str,
                opening: tuple[str, str, datetime] | None, closed_at: datetime, now: datetime) -> None:
    """A cabinet door closed: note on its held-open alert how long it stood open (opening it first
    if the door was open too long and no round saw it). `opening` is the door event before it."""
    if opening is None or opening[1] != "door_open":
        return
    event_id, _type, opened_at = opening
    line = notes.line(closed_at, "mamori", "door_closed", why="door_closed",
                      open_s=max(0, round((closed_at - opened_at).total_seconds())))
    if held_open_too_long("door_open", opened_at, closed_at, timedelta(seconds=settings.door_open_max_s)) and \
            _held_open_alert(db, settings, now, reader_id=reader_id, reader_name=reader_name, event_id=event_id,
                             opened_at=opened_at, note=line):
        return
    db.execute(update(Alert).where(Alert.type == "door_held_open", Alert.event_id == event_id)
               .values(note=func.coalesce(Alert.note + ("\n" + line), line))
               .execution_options(synchronize_session=False))


class DoorWatch(Periodic):
    """The background loop that `Ingest` starts and stops, every `door_check_s` seconds."""

    name = "doors"

    def __init__(self, factory: sessionmaker[Session], clock: Clock, settings: Settings):
        super().__init__(settings.door_check_s)
        self.factory, self.clock, self.settings = factory, clock, settings

    def check(self) -> int:
        """One round; returns how many alerts it opened."""
        with self.factory.begin() as db:
            return len(doors_held_open(db, self.clock(), self.settings))
