"""The outbox keeps every message on disk until the server's ack, and says so when it cannot."""

from __future__ import annotations

import sqlite3

import pytest

from gateway.outbox import Outbox, OutboxError, OutboxFull


def test_a_kept_scan_survives_reopening_until_acknowledged(tmp_path):
    path = tmp_path / "outbox.sqlite3"
    box = Outbox(path)
    box.put("scan-0001", "scan", b'{"a":1}')
    box.put("event-0001", "event", b'{"b":2}')
    box.close()

    box = Outbox(path)
    assert len(box) == 2
    assert [(p.id, p.channel, p.payload) for p in box.all()] == [
        ("scan-0001", "scan", b'{"a":1}'), ("event-0001", "event", b'{"b":2}')]
    assert box.acknowledge(["scan-0001", "unknown-id"]) == 1
    box.close()

    box = Outbox(path)
    assert [p.id for p in box.all()] == ["event-0001"]
    assert len(box) == 1


def test_the_same_id_kept_twice_is_one_message(tmp_path):
    box = Outbox(tmp_path / "o.sqlite3")
    box.put("scan-0001", "scan", b"{}")
    box.put("scan-0001", "scan", b"{}")
    assert len(box) == 1


def test_only_what_was_sent_long_enough_ago_is_due_again(tmp_path):
    box = Outbox(tmp_path / "o.sqlite3")
    box.put("never-sent", "scan", b"{}")
    box.put("just-sent", "scan", b"{}")
    box.mark_sent(["just-sent"])
    assert not box.sent_within("never-sent", 30)
    assert box.sent_within("just-sent", 30)
    assert not box.sent_within("just-sent", 0)


def test_a_long_backlog_is_read_page_by_page_in_order(tmp_path):
    box = Outbox(tmp_path / "o.sqlite3")
    for n in range(25):
        box.put(f"scan-{n:04d}", "scan", b"{}")
    box.acknowledge(["scan-0003"])
    seen, after = [], 0
    while page := box.page(after=after, limit=10):
        seen += [p.id for p in page]
        after = page[-1].seq
    assert seen == [f"scan-{n:04d}" for n in range(25) if n != 3]


def test_an_acknowledged_duplicate_changes_nothing(tmp_path):
    box = Outbox(tmp_path / "o.sqlite3")
    box.put("scan-0001", "scan", b"{}")
    assert box.acknowledge(["scan-0001"]) == 1
    assert box.acknowledge(["scan-0001"]) == 0
    assert len(box) == 0


def test_a_full_disk_is_an_error_and_loses_nothing_already_kept(tmp_path):
    path = tmp_path / "o.sqlite3"
    box = Outbox(path)
    box.put("scan-first", "scan", b"{}")
    # A disk that is full to SQLite: the file may not grow past its present size.
    pages = box._db.execute("PRAGMA page_count").fetchone()[0]
    box._db.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(OutboxFull, match="disk is full"):
        for n in range(10_000):
            box.put(f"scan-{n:06d}", "scan", b"x" * 1500)
    kept = len(box)
    box.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT count(*) FROM pending").fetchone()[0] == kept
    assert Outbox(path).all()[0].id == "scan-first"


def test_the_allowlist_is_kept_beside_the_queue(tmp_path):
    box = Outbox(tmp_path / "o.sqlite3")
    assert box.kept("allowlist") is None
    box.keep("allowlist", b"one")
    box.keep("allowlist", b"two")
    assert box.kept("allowlist") == b"two"
    assert len(box) == 0


def test_an_outbox_belongs_to_one_reader(tmp_path):
    path = tmp_path / "o.sqlite3"
    box = Outbox(path, owner="nerima/cabinet-1")
    box.put("scan-0001", "scan", b"{}")
    box.close()
    Outbox(path, owner="nerima/cabinet-1").close()
    with pytest.raises(OutboxError, match="holds the outbox of reader nerima/cabinet-1 .1 messages waiting., "
                                          "not of nerima/entrance: give each reader its own outbox.path"):
        Outbox(path, owner="nerima/entrance")
