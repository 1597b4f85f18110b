"""The chain's canonical form and hash maths, as docs/evidence.md states them."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from server.evidence import canonical
from server.evidence.verify import Anchor

AT = datetime(2026, 12, 3, 0, 5, 6, 7, tzinfo=UTC)


def test_rows_are_sorted_compact_utf8_json_with_utc_microsecond_times():
    row = {"uid": "04A1", "at": AT.astimezone(timezone(timedelta(hours=9))), "fresh": True, "n": 3, "none": None,
           "name": "来所者", "on": date(2026, 12, 3), "blob": b"\x01\xff", "amount": Decimal("1.50"),
           "changes": {"b": [1, AT], "a": "x"}}
    assert canonical.row_bytes(row) == (
        '{"amount":"1.50","at":"2026-12-03T00:05:06.000007Z","blob":"01ff","changes":{"a":"x","b":[1,'
        '"2026-12-03T00:05:06.000007Z"]},"fresh":true,"n":3,"name":"来所者","none":null,"on":"2026-12-03",'
        '"uid":"04A1"}').encode("utf-8")
    assert canonical.row_bytes(row) == json.dumps(  # the same as serialising the whole row at once
        {k: canonical.plain(v) for k, v in row.items()}, sort_keys=True, separators=(",", ":"),
        ensure_ascii=False).encode()
    assert canonical.row_digest(row) == hashlib.sha256(canonical.row_bytes(row)).hexdigest()
    assert canonical.digest_and_sums(row) == (canonical.row_digest(row), canonical.column_sums(row))


def test_floats_and_naive_times_have_no_canonical_form():
    with pytest.raises(ValueError, match="float"):
        canonical.row_bytes({"x": 1.5})
    with pytest.raises(ValueError, match="naive"):
        canonical.row_bytes({"at": datetime(2026, 12, 3)})


def test_a_link_hashes_the_previous_hash_bytes_then_the_fact():
    fact = canonical.link_bytes(1, AT, "scans", "s1", "added", "ab" * 32)
    assert fact == (b'{"at":"2026-12-03T00:05:06.000007Z","digest":"' + b"ab" * 32
                    + b'","id":"s1","kind":"scans","op":"added","seq":1}')
    first = canonical.link_hash(canonical.GENESIS, 1, AT, "scans", "s1", "added", "ab" * 32)
    assert first == hashlib.sha256(bytes(32) + fact).hexdigest()
    second = canonical.link_hash(first, 2, AT, "scans", "s2", "added", "cd" * 32)
    # Any change to an earlier link or to the order changes every hash after it.
    other = canonical.link_hash(canonical.GENESIS, 1, AT, "scans", "s1", "added", "ac" * 32)
    assert canonical.link_hash(other, 2, AT, "scans", "s2", "added", "cd" * 32) != second
    swapped = canonical.link_hash(canonical.GENESIS, 1, AT, "scans", "s2", "added", "cd" * 32)
    assert canonical.link_hash(swapped, 2, AT, "scans", "s1", "added", "ab" * 32) != second


def test_column_checksums_name_the_column_that_changed():
    row = {"uid": "04A1", "at": AT, "reader_id": "cabinet-1"}
    sums = canonical.column_sums(row)
    assert len(sums) == 4 * len(row)
    assert canonical.differing_columns(row, sums) == []
    assert canonical.differing_columns({**row, "uid": "FFFF"}, sums) == ["uid"]
    assert canonical.differing_columns({**row, "extra": 1}, sums) == sorted([*row, "extra"])


def test_an_anchor_is_the_hash_at_a_date():
    anchor = Anchor.parse(" " + "AB" * 32 + "@2026-12-02 ")
    assert (anchor.hash, anchor.day, str(anchor)) == ("ab" * 32, date(2026, 12, 2), "ab" * 32 + "@2026-12-02")
    for bad in ("ab" * 32, "ab" * 31 + "@2026-12-02", "zz" * 32 + "@2026-12-02", "ab" * 32 + "@yesterday"):
        with pytest.raises(ValueError):
            Anchor.parse(bad)


def test_the_fast_path_gives_the_encoders_bytes_for_every_kind_of_value():
    from datetime import time

    tokyo = timezone(timedelta(hours=9))
    values = [None, True, False, 0, -7, 2**70, "", "a\"b\\c\n\t\x00\x1f", "練馬区 ✔ \u2028 \ud7ff", "😀",
              datetime(2026, 12, 3, 14, 0, 0, 123456, tzinfo=UTC), datetime(2026, 12, 3, 23, 0, tzinfo=tokyo),
              date(2026, 12, 3), time(9, 30), Decimal("1.50"), b"\x00\xff", ["x", 1, None], {"b": 1, "a": "y"}]
    for value in values:
        assert canonical.value_bytes(value) == canonical.dumps(canonical.plain(value)), value


def test_a_link_built_by_hand_is_the_same_bytes_as_its_json():
    for row_id, at in (("s1", AT), ('a "quoted" 来所者\n id', AT.astimezone(timezone(timedelta(hours=9)))),
                       ("7", datetime(2026, 1, 2, tzinfo=UTC))):
        fact = {"at": canonical.plain(at), "digest": "ab" * 32, "id": row_id, "kind": "scans", "op": "added",
                "seq": 123456789012}
        assert canonical.link_bytes(123456789012, at, "scans", row_id, "added", "ab" * 32) == canonical.dumps(fact)
        assert canonical.value_bytes(at) == canonical.dumps(canonical.plain(at))
