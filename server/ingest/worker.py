"""The ingest loop: MQTT messages in, one unit of work per batch, decisions and acks out.

Messages queue up while a batch commits, and the next batch takes all of them (up to
`batch_max`): one message alone when the office is quiet, hundreds in one commit when readers
replay their outboxes. Decisions and acks leave only after the commit; the broker's PUBACK too,
so a server that dies mid-batch gets the same messages again from its persistent session.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from gateway import protocol
from server.cluster import serialise
from server.db import unit_of_work
from server.ingest import intake
from server.ingest.card_check import CardChecks
from server.ingest.directory import ReaderDirectory
from server.ingest.intake import Incoming, Parsed
from server.ingest.ledger_view import BatchLedger
from server.ingest.refusals import DeadLetterBook, RefusalLimit
from server.ingest.rewind import Replay
from server.ingest.rewind import plan as rewind_plan
from server.ingest.service import Answer, IngestService
from server.ledger.models import DeadLetter
from server.metrics import IngestMetrics
from server.visits.arrivals import tell_hosts

log = logging.getLogger("mamori.ingest")


def _event_order(step: Parsed | Replay) -> tuple[datetime, str]:
    """Event time, then id: the one order every arrival order of the same scans comes back to."""
    return step.body.at, step.body.id


def _touched(parsed: list[Parsed]) -> list[str]:
    """What a batch changes the ledger of: its readers (cabinet sessions, doors, statuses) and the cards
    and tags it scanned (presence, visits, checkouts), whichever reader they were scanned at."""
    names = [f"reader:{p.reader.id}" for p in parsed]
    names += [f"uid:{p.body.uid}" for p in parsed if isinstance(p.body, protocol.Scan)]
    return names


class Link(Protocol):
    """What the worker needs of the broker connection."""

    connected: bool

    def publish(self, topic: str, payload: bytes) -> None: ...

    def ack(self, mid: int, qos: int, connection: int) -> None: ...


@dataclass(slots=True)
class _Outcome:
    committed: bool = True
    answers: list[tuple[str, Answer, datetime]] = field(default_factory=list)  # topic, answer, arrival
    acks: dict[tuple[str, str], list[str]] = field(default_factory=lambda: defaultdict(list))
    scans: list[str] = field(default_factory=list)  # each scan's result, for the metrics
    refused: list[str] = field(default_factory=list)  # each refusal's reason, for the metrics

    def merge(self, other: _Outcome) -> None:
        self.committed = self.committed and other.committed
        self.answers += other.answers
        for key, ids in other.acks.items():
            self.acks[key] += ids
        self.scans += other.scans
        self.refused += other.refused


def _database_away(exc: DBAPIError) -> bool:
    """Errors that say nothing about the message: the database is down, read-only, locked."""
    return not isinstance(exc, IntegrityError | DataError | ProgrammingError)


class IngestWorker:
    """Single consumer thread, so one reader's messages are handled in order."""

    def __init__(self, factory: sessionmaker[Session], service: IngestService, link: Link,
                 clock: Callable[[], datetime], batch_max: int = 500, metrics: IngestMetrics | None = None):
        self.factory = factory
        self.metrics = metrics
        self.service = service
        self.link = link
        self.clock = clock
        self.batch_max = batch_max
        self.directory = ReaderDirectory()
        settings = service.settings
        self.refusals = RefusalLimit(settings.refused_per_reader_per_s, settings.refused_per_reader_burst)
        self.fold = timedelta(seconds=settings.dead_letter_fold_s)
        # Alone, no other process applies scans: the locks would cost a round trip per batch for nothing.
        self.shared = settings.node_id is not None
        self.keeps_dead_letters: Callable[[], bool] = lambda: True
        self._queue: queue.Queue[Incoming | None] = queue.Queue()  # None: stop
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def queue_depth(self) -> int:
        return self._queue.qsize()

    def submit(self, msg: Incoming) -> None:
        self._queue.put(msg)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="mamori-ingest", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._queue.put(None)  # wakes the thread at once rather than at its next poll
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
            if not (batch := [msg for msg in batch if msg is not None]):
                continue
            # Whatever goes wrong, this thread must not die: keep the batch until it is done.
            while not self._stop.is_set():
                try:
                    self.process(batch)
                    break
                except Exception:
                    log.exception("ingest failed on a batch of %d; trying again in 1 s", len(batch))
                    self._stop.wait(1)

    # ------------------------------------------------------------ one batch

    def process(self, batch: list[Incoming]) -> None:
        """Commit a batch, then tell the readers."""
        outcome = self._commit_with_retry(batch)
        if not outcome.committed:
            return  # stopped while the database was away: nothing is acked, the broker keeps it all
        # Committed: from here nothing may raise, or the batch would be taken again.
        latencies: list[float] = []
        try:
            latencies = self._publish_decisions(outcome.answers)
            for (site, reader), ids in outcome.acks.items():
                for ack in protocol.pack_acks(ids):
                    self.link.publish(protocol.topic(site, reader, "ack"), protocol.encode(ack))
        except Exception:
            log.exception("could not tell the readers about a committed batch; they will re-send")
        for msg in batch:
            if msg.qos:
                self.link.ack(msg.mid, msg.qos, msg.connection)
        if self.metrics is not None:
            try:
                self.metrics.batch_done(len(batch), outcome.scans, latencies, outcome.refused)
            except Exception:
                log.exception("could not count a committed batch in the metrics")

    def _publish_decisions(self, answers: list[tuple[str, Answer, datetime]]) -> list[float]:
        """Only while the scan is still fresh: an unlock minutes late would open a door nobody stands at.
        Returns the seconds from each sent decision's scan arriving to its leaving."""
        now = self.clock()
        latencies = []
        for topic_name, answer, arrived in answers:
            if not (self.link.connected and protocol.is_fresh(answer.scan_at, now)):
                log.warning("decision for scan %s not sent: %s", answer.scan_id,
                            "broker not connected" if not self.link.connected else "no longer fresh")
                continue
            decision = answer.decision(now.astimezone(self.service.zone))
            self.link.publish(topic_name, protocol.encode(decision))
            latencies.append((self.clock() - arrived).total_seconds())
        return latencies

    def _commit_with_retry(self, batch: list[Incoming]) -> _Outcome:
        delay = 0.5
        while True:
            try:
                return self._commit(batch)
            except DBAPIError as exc:
                if not _database_away(exc):
                    log.warning("a message of %d broke a database rule (%s); taking them one by one",
                                len(batch), exc.__class__.__name__)
                    return self._one_by_one(batch)
                # The database is away: hold the batch (nothing is acked) until it is back.
                log.error("database unavailable (%s); retrying in %.1f s", exc.__class__.__name__, delay)
            except Exception:
                log.exception("could not process a batch of %d", len(batch))
                return self._one_by_one(batch)
            if self._stop.wait(delay):
                return _Outcome(committed=False)
            delay = min(delay * 2, 10)

    def _one_by_one(self, batch: list[Incoming]) -> _Outcome:
        """Commit each message alone (in event-time order), so only the one that fails is set aside."""
        if len(batch) == 1:
            return self._set_aside(batch[0])
        merged = _Outcome()
        for msg in sorted(batch, key=intake.event_time):
            if self._stop.is_set():
                return _Outcome(committed=False)
            merged.merge(self._commit_with_retry([msg]))
        return merged

    def _set_aside(self, msg: Incoming) -> _Outcome:
        """A valid message the server cannot apply is a server fault, not bad input: keep a copy for
        the manager to see, and do not ack it, so the reader keeps re-sending it until a fixed server
        records it."""
        try:
            with unit_of_work(self.factory) as db:
                seen = db.scalars(select(DeadLetter.id).where(
                    DeadLetter.reason == "processing_error", DeadLetter.topic == msg.topic,
                    DeadLetter.payload == msg.payload)).first()
                if seen is None:
                    intake.dead_letter(db, msg, "processing_error",
                                       "the server could not apply this message; see the server log")
        except Exception:  # not even a copy could be kept: the reader still has it
            log.exception("could not keep a copy of a message the server cannot apply (%s)", msg.topic[:200])
        return _Outcome(refused=["processing_error"])

    def _commit(self, batch: list[Incoming]) -> _Outcome:
        out = _Outcome()
        with unit_of_work(self.factory) as db:
            readers = self.directory.lookup(db.connection(), intake.reader_names(batch))
            letters = DeadLetterBook(db, self.refusals, self.fold) if self.keeps_dead_letters() else None
            parsed: list[Parsed] = []
            for msg in batch:
                try:
                    if (p := intake.parse(msg, readers)) is not None:
                        parsed.append(p)
                except protocol.ProtocolError as err:
                    if letters is not None:
                        letters.refuse(msg, err.reason, err.detail)
                    out.refused.append(err.reason)
                    if (refused := intake.refused_id(msg)) is not None:
                        out.acks[refused[0]].append(refused[1])
            # Other servers may hold the same readers' or cards' messages (docs/scale-out.md): wait for theirs.
            if self.shared:
                serialise(db.connection(), _touched(parsed))
            for p in parsed:
                if isinstance(p.body, protocol.Status):
                    self.service.handle_status(db, p.reader, p.body, p.msg.received_at, retained=p.msg.retained)
            # Scans and events follow their own time, so a replayed burst builds the same ledger.
            timed = sorted((p for p in parsed if not isinstance(p.body, protocol.Status)), key=_event_order)
            if timed:
                self.service.clocks_ahead(db, [(p.reader, p.body.at, p.msg.received_at) for p in timed], self.clock())
                ledger, replays = self._load_ledger(db, timed)
                steps: list[Parsed | Replay] = sorted([*timed, *replays], key=_event_order)
                for step in steps:
                    if isinstance(step, Replay):
                        self._replay(ledger, step)
                    else:
                        self._apply(ledger, out, step)
                ledger.write()
                self.service.doors_explained(ledger, self.clock())
                ledger.card_checks.write(db.connection())
                if ledger.arrivals:
                    tell_hosts(db, self.clock(), self.service.settings, ledger.arrivals)
        return out

    def _load_ledger(self, db: Session, timed: list[Parsed]) -> tuple[BatchLedger, list[Replay]]:
        """The batch's slice of the ledger, and the stored scans and events it must apply again
        because some of the batch landed before them (server/ingest/rewind.py)."""
        known = BatchLedger.known(db, [p.body.id for p in timed if isinstance(p.body, protocol.Scan)],
                                  [p.body.id for p in timed if isinstance(p.body, protocol.Event)])
        known_scans, known_events = known
        new = [(p.reader, p.body) for p in timed
               if p.body.id not in (known_events if isinstance(p.body, protocol.Event) else known_scans)]
        rewind = rewind_plan(db.connection(), new)
        # A repeat of a stored message in the batch changes nothing itself: its replay must still run.
        batch_ids = {body.id for _reader, body in new}
        replays = [r for r in rewind.steps if r.body.id not in batch_ids]
        # The stretch re-derived may hold other cards and tags. Taken after the batch's own, these locks
        # can meet another batch's in a circle: PostgreSQL then fails one, and it is retried like a
        # database that was away.
        if self.shared:
            serialise(db.connection(), [f"uid:{r.body.uid}" for r in replays if isinstance(r.body, protocol.Scan)])
        scans = [(p.body.id, p.reader.id, p.body.uid, p.body.at) for p in (*timed, *replays)
                 if isinstance(p.body, protocol.Scan)]
        cabinets = {p.reader.id for p in timed if p.reader.role == "cabinet"}
        first = min(timed[0].body.at, rewind.since or timed[0].body.at)
        ledger = BatchLedger.load(db, scans, cabinets, first - self.service.duplicate_window, known, rewind,
                                  self.clock())
        ledger.card_checks = CardChecks.load(
            db.connection(), self.service.card_keys,
            [body for _reader, body in new if isinstance(body, protocol.Scan)],
            [r.body.id for r in replays if isinstance(r.body, protocol.Scan)], ledger.cards)
        return ledger, replays

    def _replay(self, ledger: BatchLedger, step: Replay) -> None:
        if isinstance(step.body, protocol.Scan):
            self.service.handle_scan(ledger, step.reader, step.body, step.received_at, replay=step)
        else:
            self.service.handle_event(ledger, step.reader, step.body, step.received_at, replay=step)

    def _apply(self, ledger: BatchLedger, out: _Outcome, p: Parsed) -> None:
        key = (p.topic.site, p.topic.reader)
        if isinstance(p.body, protocol.Scan):
            new = ledger.is_new_scan(p.body.id)
            answer = self.service.handle_scan(ledger, p.reader, p.body, p.msg.received_at)
            if answer is not None:
                out.answers.append((protocol.topic(*key, "decision"), answer, p.msg.received_at))
            out.scans.append(answer.verdict.result if answer is not None else "stale" if new else "repeat")
        else:
            self.service.handle_event(ledger, p.reader, p.body, p.msg.received_at)
        out.acks[key].append(p.body.id)
