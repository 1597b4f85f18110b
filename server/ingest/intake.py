"""From raw MQTT message to a parsed reader message, or to a dead letter with its reason."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from gateway import protocol
from server.ingest.directory import ReaderInfo
from server.ledger.models import DeadLetter

log = logging.getLogger("mamori.ingest")

_ID = re.compile(protocol.MESSAGE_ID_PATTERN.strip("^$"))  # used with fullmatch: "$" would allow a "\n"
_MODELS = {"scan": protocol.Scan, "event": protocol.Event, "status": protocol.Status}
_PEEK_LIMIT = 64 * 1024  # never parse a huge refused payload just to find its id


@dataclass(slots=True)
class Incoming:
    """One MQTT message as it arrived."""

    topic: str
    payload: bytes
    received_at: datetime
    mid: int = 0
    qos: int = 0
    connection: int = 0  # which broker connection delivered it: a PUBACK goes back on that one only
    retained: bool = False


@dataclass(slots=True)
class Parsed:
    msg: Incoming
    topic: protocol.Topic
    body: protocol.Scan | protocol.Event | protocol.Status
    reader: ReaderInfo


def reader_names(batch: list[Incoming]) -> set[str]:
    return {parts[3] for msg in batch if len(parts := msg.topic.split("/")) == 5}


def parse(msg: Incoming, readers: dict[str, ReaderInfo]) -> Parsed | None:
    """The message as the contract reads it; None for a status of an unregistered reader.

    Raises `protocol.ProtocolError` for anything to dead-letter.
    """
    t = protocol.parse_topic(msg.topic)
    body = protocol.decode(msg.payload, _MODELS[t.channel])
    if isinstance(body, protocol.Scan | protocol.Event):
        protocol.check_not_future(body.at, msg.received_at)
    reader = readers.get(t.reader)
    if reader is None or reader.site != t.site:
        if isinstance(body, protocol.Status):
            log.info("status from unregistered reader %s/%s ignored", t.site, t.reader)
            return None
        raise protocol.ProtocolError(
            "unknown_reader", f"reader {t.site}/{t.reader} is not registered: add it with POST /api/v1/readers")
    return Parsed(msg, t, body, reader)


def source_of(topic: str) -> str:
    """Who sent it, as far as the topic says: `mamori/v1/<site>/<reader>` (the broker's ACL ties it to
    the reader's login), or the start of a topic that is not ours."""
    return "/".join(topic.split("/")[:4])[:200]


def dead_letter(db: Session, msg: Incoming, reason: str, detail: str) -> DeadLetter:
    log.warning("dead-lettered %s: %s: %s", msg.topic[:200], reason, detail)
    row = DeadLetter(topic=msg.topic[:1000], payload=msg.payload[:65536], reason=reason, detail=detail,
                     received_at=msg.received_at, last_received_at=msg.received_at, source=source_of(msg.topic),
                     count=1)
    db.add(row)
    return row


def refused_id(msg: Incoming) -> tuple[tuple[str, str], str] | None:
    """The reader and id a refused scan or event names, if it names one: acking it stops the
    reader re-sending a message that can never be accepted (its bytes are kept as a dead letter)."""
    if len(msg.payload) > _PEEK_LIMIT:
        return None
    try:
        t = protocol.parse_topic(msg.topic)
        msg_id = json.loads(msg.payload).get("id")
    except (protocol.ProtocolError, ValueError, AttributeError, RecursionError):
        return None
    if t.channel in ("scan", "event") and isinstance(msg_id, str) and _ID.fullmatch(msg_id):
        return (t.site, t.reader), msg_id
    return None


def event_time(msg: Incoming) -> datetime:
    """The `at` a message claims, for ordering; its arrival time when it has none that parses."""
    if len(msg.payload) <= protocol.MAX_PAYLOAD_BYTES:
        try:
            return protocol.parse_time(json.loads(msg.payload)["at"])
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            pass
    return msg.received_at
