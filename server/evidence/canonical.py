"""The canonical bytes of an evidence row and of a chain link, and the link's hash (no I/O).

Canonical JSON: keys sorted, no spaces, UTF-8 (not escaped), times as UTC ISO-8601 with
microseconds and a `Z`, dates as ISO dates, bytes as hex, decimals as strings; floats are
refused (their text is not one thing). The same row read from SQLite or PostgreSQL gives the
same bytes. docs/evidence.md describes it for an auditor who re-checks it with other tools.
"""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time
from decimal import Decimal
from json.encoder import encode_basestring as _quote  # the escaping JSONEncoder(ensure_ascii=False) uses

GENESIS = "0" * 64  # the "previous hash" of the first link


def plain(value: object) -> object:
    """A column's value as the JSON the chain hashes."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("a naive datetime has no canonical form; store aware UTC times")
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, float):
        raise ValueError("floats have no canonical form in the chain; store integers or decimals")
    raise TypeError(f"no canonical form for {type(value).__name__}")


_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)  # built once: it is per row


def dumps(value: object) -> bytes:
    return _JSON.encode(value).encode("utf-8")


def value_bytes(value: object) -> bytes:
    """`dumps(plain(value))`, the common kinds without the encoder's detour: every column of every
    row a commit chains comes through here (it was half the ingest's time in a burst)."""
    if value is None:
        return b"null"
    if value is True:
        return b"true"
    if value is False:
        return b"false"
    kind = type(value)
    if kind is str:
        return _quote(value).encode("utf-8")
    if kind is int:
        return int.__repr__(value).encode("ascii")
    if kind is datetime:
        if value.tzinfo is UTC:  # as the database hands times back (server/db.py): no conversion
            return b'"' + value.isoformat(timespec="microseconds")[:-6].encode("ascii") + b'Z"'
        return _quote(plain(value)).encode("ascii")
    return dumps(plain(value))


_NAMES: dict[str, bytes] = {}  # a column name's bytes with its colon: a few dozen names, used per row


def _name(name: str) -> bytes:
    found = _NAMES.get(name)
    if found is None:
        found = _NAMES[name] = dumps(name) + b":"
    return found


def _columns(row: Mapping[str, object]) -> list[tuple[str, bytes]]:
    """Each column's canonical value, in column-name order."""
    return [(name, value_bytes(row[name])) for name in sorted(row)]


def _joined(columns: list[tuple[str, bytes]]) -> bytes:
    """The same bytes as `dumps` of the whole row, from its columns' bytes."""
    return b"{" + b",".join(_name(name) + value for name, value in columns) + b"}"


def row_bytes(row: Mapping[str, object]) -> bytes:
    """The canonical bytes of a row: every chained column by name."""
    return _joined(_columns(row))


def row_digest(row: Mapping[str, object]) -> str:
    return hashlib.sha256(row_bytes(row)).hexdigest()


def _sums(columns: list[tuple[str, bytes]]) -> str:
    return _packed_sums([value for _name, value in columns])


def _packed_sums(encoded: list[bytes]) -> str:
    # Each column's 4 hex digits: the low 16 bits of its CRC-32, big-endian.
    return struct.pack(f">{len(encoded)}H", *[zlib.crc32(value) & 0xFFFF for value in encoded]).hex()


def column_sums(row: Mapping[str, object]) -> str:
    """A 4-hex checksum per column, in column-name order: not proof (the digest is), only a way to
    say which column of a changed row differs."""
    return _sums(_columns(row))


def digest_and_sums(row: Mapping[str, object]) -> tuple[str, str]:
    """`row_digest` and `column_sums` at the cost of one."""
    names = sorted(row)
    return values_digest_and_sums(name_prefixes(names), [row[name] for name in names])


def name_prefixes(names: Iterable[str]) -> list[bytes]:
    """Each column name's bytes and colon, for `values_digest_and_sums` (the names in sorted order)."""
    return [_name(name) for name in names]


def values_digest_and_sums(prefixes: list[bytes], values: Sequence[object]) -> tuple[str, str]:
    """`digest_and_sums` of a row given as its values in column-name order: the chain's way, which
    reads many rows of one kind and so sorts and encodes their column names once."""
    encoded = [value_bytes(value) for value in values]
    joined = b"{" + b",".join([prefix + value for prefix, value in zip(prefixes, encoded, strict=True)]) + b"}"
    return hashlib.sha256(joined).hexdigest(), _packed_sums(encoded)


def differing_columns(row: Mapping[str, object], sums: str) -> list[str]:
    """The columns of `row` whose checksum is not the chained one."""
    now = column_sums(row)
    names = sorted(row)
    if len(now) != len(sums):
        return names
    return [name for i, name in enumerate(names) if now[4 * i:4 * i + 4] != sums[4 * i:4 * i + 4]]


def time_bytes(at: datetime) -> bytes:
    """A link's time as its canonical JSON string: computed once for all the links of a commit."""
    return value_bytes(at)


def _link_bytes(seq: int, stamp: bytes, kind: str, row_id: str, op: str, digest: str) -> bytes:
    # `dumps` of the fact's dict, its keys already in order: the chain builds one per row it links.
    return (b'{"at":' + stamp + b',"digest":' + _quote(digest).encode("utf-8") + b',"id":'
            + _quote(row_id).encode("utf-8") + b',"kind":' + _quote(kind).encode("utf-8") + b',"op":'
            + _quote(op).encode("utf-8") + b',"seq":' + int.__repr__(seq).encode("ascii") + b"}")


def link_bytes(seq: int, at: datetime, kind: str, row_id: str, op: str, digest: str) -> bytes:
    """The canonical bytes of one link (the fact); the per-column checksums are not part of it."""
    return _link_bytes(seq, time_bytes(at), kind, row_id, op, digest)


def link_hash(previous: str, seq: int, at: datetime, kind: str, row_id: str, op: str, digest: str) -> str:
    """hash = SHA-256(previous hash (32 bytes) ‖ canonical bytes of the fact), in hex."""
    return stamped_link_hash(previous, seq, time_bytes(at), kind, row_id, op, digest)


def stamped_link_hash(previous: str, seq: int, stamp: bytes, kind: str, row_id: str, op: str, digest: str) -> str:
    """`link_hash` with the time already as `time_bytes`."""
    return hashlib.sha256(bytes.fromhex(previous) + _link_bytes(seq, stamp, kind, row_id, op, digest)).hexdigest()
