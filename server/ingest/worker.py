"""The ingest loop: MQTT messages in, one unit of work per batch, decisions and acks out.

Messages queue up while a batch commits, and the next batch takes all of them (up to
`batch_max`): one message alone when the office is quiet, hundreds in one commit when readers
replay their outboxes. Decisions and acks leave only after the commit; the broker's PUBACK too,
so a server that dies mid-batch gets the same messages again from its persistent session.
"""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from gateway import protocol
from server.db import unit_of_work
from server.ingest.ledger_view import BatchLedger
from server.ingest.service import IngestService
from server.ledger.models import DeadLetter
from server.ingest.directory import ReaderDirectory, ReaderInfo

log = logging.getLogger("mamori.ingest")
_ID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


@dataclass(slots=True)
class Incoming:
    """One MQTT message as it arrived."""

    topic: str
    payload: bytes
    received_at: datetime
    mid: int = 0
    qos: int = 0


class Link(Protocol):
    """What the worker needs of the broker connection."""

    def publish(self, topic: str, payload: bytes) -> None: ...

    def ack(self, mid: int, qos: int) -> None: ...


@dataclass(slots=True)
class _Parsed:
    msg: Incoming
    topic: protocol.Topic
    body: protocol.Scan | protocol.Event | protocol.Status
    reader: ReaderInfo


@dataclass(slots=True)
class _Outcome:
    decisions: list[tuple[str, bytes]] = field(default_factory=list)
    acks: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    dead_letters: int = 0


class IngestWorker:
    """Single consumer thread, so one reader's messages are handled in order."""

    def __init__(self, factory: sessionmaker[Session], service: IngestService, link: Link,
                 clock: Callable[[], datetime], batch_max: int = 500):
        self.factory = factory
        self.service = service
        self.link = link
        self.clock = clock
        self.batch_max = batch_max
        self.directory = ReaderDirectory()
        self.processed = 0
        self.dead_lettered = 0
        self._queue: queue.Queue[Incoming] = queue.Queue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def submit(self, msg: Incoming) -> None:
        self._queue.put(msg)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mamori-ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                first = self._queue.get(timeout=0.2)
            except queue.Empty:
                continue
            batch = [first]
            while len(batch) < self.batch_max:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self.process(batch)

    # ------------------------------------------------------------ one batch

    def process(self, batch: list[Incoming]) -> None:
        """Commit a batch, then tell the readers; never raises."""
        outcome = self._commit_with_retry(batch)
        for topic_name, payload in outcome.decisions:
            self.link.publish(topic_name, payload)
        for (site, reader), ids in outcome.acks.items():
            for ack in protocol.pack_acks(ids):
                self.link.publish(protocol.topic(site, reader, "ack"), protocol.encode(ack))
        for msg in batch:
            if msg.qos:
                self.link.ack(msg.mid, msg.qos)
        self.processed += len(batch)
        self.dead_lettered += outcome.dead_letters

    def _commit_with_retry(self, batch: list[Incoming]) -> _Outcome:
        delay = 0.5
        while True:
            try:
                return self._commit(batch)
            except (OperationalError, InterfaceError) as exc:
                # The database is away: hold the batch (nothing is acked) until it is back.
                log.error("database unavailable (%s); retrying in %.1f s", exc.__class__.__name__, delay)
                if self._stop.wait(delay):
                    return _Outcome()
                delay = min(delay * 2, 10)
            except Exception:
                log.exception("could not process a batch of %d", len(batch))
                return self._one_by_one(batch)

    def _one_by_one(self, batch: list[Incoming]) -> _Outcome:
        """Commit each message alone, so only the one that fails is dead-lettered."""
        if len(batch) == 1:
            return self._commit_failed_alone(batch[0])
        merged = _Outcome()
        for msg in batch:
            part = self._commit_with_retry([msg])
            merged.decisions += part.decisions
            for key, ids in part.acks.items():
                merged.acks[key] += ids
            merged.dead_letters += part.dead_letters
        return merged

    def _commit_failed_alone(self, msg: Incoming) -> _Outcome:
        """A message the server cannot apply is a server fault, not bad input: keep a copy for
        the manager to see, and do not ack it, so the reader keeps it and re-sends it until a
        fixed server can record it."""
        with unit_of_work(self.factory) as db:
            seen = db.scalars(select(DeadLetter.id).where(
                DeadLetter.reason == "processing_error", DeadLetter.topic == msg.topic,
                DeadLetter.payload == msg.payload)).first()
            if seen is None:
                db.add(DeadLetter(topic=msg.topic[:1000], payload=msg.payload[:65536], reason="processing_error",
                                  detail="the server could not apply this message; see the server log",
                                  received_at=msg.received_at))
        return _Outcome(dead_letters=0 if seen else 1)

    def _commit(self, batch: list[Incoming]) -> _Outcome:
        out = _Outcome()
        with unit_of_work(self.factory) as db:
            readers = self._readers(db, batch)
            parsed = [p for msg in batch if (p := self._parse(db, out, msg, readers)) is not None]
            for p in parsed:
                if isinstance(p.body, protocol.Status):
                    self.service.handle_status(db, p.reader, p.body, p.msg.received_at)
            # Scans and events follow their own time, so a replayed burst builds the same ledger.
            timed = sorted((p for p in parsed if not isinstance(p.body, protocol.Status)), key=lambda p: p.body.at)
            if timed:
                ledger = self._load_ledger(db, timed)
                for p in timed:
                    self._apply(ledger, out, p)
                ledger.write()
        return out

    def _load_ledger(self, db: Session, timed: list[_Parsed]) -> BatchLedger:
        scans = [(p.body.id, p.reader.id, p.body.uid, p.body.at) for p in timed if isinstance(p.body, protocol.Scan)]
        events = [p.body.id for p in timed if isinstance(p.body, protocol.Event)]
        cabinets = {p.reader.id for p in timed if p.reader.role == "cabinet"}
        since = timed[0].body.at - self.service.duplicate_window
        return BatchLedger.load(db, scans, events, cabinets, since)

    def _readers(self, db: Session, batch: list[Incoming]) -> dict[str, ReaderInfo]:
        names = {parts[3] for msg in batch if len(parts := msg.topic.split("/")) == 5}
        return self.directory.lookup(db.connection(), names) if names else {}

    def _apply(self, ledger: BatchLedger, out: _Outcome, p: _Parsed) -> None:
        key = (p.topic.site, p.topic.reader)
        if isinstance(p.body, protocol.Scan):
            result = self.service.handle_scan(ledger, p.reader, p.body, p.msg.received_at)
            if result.decision is not None:
                out.decisions.append((protocol.topic(*key, "decision"), protocol.encode(result.decision)))
        else:
            self.service.handle_event(ledger, p.reader, p.body, p.msg.received_at)
        out.acks[key].append(p.body.id)

    def _parse(self, db: Session, out: _Outcome, msg: Incoming, readers: dict[str, ReaderInfo]) -> _Parsed | None:
        try:
            t = protocol.parse_topic(msg.topic)
            model = {"scan": protocol.Scan, "event": protocol.Event, "status": protocol.Status}.get(t.channel)
            if model is None:
                raise protocol.ProtocolError("bad_topic", f"readers do not publish on {t.channel!r}")
            body = protocol.decode(msg.payload, model)
            if isinstance(body, protocol.Scan | protocol.Event):
                protocol.check_not_future(body.at, msg.received_at)
            reader = readers.get(t.reader)
            if reader is None or reader.site != t.site:
                if isinstance(body, protocol.Status):
                    log.info("status from unregistered reader %s/%s ignored", t.site, t.reader)
                    return None
                raise protocol.ProtocolError(
                    "unknown_reader",
                    f"reader {t.site}/{t.reader} is not registered: add it with POST /api/v1/readers",
                )
            return _Parsed(msg, t, body, reader)
        except protocol.ProtocolError as err:
            self._dead_letter(db, out, msg, err)
            return None

    def _dead_letter(self, db: Session, out: _Outcome, msg: Incoming, err: protocol.ProtocolError) -> None:
        log.warning("dead-lettered %s: %s: %s", msg.topic[:200], err.reason, err.detail)
        db.add(DeadLetter(topic=msg.topic[:1000], payload=msg.payload[:65536], reason=err.reason,
                          detail=err.detail, received_at=msg.received_at))
        out.dead_letters += 1
        # Ack what names an id on a reader's topic, so its outbox does not resend a refused
        # message forever; the payload is kept here, byte for byte.
        try:
            t = protocol.parse_topic(msg.topic)
            msg_id = json.loads(msg.payload).get("id")
            if t.channel in ("scan", "event") and isinstance(msg_id, str) and _ID.match(msg_id):
                out.acks[(t.site, t.reader)].append(msg_id)
        except (protocol.ProtocolError, ValueError, AttributeError, RecursionError):
            pass
