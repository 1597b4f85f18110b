"""A reader without hardware: speaks the contract over MQTT for the demo, tests and benchmarks.

It keeps every scan and event until an `ack` names it and re-sends what is unacknowledged at
every reconnect and after `resend_after` seconds, as a real reader must (in memory here; the
Raspberry Pi gateway keeps them on disk).
"""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from ulid import ULID

from gateway import protocol
from gateway.net import broker_address, set_nodelay


def new_id() -> str:
    return str(ULID())


class SimulatedReader:
    def __init__(self, url: str, site: str, reader: str, *, resend_after: float = 30.0,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), version: str = "sim-0.1.0",
                 username: str | None = None, password: str | None = None, tls: ssl.SSLContext | None = None):
        self.site, self.reader = site, reader
        self.host, self.port, over_tls = broker_address(url)
        self.clock = clock
        self.resend_after = resend_after
        self.version = version
        self.decisions: dict[str, protocol.Decision] = {}
        self.acked: set[str] = set()
        self._pending: dict[str, tuple[str, bytes, float]] = {}  # id -> (topic, payload, last sent)
        self._sent: dict[str, tuple[str, bytes]] = {}  # everything ever sent, for replay()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._stop = threading.Event()
        self.connected = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"mamori-sim-{site}-{reader}",
                                  clean_session=False, protocol=mqtt.MQTTv311)
        if over_tls:  # with `tls`, the reader's own context (its CA, its client certificate)
            if tls is not None:
                self.client.tls_set_context(tls)
            else:
                self.client.tls_set()
        if username:
            self.client.username_pw_set(username, password)
        self.client.will_set(self._topic("status"), protocol.encode(protocol.LAST_WILL), qos=1, retain=True)
        self.client.reconnect_delay_set(min_delay=0.2, max_delay=2)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_: self.connected.clear()
        self.client.on_message = self._on_message
        self.client.on_socket_open = lambda _c, _u, sock: set_nodelay(sock)
        self._resender = threading.Thread(target=self._resend_loop, daemon=True, name=f"resend-{reader}")

    def _topic(self, channel: str) -> str:
        return protocol.topic(self.site, self.reader, channel)

    # ------------------------------------------------------------ lifecycle

    def start(self, wait: float = 10) -> SimulatedReader:
        self.client.connect_async(self.host, self.port, keepalive=15)
        self.client.loop_start()
        self._resender.start()
        if not self.connected.wait(wait):
            raise TimeoutError(f"reader {self.reader} could not reach the broker at {self.host}:{self.port}")
        return self

    def stop(self) -> None:
        self._stop.set()
        self.client.publish(self._topic("status"), protocol.encode(protocol.LAST_WILL), qos=1, retain=True)
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, _u, _flags, reason_code, _props) -> None:
        if reason_code.is_failure:
            return
        client.subscribe([(self._topic("decision"), 1), (self._topic("ack"), 1), (self._topic("command"), 1)])
        self._publish_status(client)
        self.connected.set()
        self.resend_all()

    def _publish_status(self, client: mqtt.Client) -> None:
        status = protocol.Status(v=1, online=True, at=self.clock(), version=self.version, queued=self.queued)
        client.publish(self._topic("status"), protocol.encode(status), qos=1, retain=True)

    # ------------------------------------------------------------ sending

    @property
    def queued(self) -> int:
        return len(self._pending)

    def tap(self, uid: str, tech: str = "felica", at: datetime | None = None, scan_id: str | None = None,
            auth: dict | None = None) -> str:
        """A card or tag held to the reader (with what it said to prove it is no copy); returns the scan id."""
        scan = protocol.Scan(v=1, id=scan_id or new_id(), uid=uid, tech=tech, at=at or self.clock(), auth=auth)
        self._send(scan.id, self._topic("scan"), protocol.encode(scan))
        return scan.id

    def event(self, type_: str, scan: str | None = None, at: datetime | None = None,
              event_id: str | None = None) -> str:
        ev = protocol.Event(v=1, id=event_id or new_id(), type=type_, at=at or self.clock(), scan=scan)
        self._send(ev.id, self._topic("event"), protocol.encode(ev))
        return ev.id

    def _send(self, msg_id: str, topic: str, payload: bytes) -> None:
        with self._lock:
            self._pending[msg_id] = (topic, payload, time.monotonic())
            self._sent[msg_id] = (topic, payload)
        self.client.publish(topic, payload, qos=1)

    def replay(self, msg_id: str) -> None:
        """Send an already acknowledged scan or event again, as a confused outbox might."""
        topic, payload = self._sent[msg_id]
        self._send(msg_id, topic, payload)

    def resend_all(self) -> None:
        with self._lock:
            items = list(self._pending.items())
            for msg_id, (topic, payload, _sent) in items:
                self._pending[msg_id] = (topic, payload, time.monotonic())
        for _id, (topic, payload, _sent) in items:
            self.client.publish(topic, payload, qos=1)

    def _resend_loop(self) -> None:
        while not self._stop.wait(min(1.0, self.resend_after)):
            now = time.monotonic()
            with self._lock:
                due = [(i, t, p) for i, (t, p, sent) in self._pending.items() if now - sent >= self.resend_after]
                for msg_id, topic, payload in due:
                    self._pending[msg_id] = (topic, payload, now)
            for _id, topic, payload in due:
                self.client.publish(topic, payload, qos=1)

    # ------------------------------------------------------------ receiving

    def _on_message(self, _c, _u, msg: mqtt.MQTTMessage) -> None:
        channel = msg.topic.rsplit("/", 1)[-1]
        try:
            if channel == "decision":
                decision = protocol.decode(msg.payload, protocol.Decision)
                with self._lock:
                    self.decisions[decision.scan] = decision
                    self._changed.notify_all()
            elif channel == "ack":
                ack = protocol.decode(msg.payload, protocol.Ack)
                with self._lock:
                    for msg_id in ack.ids:
                        self._pending.pop(msg_id, None)
                        self.acked.add(msg_id)
                    self._changed.notify_all()
        except protocol.ProtocolError:
            pass  # a reader ignores what it cannot read

    def wait_decision(self, scan_id: str, timeout: float = 5.0) -> protocol.Decision | None:
        with self._lock:
            self._changed.wait_for(lambda: scan_id in self.decisions, timeout)
            return self.decisions.get(scan_id)

    def wait_acked(self, ids: list[str] | str, timeout: float = 10.0) -> bool:
        wanted = {ids} if isinstance(ids, str) else set(ids)
        with self._lock:
            return self._changed.wait_for(lambda: wanted <= self.acked, timeout)
