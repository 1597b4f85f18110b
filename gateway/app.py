"""One reader: taps to the outbox and the broker, the server's answers to the lock and the lights.

The order of a tap: the scan is on disk (outbox) → published → the reader waits up to
`decision_wait_s` for the server's decision → unlock / accept / deny. With no decision in time,
a cabinet opens only for a card on its unexpired allowlist (and reports `offline_unlock`); an
entrance signals "recorded, no answer".
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime
from importlib.metadata import PackageNotFoundError, version

import paho.mqtt.client as mqtt
from ulid import ULID

from gateway import protocol
from gateway.allowlist import OfflineAllowlist
from gateway.config import GatewayConfig
from gateway.outbox import Outbox, OutboxError
from gateway.outputs import Inputs, Outputs
from gateway.publisher import Publisher, local_now
from gateway.readers import CardReader, ReaderError, Tap, open_reader

log = logging.getLogger("mamori.gateway")

READER_RETRY_S = 5.0
RESEND_PAGE = 500


def _version() -> str:
    try:
        return version("mamori")
    except PackageNotFoundError:
        return "0+unknown"


class _Waiter:
    """One scan waiting for its decision; a newer tap cancels it."""

    def __init__(self, scan: protocol.Scan):
        self.scan = scan
        self.decision: protocol.Decision | None = None
        self.cancelled = False
        self.done = threading.Event()


class Gateway:
    def __init__(self, config: GatewayConfig, *, reader: CardReader | None = None,
                 clock: Callable[[], datetime] = local_now):
        self.config = config
        self.clock = clock
        self.outbox = Outbox(config.outbox.path, owner=f"{config.site}/{config.reader}")
        self.allowlist = OfflineAllowlist(self.outbox, config.offline_key() if config.role == "cabinet" else None)
        if config.role == "cabinet" and not self.allowlist.keyed:
            log.warning("no allowlist_key in the config: this cabinet will not open while the server does not answer")
        self.outputs = Outputs(config)
        self.inputs: Inputs | None = None
        self.reader = reader
        self.publisher = Publisher(config.broker, config.site, config.reader, version=_version(),
                                   status=self._status)
        self._stop = threading.Event()
        self._resend_everything = threading.Event()
        self._status_due = threading.Event()
        h = self.publisher.handlers
        h.decision, h.ack, h.command, h.allowlist = self._on_decision, self._on_ack, self._on_command, \
            self.allowlist.update
        h.connected = self._resend_everything.set
        self._waiter: _Waiter | None = None
        self._waiter_lock = threading.Lock()
        self._taps: queue.Queue[_Waiter] = queue.Queue()
        self._seen_commands: deque[str] = deque(maxlen=256)
        self._threads: list[threading.Thread] = []
        # What the retained status reports as not working (protocol.DEGRADED_CODES); the server alerts on it.
        self.degraded: set[str] = set()

    # ------------------------------------------------------------ lifecycle

    def start(self) -> Gateway:
        log.info("reader %s/%s (%s): %d scans and events waiting in the outbox",
                 self.config.site, self.config.reader, self.config.role, len(self.outbox))
        self.publisher.start()
        self.inputs = Inputs(self.config, self.on_event)
        for target, name in ((self._read_cards, "cards"), (self._answer_taps, "decisions"),
                             (self._resend, "resend"), (self._refresh_status, "status")):
            thread = threading.Thread(target=target, name=f"gateway-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        """Lock first, then let go of everything, each step whatever the others did."""
        self._stop.set()
        closers = [self.outputs.lock_now]
        closers += [lambda t=t: t.join(2) for t in self._threads]
        closers += [self.reader.close] if self.reader is not None else []
        closers += [self.publisher.stop]
        closers += [self.inputs.close] if self.inputs is not None else []
        closers += [self.outputs.close, self.outbox.close]
        for close in closers:
            try:
                close()
            except Exception:
                log.exception("while stopping")

    def run(self, stop: threading.Event) -> None:
        """Run until `stop` is set (the CLI sets it on SIGTERM)."""
        self.start()
        try:
            stop.wait()
        finally:
            self.stop()

    # ------------------------------------------------------------ taps

    def on_tap(self, tap: Tap) -> None:
        """Called by the card reader: keep the scan, send it, and hand it to the decision thread."""
        try:
            scan = protocol.Scan(v=1, id=str(ULID()), uid=tap.uid, tech=tap.tech, at=self.clock(), auth=tap.auth)
        except ValueError:
            log.error("the card reader gave %r (%s), which the contract does not allow: not recorded", tap.uid, tap.tech)
            self.outputs.signal("error")
            return
        if not self._keep(scan.id, "scan", protocol.encode(scan)):
            return
        waiter = _Waiter(scan)
        with self._waiter_lock:  # registered before publishing, so a fast decision is not missed
            if self._waiter is not None:
                self._waiter.cancelled = True
                self._waiter.done.set()
            self._waiter = waiter
        self._send(scan.id, "scan", protocol.encode(scan))
        self._taps.put(waiter)
        log.debug("scan %s kept and sent (%d waiting for the server's ack)", scan.id, len(self.outbox))

    def _answer_taps(self) -> None:
        while not self._stop.is_set():
            try:
                waiter = self._taps.get(timeout=0.2)
            except queue.Empty:
                continue
            waiter.done.wait(self.config.decision_wait_s)
            with self._waiter_lock:
                if self._waiter is waiter:
                    self._waiter = None
            if waiter.cancelled:
                continue  # a newer tap took over; this one keeps its ledger row and nothing else
            try:
                if waiter.decision is not None:
                    self._obey(waiter.decision)
                else:
                    self._decide_alone(waiter.scan)
            except Exception:
                log.exception("answering a tap failed")

    def _on_decision(self, decision: protocol.Decision) -> None:
        with self._waiter_lock:
            waiter = self._waiter
            if waiter is None or waiter.scan.id != decision.scan:
                log.info("ignored a decision for scan %s: not the scan this reader is waiting for", decision.scan)
                return
            if not protocol.is_fresh(decision.at, self.clock()):
                log.warning("ignored a decision made at %s: older than 10 s (check the reader's clock)",
                            decision.at.isoformat())
                return
            waiter.decision = decision
            waiter.done.set()

    def _obey(self, decision: protocol.Decision) -> None:
        if decision.result == "unlock" and decision.unlock_s:
            self.outputs.unlock(decision.unlock_s)
        self.outputs.signal(decision.result)
        if decision.result == "deny":
            log.info("denied: %s", decision.reason)

    def _decide_alone(self, scan: protocol.Scan) -> None:
        if self.config.role != "cabinet":
            self.outputs.signal("offline")
            return
        if self.allowlist.allows(scan.uid, self.clock()):
            if not self.on_event("offline_unlock", scan=scan.id):
                return  # an unlock the ledger could never learn of does not happen
            log.warning("no decision within %s s: opened on the allowlist", self.config.decision_wait_s)
            self.outputs.unlock(self.config.lock.local_unlock_s)
            self.outputs.signal("unlock")
        else:
            log.warning("no decision within %s s and the card is not on a valid allowlist: stays locked",
                        self.config.decision_wait_s)
            self.outputs.signal("deny")

    # ------------------------------------------------------------ events and commands

    def on_event(self, type_: str, scan: str | None = None) -> bool:
        """A door, exit-button, tamper or offline-unlock event; False if it could not be kept."""
        if type_ == "exit_button" and self.outputs.lock is not None:
            self.outputs.unlock(self.config.lock.local_unlock_s)  # a way out opens whatever else fails
        event = protocol.Event(v=1, id=str(ULID()), type=type_, at=self.clock(), scan=scan)
        payload = protocol.encode(event)
        if not self._keep(event.id, "event", payload):
            return False
        self._send(event.id, "event", payload)
        return True

    def _on_command(self, command: protocol.Command) -> None:
        age = self.clock() - command.at
        if abs(age) > protocol.COMMAND_MAX_AGE:
            log.warning("ignored remote unlock %s by %s: sent %.0f s ago (older than 10 s, or the clocks differ)",
                        command.id, command.by, age.total_seconds())
            return
        if command.id in self._seen_commands:
            return  # QoS 1 may deliver twice
        self._seen_commands.append(command.id)
        log.info("remote unlock for %s s by %s", command.unlock_s, command.by)
        self.outputs.unlock(command.unlock_s)
        self.outputs.signal("unlock")

    # ------------------------------------------------------------ outbox and broker

    def _keep(self, msg_id: str, channel: str, payload: bytes) -> bool:
        try:
            self.outbox.put(msg_id, channel, payload)
            return True
        except OutboxError as exc:
            log.error("%s: this %s was NOT recorded", exc, channel)
            self.outputs.signal("error")
            return False

    def _send(self, msg_id: str, channel: str, payload: bytes) -> mqtt.MQTTMessageInfo | None:
        self.outbox.mark_sent([msg_id])
        return self.publisher.publish(channel, payload)

    def _on_ack(self, ack: protocol.Ack) -> None:
        before = len(self.outbox)
        self.outbox.acknowledge(ack.ids)
        if before and not len(self.outbox):
            self._status_due.set()  # the server has everything: say so

    def _resend(self) -> None:
        resend_after = self.config.outbox.resend_after_s
        while not self._stop.wait(min(1.0, resend_after)):
            if not self.publisher.connected.is_set():
                continue
            try:
                if self._resend_everything.is_set():
                    self._resend_everything.clear()
                    self._send_unacknowledged(None)
                elif self.outbox.any_due(resend_after):
                    self._send_unacknowledged(resend_after)
            except Exception:  # a tired SD card's I/O error must not end the re-sending for good
                log.exception("re-sending from the outbox failed; trying again")
                self._resend_everything.set()

    def _send_unacknowledged(self, unless_sent_within: float | None) -> None:
        """Send what waits for an ack, page by page; each page waits for the broker before the next,
        so a backlog of thousands never sits in memory at once."""
        after, sent = 0, 0
        while not self._stop.is_set() and self.publisher.connected.is_set():
            page = self.outbox.page(after=after, limit=RESEND_PAGE)
            if not page:
                break
            after = page[-1].seq
            last = None
            for pending in page:
                if unless_sent_within is None or not self.outbox.sent_within(pending.id, unless_sent_within):
                    last = self._send(pending.id, pending.channel, pending.payload) or last
                    sent += 1
            if last is not None:
                with contextlib.suppress(RuntimeError, ValueError):  # the connection dropped: the next one re-sends
                    last.wait_for_publish(10)
        if sent:
            log.info("re-sent %d unacknowledged scans and events", sent)

    def _status(self) -> protocol.Status:
        return protocol.Status(v=1, online=True, at=self.clock(), version=self.publisher.version,
                               queued=len(self.outbox), degraded=sorted(self.degraded))

    def _card_reader_working(self, working: bool) -> None:
        """Say so in the retained status when the card reader stops or starts working again."""
        code = "card_reader_unavailable"
        if working == (code not in self.degraded):
            return
        if working:
            self.degraded.discard(code)
            log.info("the card reader works again")
        else:
            self.degraded.add(code)
        self._status_due.set()

    def _refresh_status(self) -> None:
        last = time.monotonic()
        while not self._stop.wait(1.0):
            if self._status_due.is_set() or time.monotonic() - last >= self.config.status_interval_s:
                self._status_due.clear()
                self.publisher.publish_status()
                last = time.monotonic()

    # ------------------------------------------------------------ the card reader

    def _read_cards(self) -> None:
        while not self._stop.is_set():
            try:
                if self.reader is None:
                    self.reader = open_reader(self.config.card_reader)
                self.reader.run(self._tap_safely, self._stop, on_ready=lambda: self._card_reader_working(True))
            except ReaderError as exc:
                log.error("%s (retrying in %.0f s)", exc, READER_RETRY_S)
                self._card_reader_working(False)
                self.outputs.signal("error")
                self._stop.wait(READER_RETRY_S)
            except Exception:
                log.exception("the card reader failed (retrying in %.0f s)", READER_RETRY_S)
                self._card_reader_working(False)
                self._stop.wait(READER_RETRY_S)

    def _tap_safely(self, tap: Tap) -> None:
        try:
            self.on_tap(tap)
        except Exception:  # a bad tap must not stop the reader; a scan that was kept is not at risk
            log.exception("handling a tap failed")
