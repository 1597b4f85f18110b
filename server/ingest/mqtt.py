"""The server's connection to the broker (paho-mqtt): persistent session, manual PUBACK."""

from __future__ import annotations

import logging
from collections.abc import Callable

import paho.mqtt.client as mqtt

from gateway import protocol
from gateway.net import broker_address, set_nodelay, tls_context, why_unreachable

log = logging.getLogger("mamori.mqtt")

SUBSCRIBED_CHANNELS = ("scan", "event", "status")


class BrokerLink:
    """Subscribes to every reader's scan, event and status; publishes decisions and acks."""

    def __init__(self, url: str, client_id: str, on_message: Callable[[mqtt.MQTTMessage, int], None], *,
                 username: str | None = None, password: str | None = None, ca_file: str | None = None,
                 client_cert: str | None = None, client_key: str | None = None, clean_start: bool = False,
                 share_group: str | None = None):
        self.host, self.port, tls = broker_address(url)
        self._on_message = on_message
        # Several servers share the readers' messages (docs/scale-out.md). Their sessions are clean: a
        # persistent one would keep receiving its share while its process is dead, until it came back;
        # the readers re-send whatever no process acknowledged.
        self.share_group = share_group
        self.connected = False
        self.connection = 0  # counts connections: packet ids are only meaningful within one
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean_start,
            protocol=mqtt.MQTTv311, manual_ack=True,
        )
        if username:
            self.client.username_pw_set(username, password)
        self.tls = tls_context(ca_file, client_cert, client_key) if tls else None
        if self.tls is not None:
            self.client.tls_set_context(self.tls)
        self._told_unreachable = False
        self.client.on_connect_fail = lambda _c, _u: self._unreachable()
        self.client.reconnect_delay_set(min_delay=1, max_delay=10)
        self.client.max_queued_messages_set(0)
        self.client.on_connect = self._connected
        self.client.on_disconnect = self._disconnected
        self.client.on_message = self._message
        self.client.on_socket_open = lambda _c, _u, sock: set_nodelay(sock)

    def start(self) -> None:
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain)

    def ack(self, mid: int, qos: int, connection: int) -> None:
        """PUBACK a committed message, on the connection that delivered it. After a reconnect the
        broker re-sends what was not acked, and an old packet id may name another message now."""
        if connection == self.connection and self.connected:
            self.client.ack(mid, qos)

    def _connected(self, client: mqtt.Client, _userdata, _flags, reason_code, _props) -> None:
        if reason_code.is_failure:
            log.error("broker %s:%d refused the connection: %s", self.host, self.port, reason_code)
            return
        self.connection += 1
        self.connected = True
        self._told_unreachable = False
        log.info("connected to broker %s:%d", self.host, self.port)
        client.subscribe([(self.filter(ch), 1) for ch in SUBSCRIBED_CHANNELS])

    def filter(self, channel: str) -> str:
        plain = protocol.subscription(channel)
        return f"$share/{self.share_group}/{plain}" if self.share_group else plain

    def _disconnected(self, _client, _userdata, _flags, reason_code, _props) -> None:
        if not self.connected:  # never got in: over TLS 1.3 a refused certificate shows up here
            self._unreachable()
            return
        self.connected = False
        log.warning("disconnected from broker (%s); paho reconnects by itself", reason_code)

    def _unreachable(self) -> None:
        if not self._told_unreachable:  # once per outage: paho retries every few seconds
            self._told_unreachable = True
            log.warning("cannot reach the broker at %s:%d (%s); retrying. Check MAMORI_MQTT_URL and, for mqtts://, "
                      "MAMORI_MQTT_CA_FILE, MAMORI_MQTT_CLIENT_CERT and MAMORI_MQTT_CLIENT_KEY", self.host, self.port,
                      why_unreachable(self.host, self.port, self.tls))

    def _message(self, _client, _userdata, msg: mqtt.MQTTMessage) -> None:
        self._on_message(msg, self.connection)
