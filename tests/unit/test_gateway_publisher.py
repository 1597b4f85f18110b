"""The reader's MQTT link hands the gateway only what it may act on."""

from __future__ import annotations

from datetime import datetime

import paho.mqtt.client as mqtt

from gateway import protocol
from gateway.config import BrokerConfig
from gateway.publisher import Publisher

NOW = datetime.fromisoformat("2026-11-27T09:00:00+09:00")


def link() -> tuple[Publisher, list]:
    publisher = Publisher(BrokerConfig(), "nerima", "cabinet-1", version="test",
                          status=lambda: protocol.Status(v=1, online=True))
    seen: list = []
    for channel in ("decision", "ack", "command", "allowlist"):
        setattr(publisher.handlers, channel, seen.append)
    return publisher, seen


def message(channel: str, payload: bytes, *, retain: bool = False) -> mqtt.MQTTMessage:
    msg = mqtt.MQTTMessage(topic=protocol.topic("nerima", "cabinet-1", channel).encode())
    msg.payload = payload
    msg.retain = retain
    return msg


DECISION = protocol.encode(protocol.Decision(v=1, scan="01SCAN00000000000000000001", result="unlock", unlock_s=5,
                                             action="session_open", at=NOW))
COMMAND = protocol.encode(protocol.Command(v=1, id="01CMD000000000000000000001", type="unlock", unlock_s=5,
                                           by="管理 一郎", at=NOW))


def test_a_decision_reaches_the_gateway():
    publisher, seen = link()
    publisher._on_message(None, None, message("decision", DECISION))
    assert [d.scan for d in seen] == ["01SCAN00000000000000000001"]


def test_a_retained_decision_or_command_is_dropped():
    publisher, seen = link()
    publisher._on_message(None, None, message("decision", DECISION, retain=True))
    publisher._on_message(None, None, message("command", COMMAND, retain=True))
    assert seen == []


def test_the_allowlist_is_retained_by_design_and_is_taken():
    publisher, seen = link()
    allowlist = protocol.Allowlist(v=1, salt="00" * 16, hashes=[], until=NOW)
    publisher._on_message(None, None, message("allowlist", protocol.encode(allowlist), retain=True))
    assert seen == [allowlist]


def test_an_unreadable_message_is_ignored():
    publisher, seen = link()
    publisher._on_message(None, None, message("decision", b'{"v":1,"scan":"x"}'))
    publisher._on_message(None, None, message("ack", b"not json"))
    assert seen == []


def test_a_failing_handler_does_not_escape_into_the_network_thread():
    publisher, _ = link()

    def broken(_message):
        raise RuntimeError("bug")

    publisher.handlers.decision = broken
    publisher._on_message(None, None, message("decision", DECISION))  # logged, not raised


def test_a_command_on_another_readers_or_sites_topic_is_dropped():
    publisher, seen = link()
    for topic in (protocol.topic("other-site", "cabinet-1", "command"), protocol.topic("nerima", "cabinet-2", "command"),
                  "anything/at/all/command"):
        msg = mqtt.MQTTMessage(topic=topic.encode())
        msg.payload = COMMAND
        publisher._on_message(None, None, msg)
    assert seen == []
