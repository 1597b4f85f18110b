"""The broker's password file and ACL as `mamori ca init` / `mamori readers provision` write them, on a real Mosquitto.

Every reader speaks only for itself and hears only what is addressed to it; only mamori-server
speaks for the server; nobody gets in without a password (the `$7$` entries mamori writes itself are
what Mosquitto checks here; the certificate listener is tried in tests/integration/gateway/test_tls.py).

Mosquitto drops a denied PUBLISH silently for MQTT 3.1.1 clients (it still sends PUBACK) and
grants a SUBSCRIBE to a denied topic (the ACL is applied at delivery), so "denied" is shown as
"not delivered": each test first proves that a permitted message sent *after* the forbidden one
arrives (a barrier), then waits GRACE longer for the forbidden one.
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from server.provision.broker import SERVER_ACCOUNT, Account, BrokerFolder, password_entry
from tests.support.broker import Mosquitto

pytestmark = pytest.mark.integration

PASSWORDS = {"entrance": "entrance-secret", "cabinet-1": "cabinet-1-secret", "mamori-server": "server-secret"}
SITE = "nerima"
GRACE = 0.5  # after the barrier has arrived, how long a forbidden message gets to show up anyway


def topic(reader: str, channel: str) -> str:
    return f"mamori/v1/{SITE}/{reader}/{channel}"


def write_broker_files(folder: Path) -> BrokerFolder:
    """passwd and acl for the server and two readers, as provisioning writes them."""
    broker = BrokerFolder(folder)
    for user, password in PASSWORDS.items():
        kind, site = ("server", None) if user == SERVER_ACCOUNT else ("reader", SITE)
        broker.put(Account(user, kind, site, password_entry(password)))
    return broker


class Peer:
    """One MQTT client that records everything it receives."""

    def __init__(self, port: int, username: str | None, *, password: str | None = None,
                 protocol: int = mqtt.MQTTv311, client_id: str | None = None, clean_session: bool = True,
                 will: tuple[str, bytes] | None = None):
        self.seen: list[tuple[str, bytes]] = []
        self._changed = threading.Condition()
        self.connack = threading.Event()
        self.reason: mqtt.ReasonCode | None = None
        self.session_present: bool | None = None
        self._subacks: dict[int, list] = {}
        self.pubacks: dict[int, mqtt.ReasonCode] = {}
        kwargs = {} if protocol == mqtt.MQTTv5 else {"clean_session": clean_session}
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                                  client_id=client_id or f"acl-test-{uuid.uuid4().hex[:8]}",
                                  protocol=protocol, **kwargs)
        if username is not None:
            self.client.username_pw_set(username, PASSWORDS[username] if password is None else password)
        if will:
            self.client.will_set(will[0], will[1], qos=1, retain=False)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        self.client.on_publish = self._on_publish
        self.client.connect("127.0.0.1", port, keepalive=10)
        self.client.loop_start()
        if not self.connack.wait(5):
            raise AssertionError(f"no CONNACK for {username!r}")

    def _on_connect(self, _c, _u, flags, reason_code, _p) -> None:
        self.reason, self.session_present = reason_code, flags.session_present
        if reason_code.is_failure:
            self.client.disconnect()  # no automatic reconnect attempts
        self.connack.set()

    def _on_message(self, _c, _u, msg: mqtt.MQTTMessage) -> None:
        with self._changed:
            self.seen.append((msg.topic, msg.payload))
            self._changed.notify_all()

    def _on_subscribe(self, _c, _u, mid, reason_codes, _p) -> None:
        with self._changed:
            self._subacks[mid] = reason_codes
            self._changed.notify_all()

    def _on_publish(self, _c, _u, mid, reason_code, _p) -> None:
        with self._changed:
            self.pubacks[mid] = reason_code
            self._changed.notify_all()

    def puback(self, info: mqtt.MQTTMessageInfo) -> mqtt.ReasonCode:
        with self._changed:
            if not self._changed.wait_for(lambda: info.mid in self.pubacks, 5):
                raise AssertionError(f"no PUBACK for mid {info.mid}")
            return self.pubacks[info.mid]

    @property
    def accepted(self) -> bool:
        return self.reason is not None and not self.reason.is_failure

    def subscribe(self, *topics: str) -> None:
        _rc, mid = self.client.subscribe([(t, 1) for t in topics])
        with self._changed:
            if not self._changed.wait_for(lambda: mid in self._subacks, 5):
                raise AssertionError(f"no SUBACK for {topics}")

    def publish(self, topic_: str, payload: bytes, *, retain: bool = False) -> mqtt.MQTTMessageInfo:
        info = self.client.publish(topic_, payload, qos=1, retain=retain)
        info.wait_for_publish(5)
        return info

    def wait_for(self, topic_: str, payload: bytes, timeout: float = 5) -> None:
        with self._changed:
            if not self._changed.wait_for(lambda: (topic_, payload) in self.seen, timeout):
                raise AssertionError(f"{payload!r} on {topic_} never arrived; saw {self.seen}")

    def payloads(self) -> list[bytes]:
        with self._changed:
            return [p for _t, p in self.seen]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(scope="module")
def acl_broker(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("acl-broker")
    files = write_broker_files(workdir / "files").folder
    # The security lines of deploy/mosquitto/mamori.conf, on a plain listener. Later lines win in Mosquitto 2.0.11:
    # "allow_anonymous false" overrides the class's "allow_anonymous true" (and
    # use_username_as_clientid refuses clients without a user name as well).
    broker = Mosquitto(workdir / "broker", persistence=False, extra_config="\n".join([
        "allow_anonymous false",
        f"password_file {files / 'passwd'}",
        f"acl_file {files / 'acl'}",
        "use_username_as_clientid true",
    ]))  # the class already stays root ("user root")
    broker.start()
    yield broker
    broker.kill()


@pytest.fixture
def connect(acl_broker):
    peers: list[Peer] = []

    def _connect(username: str | None, **kwargs) -> Peer:
        peer = Peer(acl_broker.port, username, **kwargs)
        peers.append(peer)
        if username is None or kwargs.get("password") is not None:
            return peer  # the caller checks the refusal
        assert peer.accepted, f"{username} was refused: {peer.reason}"
        return peer

    yield _connect
    for peer in peers:
        peer.close()


def test_anonymous_and_wrong_password_clients_are_refused(connect):
    anonymous = connect(None)
    assert not anonymous.accepted and anonymous.reason == "Not authorized"
    wrong = connect("entrance", password="not-the-password")
    assert not wrong.accepted


def test_reader_scans_events_and_status_on_its_own_topics_reach_the_server(connect):
    server = connect("mamori-server")
    server.subscribe("mamori/v1/+/+/scan", "mamori/v1/+/+/event", "mamori/v1/+/+/status")
    entrance = connect("entrance")
    for channel in ("scan", "event", "status"):
        entrance.publish(topic("entrance", channel), f"entrance {channel}".encode())
    for channel in ("scan", "event", "status"):
        server.wait_for(topic("entrance", channel), f"entrance {channel}".encode())


def test_reader_cannot_publish_scans_events_or_status_as_another_reader(connect):
    server = connect("mamori-server")
    server.subscribe("mamori/v1/+/+/scan", "mamori/v1/+/+/event", "mamori/v1/+/+/status")
    entrance = connect("entrance")
    for channel in ("scan", "event", "status"):
        entrance.publish(topic("cabinet-1", channel), b"forged by entrance")
    entrance.publish(topic("entrance", "scan"), b"barrier")
    server.wait_for(topic("entrance", "scan"), b"barrier")
    time.sleep(GRACE)
    assert b"forged by entrance" not in server.payloads()


def test_reader_hears_its_own_decisions_but_not_another_readers(connect):
    entrance = connect("entrance")
    entrance.subscribe(topic("cabinet-1", "decision"), topic("entrance", "decision"), "mamori/v1/#")
    cabinet = connect("cabinet-1")
    cabinet.subscribe(topic("cabinet-1", "decision"))
    server = connect("mamori-server")
    server.publish(topic("cabinet-1", "decision"), b"for cabinet-1")
    server.publish(topic("entrance", "decision"), b"for entrance")
    cabinet.wait_for(topic("cabinet-1", "decision"), b"for cabinet-1")
    entrance.wait_for(topic("entrance", "decision"), b"for entrance")
    time.sleep(GRACE)
    assert entrance.payloads() == [b"for entrance"]


def test_reader_cannot_read_other_readers_scans(connect):
    server = connect("mamori-server")
    server.subscribe("mamori/v1/+/+/scan")
    entrance = connect("entrance")
    entrance.subscribe("mamori/v1/+/+/scan", "#")
    cabinet = connect("cabinet-1")
    cabinet.publish(topic("cabinet-1", "scan"), b"card uid")
    server.wait_for(topic("cabinet-1", "scan"), b"card uid")
    time.sleep(GRACE)
    assert entrance.seen == []


def test_reader_cannot_spoof_a_server_decision_to_itself(connect):
    entrance = connect("entrance")
    entrance.subscribe(topic("entrance", "decision"))
    entrance.publish(topic("entrance", "decision"), b'{"result": "unlock"} spoofed')
    server = connect("mamori-server")
    server.publish(topic("entrance", "decision"), b"from the server")
    entrance.wait_for(topic("entrance", "decision"), b"from the server")
    time.sleep(GRACE)
    assert entrance.payloads() == [b"from the server"]


def test_denied_publish_is_not_authorized_for_mqtt5_but_silently_acked_for_mqtt311(connect):
    server = connect("mamori-server")
    server.subscribe("mamori/v1/+/+/scan")
    v5 = connect("entrance", protocol=mqtt.MQTTv5)
    assert v5.puback(v5.publish(topic("entrance", "scan"), b"own")) == "Success"
    assert v5.puback(v5.publish(topic("cabinet-1", "scan"), b"forged")) == "Not authorized"
    v5.close()
    # MQTT 3.1.1's PUBACK has no reason code: the forged publish looks delivered, which is why
    # the other tests prove non-delivery instead.
    v311 = connect("entrance")
    assert v311.puback(v311.publish(topic("cabinet-1", "scan"), b"forged")) == "Success"


def test_server_publishes_decisions_acks_commands_and_allowlists_to_readers(connect):
    cabinet = connect("cabinet-1")
    channels = ("decision", "ack", "command", "allowlist")
    cabinet.subscribe(*(topic("cabinet-1", c) for c in channels))
    server = connect("mamori-server")
    for channel in channels:
        server.publish(topic("cabinet-1", channel), f"server {channel}".encode(), retain=channel == "allowlist")
    for channel in channels:
        cabinet.wait_for(topic("cabinet-1", channel), f"server {channel}".encode())
    server.publish(topic("cabinet-1", "allowlist"), b"", retain=True)  # clear the retained allowlist


def crash_with_will(port: int, username: str, will_topic: str, will: bytes) -> None:
    """Connect with a Last Will, then drop the TCP connection without DISCONNECT, like a reader losing power."""
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"acl-test-{uuid.uuid4().hex[:8]}",
                         protocol=mqtt.MQTTv311)
    client.username_pw_set(username, PASSWORDS[username])
    client.will_set(will_topic, will, qos=1, retain=False)
    client.connect("127.0.0.1", port, keepalive=10)
    deadline = time.monotonic() + 5
    while not client.is_connected():
        assert time.monotonic() < deadline, f"{username} could not connect"
        client.loop(0.05)
    client.socket().close()


def test_forged_last_will_for_another_readers_status_is_dropped(connect, acl_broker):
    server = connect("mamori-server")
    server.subscribe("mamori/v1/+/+/status")
    # Mosquitto 2.0.11 accepts the CONNECT with a will on a forbidden topic; the ACL is applied
    # when the broker publishes the will.
    crash_with_will(acl_broker.port, "entrance", topic("cabinet-1", "status"), b"forged offline")
    crash_with_will(acl_broker.port, "entrance", topic("entrance", "status"), b"entrance offline")
    server.wait_for(topic("entrance", "status"), b"entrance offline")
    time.sleep(GRACE)
    assert b"forged offline" not in server.payloads()


def test_reader_cannot_take_over_the_servers_session_with_its_client_id(connect):
    server = connect("mamori-server", client_id="mamori-server", clean_session=False)
    server.subscribe("mamori/v1/+/+/scan")
    server.close()  # the server is down; its session keeps queueing scans for it
    thief = connect("entrance", client_id="mamori-server", clean_session=False)
    assert thief.session_present is False  # use_username_as_clientid: it got its own session
    cabinet = connect("cabinet-1")
    cabinet.publish(topic("cabinet-1", "scan"), b"queued while the server was down")
    thief.close()
    server = connect("mamori-server", client_id="mamori-server", clean_session=False)
    assert server.session_present is True
    server.wait_for(topic("cabinet-1", "scan"), b"queued while the server was down")
