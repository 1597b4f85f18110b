"""The reader's MQTT link (paho): persistent session, Last Will, status on connect, resubscribe.

It turns the server's messages into calls on the gateway and knows nothing of storage or pins.
Retained decisions and commands are dropped here: a retained unlock would reopen the lock at
every reconnect.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

import paho.mqtt.client as mqtt

from gateway import protocol
from gateway.config import BrokerConfig
from gateway.net import broker_address, set_nodelay, tls_context, why_unreachable

log = logging.getLogger("mamori.gateway.mqtt")

# Drained outboxes publish thousands of messages at once; more in flight keeps the pipe full.
MAX_INFLIGHT = 100


class Handlers:
    """What the gateway does with each kind of server message (set by the gateway)."""

    def __init__(self):
        self.decision: Callable[[protocol.Decision], None] = lambda _d: None
        self.ack: Callable[[protocol.Ack], None] = lambda _a: None
        self.command: Callable[[protocol.Command], None] = lambda _c: None
        self.allowlist: Callable[[protocol.Allowlist], None] = lambda _a: None
        self.connected: Callable[[], None] = lambda: None


class Publisher:
    def __init__(self, config: BrokerConfig, site: str, reader: str, *, version: str,
                 status: Callable[[], protocol.Status]):
        self.site, self.reader = site, reader
        self.status = status
        self.handlers = Handlers()
        self.connected = threading.Event()
        self.host, self.port, tls = broker_address(config.url)
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"mamori-gateway-{site}-{reader}",
                                  clean_session=False, protocol=mqtt.MQTTv311)
        self.tls = tls_context(config.ca_file, config.client_cert, config.client_key) if tls else None
        if self.tls is not None:
            self.client.tls_set_context(self.tls)
        if config.username:
            self.client.username_pw_set(config.username, read_password(config))
        self.client.will_set(self.topic("status"), protocol.encode(protocol.LAST_WILL), qos=1, retain=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.max_inflight_messages_set(MAX_INFLIGHT)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_connect_fail = self._on_connect_fail
        self._told_unreachable = False
        self.client.on_message = self._on_message
        self.client.on_socket_open = lambda _c, _u, sock: set_nodelay(sock)
        self.keepalive = config.keepalive_s
        self.version = version

    def topic(self, channel: str) -> str:
        return protocol.topic(self.site, self.reader, channel)

    def start(self) -> None:
        self.client.connect_async(self.host, self.port, keepalive=self.keepalive)
        self.client.loop_start()

    def stop(self) -> None:
        """Say goodbye the way the Last Will would, then disconnect."""
        try:
            if self.connected.is_set():
                info = self.client.publish(self.topic("status"), protocol.encode(protocol.LAST_WILL), qos=1,
                                           retain=True)
                info.wait_for_publish(2)
        except (RuntimeError, ValueError):
            pass  # the connection is already gone: the broker publishes the Last Will itself
        finally:
            self.client.disconnect()
            self.client.loop_stop()

    def publish(self, channel: str, payload: bytes, *, retain: bool = False) -> mqtt.MQTTMessageInfo | None:
        """A QoS 1 publish, if connected. While offline nothing is handed to paho: the outbox holds
        every scan and event and re-sends them at the reconnect (a publish that races a disconnect
        may still go twice; the server's at-most-once makes that harmless)."""
        if not self.connected.is_set():
            return None
        return self.client.publish(self.topic(channel), payload, qos=1, retain=retain)

    def publish_status(self) -> None:
        self.publish("status", protocol.encode(self.status()), retain=True)

    # ------------------------------------------------------------ paho callbacks (network thread)

    def _on_connect(self, client: mqtt.Client, _u, _flags, reason_code, _props) -> None:
        if reason_code.is_failure:
            log.error("the broker at %s:%s refused the reader: %s (check broker.username and the password file)",
                      self.host, self.port, reason_code)
            return
        log.info("connected to %s:%s", self.host, self.port)
        self._told_unreachable = False
        client.subscribe([(self.topic(channel), 1) for channel in ("decision", "ack", "command", "allowlist")])
        self.connected.set()
        self.publish_status()
        self.handlers.connected()

    def _on_connect_fail(self, _c, _u) -> None:
        self._unreachable()

    def _on_disconnect(self, _c, _u, _flags, reason_code, _props) -> None:
        if self.connected.is_set():
            log.warning("lost the broker (%s); scans stay in the outbox", reason_code)
        else:  # over TLS 1.3 a refused certificate shows only after the handshake, as a closed connection
            self._unreachable(None if self.tls else f"the broker closed the connection: {reason_code}")
        self.connected.clear()

    def _unreachable(self, why: str | None = None) -> None:
        if not self._told_unreachable:  # once per outage: paho retries every few seconds
            self._told_unreachable = True
            why = why or why_unreachable(self.host, self.port, self.tls)
            log.warning("cannot reach the broker at %s:%s (%s); retrying, scans stay in the outbox. Check broker.url, "
                        "the network and, for mqtts://, ca_file, client_cert and client_key", self.host, self.port, why)

    def _on_message(self, _c, _u, msg: mqtt.MQTTMessage) -> None:
        channel = msg.topic.rsplit("/", 1)[-1]
        if channel not in ("decision", "ack", "command", "allowlist") or msg.topic != self.topic(channel):
            # Only this reader's own topics: a persistent session may outlive a change of site or name.
            log.warning("ignored a message on %s: not one of this reader's topics", msg.topic)
            return
        model = protocol.CHANNEL_MODELS[channel]
        if msg.retain and channel in ("decision", "command"):
            log.warning("ignored a retained %s on %s: it could reopen the lock at every reconnect", channel, msg.topic)
            return
        try:
            message = protocol.decode(msg.payload, model)
        except protocol.ProtocolError as exc:
            log.warning("ignored a %s the reader cannot read: %s", channel, exc)
            return
        try:
            getattr(self.handlers, channel)(message)
        except Exception:  # a handler bug must not kill paho's network thread
            log.exception("handling a %s failed", channel)


def read_password(config: BrokerConfig) -> str | None:
    if config.password_file is None:
        return None
    try:
        return config.password_file.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"cannot read broker.password_file {config.password_file}: {exc.strerror}") from None


def local_now() -> datetime:
    """The reader's clock with its own UTC offset (Asia/Tokyo on an office Pi)."""
    return datetime.now().astimezone()
