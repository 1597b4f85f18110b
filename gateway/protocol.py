"""The wire contract, version 1 (../shared/CONTRACT.md): the one module readers and server share.

Strict where the contract is strict (ids, uids, RFC 3339 times with an offset, the 2 KiB cap),
lenient where it says so (unknown fields are ignored). Importing it loads no hardware library.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

VERSION = 1
TOPIC_ROOT = "mamori/v1"
MAX_PAYLOAD_BYTES = 2048
MAX_FUTURE = timedelta(minutes=5)
FRESH_WITHIN = timedelta(seconds=10)
COMMAND_MAX_AGE = timedelta(seconds=10)
OFFLINE_DECISION_WAIT_S = 1.5
DEGRADED_CODES = ("card_reader_unavailable",)  # a status's `degraded`: the card reader fails to open or answer

NAME_PATTERN = r"[a-z0-9][a-z0-9-]{0,31}"
CHANNELS = ("scan", "event", "status", "decision", "ack", "command", "allowlist")
Channel = Literal["scan", "event", "status", "decision", "ack", "command", "allowlist"]

_TOPIC_RE = re.compile(rf"^mamori/v1/({NAME_PATTERN})/({NAME_PATTERN})/([a-z]+)$")
_RFC3339_RE = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


class ProtocolError(ValueError):
    """A payload or topic that breaks the contract; `reason` is a short code for the dead-letter table."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


# ---------------------------------------------------------------- topics


@dataclass(frozen=True, slots=True)
class Topic:
    site: str
    reader: str
    channel: str

    def __str__(self) -> str:
        return topic(self.site, self.reader, self.channel)


def topic(site: str, reader: str, channel: str) -> str:
    """Build `mamori/v1/<site>/<reader>/<channel>`, refusing names the contract does not allow."""
    for label, name in (("site", site), ("reader", reader)):
        if not re.fullmatch(NAME_PATTERN, name):
            raise ProtocolError("bad_topic", f"{label} {name!r} must match {NAME_PATTERN}")
    if channel not in CHANNELS:
        raise ProtocolError("bad_topic", f"unknown channel {channel!r}")
    return f"{TOPIC_ROOT}/{site}/{reader}/{channel}"


def parse_topic(name: str) -> Topic:
    """Split a topic into site, reader and channel; `ProtocolError("bad_topic")` if it is not one of ours."""
    m = _TOPIC_RE.fullmatch(name)
    if not m or m.group(3) not in CHANNELS:
        raise ProtocolError("bad_topic", f"topic {name!r} is not mamori/v1/<site>/<reader>/<channel>")
    return Topic(m.group(1), m.group(2), m.group(3))


def subscription(channel: str, site: str = "+") -> str:
    """Wildcard subscription for one channel of every reader (of one site, or of all)."""
    return f"{TOPIC_ROOT}/{site}/+/{channel}"


# ---------------------------------------------------------------- field types


def _rfc3339(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("time must carry a UTC offset")
        return value
    if not isinstance(value, str) or not _RFC3339_RE.match(value):
        raise ValueError("must be an RFC 3339 time with an offset, e.g. 2026-11-27T09:00:00.123+09:00")
    return parse_time(value)


def parse_time(text: str) -> datetime:
    """An RFC 3339 time with an offset, between the years 2000 and 9000."""
    text = text.replace("z", "Z")
    frac = re.search(r"\.(\d+)", text)
    if frac and len(frac.group(1)) > 6:  # Python keeps microseconds; trim nanoseconds
        text = text.replace(frac.group(0), "." + frac.group(1)[:6])
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("time must carry a UTC offset")
    # A reader whose clock says 0001 or 9999 would break time arithmetic downstream.
    if not 2000 <= value.year <= 9000:
        raise ValueError(f"year {value.year} is not a plausible reader clock")
    return value


def _format_time(value: datetime) -> str:
    return value.isoformat(timespec="milliseconds")


Timestamp = Annotated[datetime, BeforeValidator(_rfc3339), PlainSerializer(_format_time, return_type=str)]
MESSAGE_ID_PATTERN = r"^[A-Za-z0-9-]{8,64}$"
MessageId = Annotated[StrictStr, Field(pattern=MESSAGE_ID_PATTERN)]
HexSalt = Annotated[StrictStr, Field(pattern=r"^[0-9a-fA-F]{16,128}$")]
HexDigest = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{64}$")]
KeyId = Annotated[StrictStr, Field(pattern=r"^[0-9a-f]{16}$")]


def _upper_uid(value: Any) -> Any:
    # Only ASCII: str.upper() would turn a ligature such as "ﬀ" into valid-looking hex.
    return value.upper() if isinstance(value, str) and value.isascii() else value


Uid = Annotated[StrictStr, BeforeValidator(_upper_uid), Field(pattern=r"^[0-9A-F]{8,20}$")]

def _exact_int(value: Any) -> Any:
    # JSON true and 1.0 compare equal to 1 in Python; the contract's version is the integer 1.
    if type(value) is not int:
        raise ValueError("v must be the integer 1")
    return value


Tech = Literal["felica", "iso14443a", "iso14443b", "iso15693", "em4100"]
EventType = Literal["door_open", "door_closed", "tamper", "exit_button", "offline_unlock"]
Result = Literal["unlock", "accept", "deny"]
Action = Literal["session_open", "checkout", "return", "entry", "exit", "stocktake"]
DenyReason = Literal[
    "unknown_card",
    "inactive",
    "not_key_holder",
    "training_expired",
    "visitor_not_registered",
    "no_session",
    "unknown_tag",
    "item_not_loanable",
    "not_encrypted",
    "wrong_cabinet",
    # Additions (docs/protocol.md): the cabinet's grants (server/domain/grants.py). A reader treats them like any deny.
    "no_grant",
    "outside_hours",
    # Addition (docs/card-auth.md): a tap whose card proof failed, or was missing where one is required.
    "clone_suspected",
]


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    v: Annotated[Literal[1], BeforeValidator(_exact_int)] = Field(description="contract version")


# ---------------------------------------------------------------- reader → server


class NtagSun(BaseModel):
    """An NTAG 424 DNA's Secure Unique NFC message, as its NDEF URL mirrors it (`e=`, `c=`)."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    kind: Literal["ntag424_sun"]
    e: Annotated[StrictStr, Field(pattern=r"^[0-9A-Fa-f]{32}$")]  # encrypted PICCData: UID and read counter
    c: Annotated[StrictStr, Field(pattern=r"^[0-9A-Fa-f]{16}$")]  # SDMMAC


class FelicaMac(BaseModel):
    """A FeliCa Lite-S read with MAC: the challenge the reader wrote, the ID block and the card's MAC."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    kind: Literal["felica_lite_s_mac"]
    rc: Annotated[StrictStr, Field(pattern=r"^[0-9A-Fa-f]{32}$")]  # the RC block as written
    id: Annotated[StrictStr, Field(pattern=r"^[0-9A-Fa-f]{32}$")]  # the ID block as read
    mac: Annotated[StrictStr, Field(pattern=r"^[0-9A-Fa-f]{16}$")]  # the MAC block's first 8 bytes


CardAuth = Annotated[NtagSun | FelicaMac, Field(discriminator="kind")]


class Scan(_Message):
    """A card or tag seen by a reader."""

    id: MessageId
    uid: Uid
    tech: Tech
    at: Timestamp
    # An addition (optional; docs/protocol.md): what the tag said to prove it is not a copy.
    auth: CardAuth | None = None


class Event(_Message):
    """A door, tamper, exit-button or offline-unlock event."""

    id: MessageId
    type: EventType
    at: Timestamp
    scan: MessageId | None = None

    @model_validator(mode="after")
    def _offline_unlock_names_its_scan(self) -> Event:
        if self.type == "offline_unlock" and self.scan is None:
            raise ValueError("an offline_unlock event must name the scan it opened for")
        return self


class Status(_Message):
    """Retained reader status; with `online: false` also the reader's Last Will."""

    online: StrictBool
    at: Timestamp | None = None
    version: Annotated[StrictStr, Field(max_length=64)] | None = None
    queued: Annotated[StrictInt, Field(ge=0, le=2**31 - 1)] | None = None
    # Optional (contract v1 extended): what does not work on a reader that is online, e.g.
    # ["card_reader_unavailable"]; [] or absent: all well. Codes the server does not know are shown as such.
    degraded: Annotated[list[Annotated[StrictStr, Field(pattern=r"^[a-z][a-z_]{0,39}$")]], Field(max_length=8)] \
        | None = None


# ---------------------------------------------------------------- server → reader


class Decision(_Message):
    """What a reader should show and do for one fresh scan."""

    scan: MessageId
    result: Result
    unlock_s: Annotated[StrictInt, Field(ge=1, le=60)] | None = None
    action: Action | None = None
    reason: DenyReason | None = None
    at: Timestamp

    @model_validator(mode="after")
    def _consistent(self) -> Decision:
        if self.result == "deny":
            if self.reason is None or self.action is not None:
                raise ValueError("a deny carries a reason and no action")
        elif self.action is None or self.reason is not None:
            raise ValueError("unlock and accept carry an action and no reason")
        if self.result == "unlock" and self.unlock_s is None:
            raise ValueError("an unlock says for how many seconds (unlock_s)")
        return self


class Ack(_Message):
    """The scan and event ids the server has committed."""

    ids: list[MessageId] = Field(min_length=1)


class Command(_Message):
    """A remote unlock from the web page; never retained."""

    id: MessageId
    type: Literal["unlock"]
    unlock_s: Annotated[StrictInt, Field(ge=1, le=60)]
    by: StrictStr
    at: Timestamp


WEEK_SLOT = r"^[1-7] ([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$"
ONE_OFF = r"^\d{4}-\d{2}-\d{2} ([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d$"


class Hours(BaseModel):
    """When the cards at `cards` (indexes into the list's `hashes`) may open, in office time.

    `week`: "D HH:MM-HH:MM" with D 1 = Monday … 7 = Sunday; `closed`: the days (YYYY-MM-DD) within
    the list's life when the week's hours do not apply (holidays, 年末年始, the office's own);
    `extra`: one-off openings "YYYY-MM-DD HH:MM-HH:MM", which apply on closed days too.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    cards: list[Annotated[StrictInt, Field(ge=0)]]
    week: list[Annotated[StrictStr, Field(pattern=WEEK_SLOT)]] = []
    closed: list[Annotated[StrictStr, Field(pattern=r"^\d{4}-\d{2}-\d{2}$")]] = []
    extra: list[Annotated[StrictStr, Field(pattern=ONE_OFF)]] = []

    def admits(self, local: datetime) -> bool:
        """Whether `local` (the office's wall-clock time) falls in these hours."""
        day, moment = local.date().isoformat(), local.strftime("%H:%M")
        if any(e[:10] == day and e[11:16] <= moment < e[17:] for e in self.extra):
            return True
        weekday = str(local.isoweekday())
        return day not in self.closed and any(w[0] == weekday and w[2:7] <= moment < w[8:] for w in self.week)


class Allowlist(_Message):
    """The card hashes allowed to open one cabinet while the server does not answer."""

    salt: HexSalt
    hashes: list[HexDigest]
    until: Timestamp
    # An addition to the contract (optional; docs/protocol.md): when the server made this list, so a
    # reader can refuse an older list that a broker restored from an old save.
    issued: Timestamp | None = None
    # An addition (optional): the hashes are keyed with the cabinet's own secret key, given to the reader
    # out of band and never published; this names the key (`allowlist_key_id`), not the key itself.
    key_id: KeyId | None = None
    # An addition (optional): the hours of the cards whose grants have hours, in the office's time zone
    # `zone` (IANA name; Asia/Tokyo if absent). A card in no `hours` entry opens at any time, as a list
    # without the field means for every card.
    hours: list[Hours] | None = None
    zone: Annotated[StrictStr, Field(max_length=64)] | None = None

    def hours_admit(self, index: int, now: datetime, default_zone: str = "Asia/Tokyo") -> bool:
        """Whether the card at `hashes[index]` may open at `now` by the list's hours."""
        theirs = [h for h in self.hours or () if index in h.cards]
        if not theirs:
            return True
        local = now.astimezone(ZoneInfo(self.zone or default_zone))
        return any(h.admits(local) for h in theirs)


def pack_acks(ids: list[str]) -> list[Ack]:
    """As few acks as carry `ids` (duplicates dropped, order kept), each within the 2 KiB cap."""
    acks, chunk, size = [], [], len(b'{"v":1,"ids":[]}')
    for msg_id in dict.fromkeys(ids):
        cost = len(msg_id) + 3  # quotes and a comma
        if chunk and size + cost > MAX_PAYLOAD_BYTES:
            acks.append(Ack(v=1, ids=chunk))
            chunk, size = [], len(b'{"v":1,"ids":[]}')
        chunk.append(msg_id)
        size += cost
    if chunk:
        acks.append(Ack(v=1, ids=chunk))
    return acks


def allowlist_hash(salt_hex: str, uid: str, key: bytes | None = None) -> str:
    """One allowlist hash of a card. Keyed (a list with `key_id`): HMAC-SHA256(key = the cabinet's key,
    msg = salt bytes + upper-case hex uid). Unkeyed (version 1 as first published): HMAC-SHA256(key = salt,
    msg = uid), which anyone holding the list can brute-force for 4-byte uids."""
    uid_bytes = uid.upper().encode("ascii")
    if key is None:
        return hmac.new(bytes.fromhex(salt_hex), uid_bytes, hashlib.sha256).hexdigest()
    return hmac.new(key, bytes.fromhex(salt_hex) + uid_bytes, hashlib.sha256).hexdigest()


def allowlist_key_id(key: bytes) -> str:
    """A name for a cabinet key that tells reader and server whether they hold the same one."""
    return hashlib.sha256(b"mamori allowlist key id\0" + key).hexdigest()[:16]


# ---------------------------------------------------------------- encoding


CHANNEL_MODELS: dict[str, type[_Message]] = {
    "scan": Scan,
    "event": Event,
    "status": Status,
    "decision": Decision,
    "ack": Ack,
    "command": Command,
    "allowlist": Allowlist,
}

M = TypeVar("M", bound=_Message)


def decode(payload: bytes, model: type[M]) -> M:
    """Parse one payload into `model`, or raise `ProtocolError` with a reason a person can act on."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise ProtocolError("too_large", f"{len(payload)} bytes; payloads are at most {MAX_PAYLOAD_BYTES}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError("not_utf8", f"payload is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ProtocolError("invalid_json", str(exc)[:200]) from None
    if not isinstance(data, dict):
        raise ProtocolError("invalid_json", f"payload must be a JSON object, not {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ProtocolError("invalid_payload", _describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors(include_url=False)[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "payload"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)[:500]


def encode(message: _Message) -> bytes:
    """Serialise a message as compact UTF-8 JSON (the Last Will drops absent optional fields)."""
    exclude_none = isinstance(message, Status | Scan)  # a scan without `auth` is as version 1 first sent it
    # An allowlist's optional hours cost nothing when absent: the bytes are the cards'.
    # Asked of an allowlist only: a missing attribute of a pydantic model costs an exception, and every
    # decision the server sends comes through here.
    absent = ({name for name in ("hours", "zone") if getattr(message, name) is None}
              if isinstance(message, Allowlist) else None)
    return message.model_dump_json(exclude_none=exclude_none, exclude=absent or None).encode("utf-8")


def check_not_future(at: datetime, now: datetime) -> None:
    """Refuse a time more than five minutes ahead of `now` (a reader with a wrong clock)."""
    if at - now > MAX_FUTURE:
        raise ProtocolError("future_time", f"at {at.isoformat()} is more than 5 minutes ahead of the server's clock")


def is_fresh(at: datetime, now: datetime) -> bool:
    """A scan earns a decision only when its time is within 10 s of the server's clock."""
    return abs(now - at) <= FRESH_WITHIN


LAST_WILL = Status(v=1, online=False)
