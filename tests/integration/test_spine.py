"""A tap travels reader → Mosquitto → server → ledger → decision, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.office import Office

pytestmark = pytest.mark.integration

SURVEYOR_CARD = "0123456789ABCDEF"
FOLDER_TAG = "04A1B2C3D4E5F6"
TODAY = datetime.now(UTC).date()


def _stock(office: Office):
    cabinet = office.add_reader("cabinet-1", "cabinet")
    office.add_person("佐藤 花子", SURVEYOR_CARD, key_holder=True, training_on=TODAY - timedelta(days=30))
    office.add_item("調査ファイル R8-00123", "folder", FOLDER_TAG, "cabinet-1", case="R8-00123")
    return cabinet


def test_key_holder_unlocks_then_takes_a_folder_out_and_brings_it_back(office):
    cabinet = _stock(office)
    open_scan = cabinet.tap(SURVEYOR_CARD)
    decision = cabinet.wait_decision(open_scan)
    assert decision and decision.result == "unlock" and decision.action == "session_open"
    assert decision.unlock_s == 5

    out_scan = cabinet.tap(FOLDER_TAG, tech="iso14443a")
    assert cabinet.wait_decision(out_scan).action == "checkout"
    assert cabinet.wait_acked([open_scan, out_scan])

    [row] = office.get("/checkouts", state="open")
    assert row["item"]["case"] == "R8-00123" and row["person"]["name"] == "佐藤 花子"
    assert row["returned_at"] is None and row["due_at"].endswith("+09:00")

    cabinet.event("door_closed")
    back = cabinet.tap(SURVEYOR_CARD)
    assert cabinet.wait_decision(back).result == "unlock"
    ret = cabinet.tap(FOLDER_TAG, tech="iso14443a")
    assert cabinet.wait_decision(ret).action == "return"
    assert cabinet.wait_acked(ret)
    [returned] = office.get("/checkouts", state="returned")
    assert returned["returned_by"]["name"] == "佐藤 花子"
    assert office.get("/checkouts", state="open") == []


def test_redelivered_scan_is_acked_again_and_changes_nothing(office):
    cabinet = _stock(office)
    scan_id = cabinet.tap(SURVEYOR_CARD)
    assert cabinet.wait_decision(scan_id).result == "unlock"
    assert cabinet.wait_acked(scan_id)
    cabinet.acked.clear()
    cabinet.decisions.clear()
    cabinet.tap(SURVEYOR_CARD, scan_id=scan_id)  # the same id again, as an outbox resend would
    assert cabinet.wait_acked(scan_id)
    assert cabinet.wait_decision(scan_id, timeout=1) is None
    scans = office.get("/scans")
    assert [s["id"] for s in scans] == [scan_id]


def test_stale_scan_is_recorded_at_its_own_time_acked_and_never_unlocks(office):
    cabinet = _stock(office)
    at = datetime.now(UTC) - timedelta(minutes=20)
    scan_id = cabinet.tap(SURVEYOR_CARD, at=at)
    assert cabinet.wait_acked(scan_id)
    assert cabinet.wait_decision(scan_id, timeout=1) is None
    [scan] = office.get("/scans")
    assert datetime.fromisoformat(scan["at"]) == at.replace(microsecond=0)
    assert scan["fresh"] is False


def test_a_card_that_is_not_a_key_holder_is_denied_and_raises_an_alert(office):
    cabinet = _stock(office)
    office.add_person("田中 一郎", "0A0B0C0D", key_holder=False)
    scan_id = cabinet.tap("0A0B0C0D")
    decision = cabinet.wait_decision(scan_id)
    assert decision.result == "deny" and decision.reason == "not_key_holder"
    [alert] = office.get("/alerts", state="open")
    assert alert["type"] == "cabinet_denied" and alert["reason"] == "not_key_holder"
    assert alert["scan_id"] == scan_id


def test_staff_tap_in_then_out_at_the_entrance(office):
    entrance = office.add_reader("entrance", "entrance")
    office.add_person("佐藤 花子", SURVEYOR_CARD)
    first = entrance.tap(SURVEYOR_CARD)
    assert entrance.wait_decision(first).action == "entry"
    double = entrance.tap(SURVEYOR_CARD)  # a nervous second tap within 5 s
    assert entrance.wait_decision(double).action == "entry"
    assert [p["name"] for p in office.get("/presence")] == ["佐藤 花子"]
    out = entrance.tap(SURVEYOR_CARD, at=datetime.now(UTC) + timedelta(seconds=6))
    assert entrance.wait_decision(out).action == "exit"
    assert office.get("/presence") == []


def test_visitor_enters_and_leaves_and_the_badge_returns_to_the_pool(office):
    entrance = office.add_reader("entrance", "entrance")
    office.post("/visitor-badges", {"uid": "11223344", "label": "来所者 1"})
    visit = office.post("/visits", {"visitor_name": "山田 太郎", "organisation": "練馬区 介護保険課",
                                    "purpose": "立入検査", "host": "管理責任者", "badge_uid": "11223344"})
    assert entrance.wait_decision(entrance.tap("11223344")).action == "entry"
    assert [v["id"] for v in office.get("/visits", state="in")] == [visit["id"]]
    assert office.get("/presence")[0]["kind"] == "visitor"
    leave = entrance.tap("11223344", at=datetime.now(UTC) + timedelta(seconds=6))
    assert entrance.wait_decision(leave).action == "exit"
    assert office.get("/visits", state="out")[0]["left_at"] is not None
    # The badge is free again: the next visitor can have it.
    office.post("/visits", {"visitor_name": "鈴木 次郎", "badge_uid": "11223344"})


def test_scan_from_an_unregistered_reader_is_dead_lettered(office):
    office.add_reader("cabinet-1", "cabinet")
    from gateway.simulator import SimulatedReader

    stranger = SimulatedReader(office.mqtt_url, "nerima", "attic").start()
    office.readers.append(stranger)
    scan_id = stranger.tap(SURVEYOR_CARD)
    assert stranger.wait_acked(scan_id)
    assert stranger.wait_decision(scan_id, timeout=1) is None
    [letter] = office.get("/dead-letters")
    assert letter["reason"] == "unknown_reader" and "POST /api/v1/readers" in letter["detail"]
