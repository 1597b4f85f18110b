"""Cabinet sessions end as the contract says: door closed, another card, or a minute of silence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.integration

KEY_HOLDER = "0123456789ABCDEF"
OTHER_KEY_HOLDER = "0123456789ABCDEE"
FOLDER = "04A1B2C3D4E5F6"
PHONE = "04A1B2C3D4E5F7"


@pytest.fixture
def office(office):
    """The running office, stocked for this module."""
    cabinet = office.add_reader("cabinet-1", "cabinet")
    trained = datetime.now(UTC).date() - timedelta(days=10)
    office.add_person("佐藤 花子", KEY_HOLDER, key_holder=True, training_on=trained)
    office.add_person("鈴木 次郎", OTHER_KEY_HOLDER, key_holder=True, training_on=trained)
    office.add_item("調査ファイル R8-00123", "folder", FOLDER, "cabinet-1", case="R8-00123")
    office.add_item("調査用スマートフォン 1", "phone", PHONE, "cabinet-1", encrypted=False)
    office.cabinet = cabinet
    yield office


def decide(reader, uid, **kw):
    scan_id = reader.tap(uid, **kw)
    decision = reader.wait_decision(scan_id)
    assert decision is not None, f"no decision for {uid}"
    return decision


def test_closing_the_door_ends_the_session_so_an_item_tap_after_it_is_refused(office):
    cabinet = office.cabinet
    assert decide(cabinet, KEY_HOLDER).action == "session_open"
    event_id = cabinet.event("door_closed")
    assert cabinet.wait_acked(event_id)
    decision = decide(cabinet, FOLDER, tech="iso14443a")
    assert (decision.result, decision.reason) == ("deny", "no_session")
    assert office.get("/alerts", state="open")[0]["reason"] == "no_session"


def test_a_minute_without_a_scan_ends_the_session(office):
    cabinet = office.cabinet
    start = datetime.now(UTC) - timedelta(seconds=5)
    cabinet.tap(KEY_HOLDER, at=start - timedelta(seconds=61))  # a stale opening: recorded, no decision
    late = decide(cabinet, FOLDER, tech="iso14443a")
    assert late.reason == "no_session"


def test_the_next_card_takes_over_the_cabinet_and_returns_go_to_whoever_holds_the_item(office):
    cabinet = office.cabinet
    decide(cabinet, KEY_HOLDER)
    assert decide(cabinet, FOLDER, tech="iso14443a").action == "checkout"
    assert decide(cabinet, OTHER_KEY_HOLDER).action == "session_open"
    assert decide(cabinet, FOLDER, tech="iso14443a").action == "return"
    [row] = office.get("/checkouts", state="returned")
    assert row["person"]["name"] == "佐藤 花子" and row["returned_by"]["name"] == "鈴木 次郎"


def test_an_unencrypted_phone_stays_in_the_cabinet(office):
    cabinet = office.cabinet
    decide(cabinet, KEY_HOLDER)
    decision = decide(cabinet, PHONE, tech="iso14443a")
    assert (decision.result, decision.reason) == ("deny", "not_encrypted")
    assert office.get("/checkouts", state="open") == []


def test_tamper_raises_a_high_alert_and_events_are_acked_once(office):
    cabinet = office.cabinet
    event_id = cabinet.event("tamper")
    assert cabinet.wait_acked(event_id)
    cabinet.acked.clear()
    cabinet.replay(event_id)  # the same event again
    assert cabinet.wait_acked(event_id)
    [alert] = office.get("/alerts", state="open")
    assert (alert["type"], alert["severity"]) == ("tamper", "high")


def test_a_session_opened_offline_and_replayed_later_builds_the_same_ledger(office):
    """The reader opened on its allowlist while the server was away; its buffered stream arrives late."""
    cabinet = office.cabinet
    t0 = datetime.now(UTC) - timedelta(minutes=30)
    opened = cabinet.tap(KEY_HOLDER, at=t0)
    offline = cabinet.event("offline_unlock", scan=opened, at=t0 + timedelta(milliseconds=1600))
    taken = cabinet.tap(FOLDER, tech="iso14443a", at=t0 + timedelta(seconds=10))
    closed = cabinet.event("door_closed", at=t0 + timedelta(seconds=20))
    assert cabinet.wait_acked([opened, offline, taken, closed])
    assert cabinet.decisions == {}  # stale: recorded, never answered
    [row] = office.get("/checkouts", state="open")
    assert datetime.fromisoformat(row["out_at"]) == (t0 + timedelta(seconds=10)).replace(microsecond=0)
    assert row["person"]["name"] == "佐藤 花子"
