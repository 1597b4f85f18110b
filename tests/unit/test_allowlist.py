"""Allowlists: what the server builds fits the contract; what the reader does with it is fail-secure."""

from __future__ import annotations

from datetime import datetime, timedelta

from gateway import protocol
from gateway.allowlist import OfflineAllowlist
from gateway.outbox import Outbox
from server.allowlists.publisher import MAX_HASHES, build_allowlist

NOW = datetime.fromisoformat("2026-11-27T09:00:00+09:00")
UNTIL = NOW + timedelta(hours=26)
KEY = bytes.fromhex("5a" * 32)  # the cabinet's allowlist key, as `mamori readers key` prints it


def uids(n: int) -> list[str]:
    return [f"01{i:014X}" for i in range(n)]


def test_the_most_hashes_fit_in_2_kib_and_one_more_would_not():
    assert len(protocol.encode(build_allowlist(uids(MAX_HASHES), NOW, UNTIL, KEY))) <= protocol.MAX_PAYLOAD_BYTES
    assert len(protocol.encode(build_allowlist(uids(MAX_HASHES + 1), NOW, UNTIL, KEY))) > protocol.MAX_PAYLOAD_BYTES


def test_each_allowlist_has_its_own_salt_and_no_card_number_in_clear():
    first, second = build_allowlist(uids(3), NOW, UNTIL, KEY), build_allowlist(uids(3), NOW, UNTIL, KEY)
    assert first.salt != second.salt and first.hashes != second.hashes
    assert not any(uid in protocol.encode(first).decode() for uid in uids(3))
    assert protocol.allowlist_hash(first.salt, uids(3)[0], KEY) in first.hashes


def reader_side(tmp_path, key: bytes | None = KEY) -> OfflineAllowlist:
    return OfflineAllowlist(Outbox(tmp_path / "outbox.sqlite3"), key)


def test_a_listed_card_opens_until_the_allowlist_expires(tmp_path):
    allowlist = reader_side(tmp_path)
    allowlist.update(build_allowlist(["0123456789ABCDEF"], NOW, UNTIL, KEY))
    assert allowlist.allows("0123456789ABCDEF", NOW)
    assert allowlist.allows("0123456789abcdef", NOW)  # the reader's uid case does not matter
    assert not allowlist.allows("0123456789ABCDEE", NOW)
    assert not allowlist.allows("0123456789ABCDEF", UNTIL)


def test_no_allowlist_opens_nothing(tmp_path):
    assert not reader_side(tmp_path).allows("0123456789ABCDEF", NOW)


def test_the_allowlist_outlives_a_restart(tmp_path):
    reader_side(tmp_path).update(build_allowlist(["0123456789ABCDEF"], NOW, UNTIL, KEY))
    assert reader_side(tmp_path).allows("0123456789ABCDEF", NOW)


def test_an_older_allowlist_restored_by_a_broker_does_not_replace_a_newer_one(tmp_path):
    allowlist = reader_side(tmp_path)
    allowlist.update(build_allowlist(["0123456789ABCDEF"], NOW, UNTIL, KEY))  # the one kept: one key holder
    allowlist.update(build_allowlist(["0123456789ABCDEF", "0A0B0C0D"], NOW - timedelta(hours=1), UNTIL, KEY))
    assert not allowlist.allows("0A0B0C0D", NOW)


def test_a_clock_behind_the_allowlists_making_opens_nothing(tmp_path):
    allowlist = reader_side(tmp_path)
    allowlist.update(build_allowlist(["0123456789ABCDEF"], NOW, UNTIL, KEY))
    assert not allowlist.allows("0123456789ABCDEF", NOW - timedelta(days=2))  # a Pi back from a power cut
    assert allowlist.allows("0123456789ABCDEF", NOW - timedelta(minutes=1))  # clocks a little apart


def test_the_published_list_carries_neither_the_key_nor_anything_a_4_byte_uid_search_can_match():
    allowlist = build_allowlist(["0A0B0C0D"], NOW, UNTIL, KEY)
    wire = protocol.encode(allowlist).decode()
    assert KEY.hex() not in wire and allowlist.key_id == protocol.allowlist_key_id(KEY)
    # The brute force of the issue: every 4-byte uid hashed with the published salt alone finds nothing.
    assert protocol.allowlist_hash(allowlist.salt, "0A0B0C0D") not in allowlist.hashes
    assert protocol.allowlist_hash(allowlist.salt, "0A0B0C0D", KEY) in allowlist.hashes


def test_a_cabinet_without_a_key_on_the_server_gets_an_empty_list():
    allowlist = build_allowlist(["0A0B0C0D"], NOW, UNTIL, None)
    assert allowlist.hashes == [] and allowlist.key_id is None


def test_a_reader_without_a_key_refuses_offline_opens_and_says_so(tmp_path, caplog):
    allowlist = reader_side(tmp_path, key=None)
    allowlist.update(build_allowlist(["0123456789ABCDEF"], NOW, UNTIL, KEY))
    assert not allowlist.allows("0123456789ABCDEF", NOW)
    assert "no allowlist_key in this reader's config" in caplog.text


def test_a_reader_with_another_key_refuses_offline_opens_and_says_so(tmp_path, caplog):
    allowlist = reader_side(tmp_path, key=bytes.fromhex("a5" * 32))
    allowlist.update(build_allowlist(["0123456789ABCDEF"], NOW, UNTIL, KEY))
    assert not allowlist.allows("0123456789ABCDEF", NOW)
    assert f"keyed with {protocol.allowlist_key_id(KEY)}" in caplog.text


def test_an_unkeyed_list_from_an_older_server_opens_nothing(tmp_path):
    salt = "9f" * 16
    old = protocol.Allowlist(v=1, salt=salt, hashes=[protocol.allowlist_hash(salt, "0123456789ABCDEF")], until=UNTIL)
    allowlist = reader_side(tmp_path)
    allowlist.update(old)
    assert not allowlist.allows("0123456789ABCDEF", NOW)
