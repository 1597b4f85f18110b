"""Lost items and stock-takes with real scans: Mosquitto, the server (API + ingest + pages), SQLite and PostgreSQL.

A stock-take of cabinet-1 with one folder missing and a phone from cabinet-2 tapped lists exactly
those; its taps are answered accept/stocktake and lend nothing. An item marked lost is refused at
the cabinet and keeps its history; found, it is lent again.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from server.accounts.service import add_user
from server.alerts.models import Alert
from server.audit.models import AuditEvent
from server.checkouts.chase import ChaseChecker
from server.db import unit_of_work
from server.ledger.models import ScanRecord
from tests.support.office import Office
from tests.support.printout import read_printout
from tests.support.web import PASSWORDS, logged_in
from tests.support.words import notes_ja

pytestmark = pytest.mark.integration

CARD = "0123456789ABCDEF"
FOLDER, FOLDER_MISSING, FOLDER_OUT = "04A1B2C3D4E5F6", "04A1B2C3D4E5F7", "04A1B2C3D4E5F8"
PHONE_HERE, PHONE_ELSEWHERE, UNKNOWN_TAG = "04A1B2C3D4E5F9", "04A1B2C3D4E5FA", "04FFFFFFFFFFFF"


@pytest.fixture
def office(database_url, broker):
    with Office(database_url, broker.url, overdue_check_s=3600, notice_check_s=3600) as office:
        office.wait_connected()
        office.cabinet = office.add_reader("cabinet-1", "cabinet")
        office.other = office.add_reader("cabinet-2", "cabinet")
        office.add_person("佐藤 花子", CARD, key_holder=True, training_on=datetime.now(UTC).date() - timedelta(days=9))
        office.items = {
            "folder": office.add_item("調査書類 R8-00123", "folder", FOLDER, "cabinet-1", case="R8-00123"),
            "missing": office.add_item("調査書類 R8-00124", "folder", FOLDER_MISSING, "cabinet-1",
                                       case="R8-00124"),
            "out": office.add_item("調査書類 R8-00125", "folder", FOLDER_OUT, "cabinet-1", case="R8-00125"),
            "phone": office.add_item("調査用スマートフォン 1", "phone", PHONE_HERE, "cabinet-1", encrypted=True),
            "elsewhere": office.add_item("調査用スマートフォン 2", "phone", PHONE_ELSEWHERE, "cabinet-2",
                                         encrypted=True),
        }
        with unit_of_work(office.factory) as db:
            add_user(db, "tanaka", "manager", PASSWORDS["manager"], datetime.now(UTC))
        office.pages, office.csrf = logged_in(office.app, "tanaka", PASSWORDS["manager"])
        yield office


def decide(reader, uid: str, tech: str = "iso14443a"):
    scan_id = reader.tap(uid, tech=tech)
    decision = reader.wait_decision(scan_id)
    assert decision is not None, f"no decision for {uid}"
    return decision


def close_door(reader) -> None:
    assert reader.wait_acked(reader.event("door_closed"))


def open_items(office) -> list[str]:
    return sorted(row["item"]["label"] for row in office.get("/checkouts", state="open"))


def audit_actions(office) -> list[str]:
    with office.factory() as db:
        return list(db.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# ---------------------------------------------------------------- stock-take


def test_a_stocktake_lists_the_missing_folder_and_the_phone_from_another_cabinet(office):
    cabinet, labels = office.cabinet, {k: v["label"] for k, v in office.items.items()}
    assert decide(cabinet, CARD, "felica").action == "session_open"
    assert decide(cabinet, FOLDER_OUT).action == "checkout"
    close_door(cabinet)

    started = office.pages.post("/stocktakes", data={"csrf": office.csrf, "cabinet": "cabinet-1"})
    assert started.status_code == 303, started.text
    stocktake_id = int(re.search(r"/stocktakes/(\d+)", started.headers["location"]).group(1))
    again = office.pages.post("/stocktakes", data={"csrf": office.csrf, "cabinet": "cabinet-1"})
    assert again.status_code == 409 and "すでに棚卸が進行中です" in again.text

    # A staff card still opens the cabinet; item taps inside (and outside) the session are only counted.
    assert decide(cabinet, CARD, "felica").action == "session_open"
    taps = [decide(cabinet, uid) for uid in (FOLDER, FOLDER, PHONE_HERE, PHONE_ELSEWHERE)]
    assert {(d.result, d.action) for d in taps} == {("accept", "stocktake")}
    close_door(cabinet)
    unknown = decide(cabinet, UNKNOWN_TAG)
    assert (unknown.result, unknown.reason) == ("deny", "unknown_tag")
    assert open_items(office) == [labels["out"]]  # nothing went out or came back
    with office.factory() as db:
        counted = db.scalars(select(ScanRecord.duplicate_of).where(ScanRecord.action == "stocktake")).all()
    assert len(counted) == 4 and sum(1 for d in counted if d) == 1  # the folder held at the antenna: one tap

    live = office.pages.get(f"/stocktakes/{stocktake_id}/live", headers={"X-Mamori-Poll": "1"})
    assert live.status_code == 200
    assert labels["elsewhere"] in live.text and UNKNOWN_TAG in live.text and labels["missing"] not in live.text

    live_page = office.pages.get(f"/stocktakes/{stocktake_id}")
    assert live_page.status_code == 200 and 'id="finish-stocktake"' in live_page.text and labels["phone"] in live_page.text
    finished = office.pages.post(f"/stocktakes/{stocktake_id}/finish", data={"csrf": office.csrf})
    assert finished.status_code == 303, finished.text
    result = office.get(f"/stocktakes/{stocktake_id}")
    assert (result["state"], result["finished_by"], result["started_by"]) == ("finished", "tanaka", "tanaka")
    assert sorted((line["outcome"], line["item"]["label"]) for line in result["lines"]) == sorted([
        ("found", labels["folder"]), ("found", labels["phone"]), ("missing", labels["missing"]),
        ("unexpected", labels["elsewhere"]), ("on_loan", labels["out"])])
    unexpected = next(line for line in result["lines"] if line["outcome"] == "unexpected")
    assert unexpected["detail"] == "elsewhere:cabinet-2"

    [missing_alert] = [a for a in office.get("/alerts", state="open") if a["type"] == "stocktake_missing"]
    assert missing_alert["item_id"] == office.items["missing"]["id"]
    result_page = office.pages.get(f"/stocktakes/{stocktake_id}")
    assert "確認 2・所在不明 1・想定外 1・持ち出し中 1" in result_page.text and "保管場所は cabinet-2" in result_page.text
    assert "finish-stocktake" not in result_page.text and UNKNOWN_TAG in result_page.text
    assert "stocktake-" + str(stocktake_id) in office.pages.get("/stocktakes").text
    printed = office.pages.get(f"/stocktakes/{stocktake_id}/print")
    assert printed.status_code == 200 and labels["missing"] in printed.text and "所在不明" in printed.text
    paper = read_printout(printed.text)  # the shared print layout: header on every page, the stamp boxes
    assert "棚卸" in paper.head and paper.stamps == ["担当", "確認", "管理責任者", "監査"] and "印刷者" in paper.foot
    assert {"stocktake_started", "stocktake_finished", "stocktake_printed"} <= set(audit_actions(office))

    # Finished: the cabinet lends again, and a second finish is refused.
    assert office.client.post(f"/api/v1/stocktakes/{stocktake_id}/finish", headers=office.headers).status_code == 409
    assert decide(cabinet, CARD, "felica").action == "session_open"
    assert decide(cabinet, FOLDER).action == "checkout"


def test_a_cancelled_stocktake_keeps_no_result_and_a_new_one_may_start(office):
    first = office.post("/stocktakes", {"cabinet": "cabinet-1"})
    assert office.client.post("/api/v1/stocktakes", json={"cabinet": "cabinet-1"},
                              headers=office.headers).status_code == 409
    assert office.client.post("/api/v1/stocktakes", json={"cabinet": "nope"}, headers=office.headers).status_code == 422
    assert decide(office.cabinet, FOLDER).action == "stocktake"
    cancelled = office.post(f"/stocktakes/{first['id']}/cancel", {}, expect=200)
    assert (cancelled["state"], cancelled["lines"]) == ("cancelled", [])
    assert decide(office.cabinet, PHONE_HERE).reason == "no_session"  # counting is over
    second = office.post("/stocktakes", {"cabinet": "cabinet-1"})
    assert [s["id"] for s in office.get("/stocktakes")] == [second["id"], first["id"]]


# ---------------------------------------------------------------- lost items


def test_marking_lost_blocks_checkout_keeps_the_history_and_found_unblocks(office):
    cabinet, folder = office.cabinet, office.items["folder"]
    decide(cabinet, CARD, "felica")
    assert decide(cabinet, FOLDER).action == "checkout"
    close_door(cabinet)
    decide(cabinet, CARD, "felica")
    assert decide(cabinet, FOLDER).action == "return"
    close_door(cabinet)

    lost = office.post(f"/items/{folder['id']}/lost", {"note": "書庫の棚に見当たらない"})
    assert (lost["checkout_id"], lost["person_id"], lost["marked_by"]) == (None, None, "kanri")
    [loan] = [h for h in lost["history"] if h["kind"] == "checkout"]
    assert loan["person"] == "佐藤 花子" and loan["returned_by"] == "佐藤 花子" and loan["purpose"] == "R8-00123"
    assert [h["action"] for h in lost["history"] if h["kind"] == "scan"] == ["checkout", "return"]
    assert office.client.post(f"/api/v1/items/{folder['id']}/lost", json={"note": "again"},
                              headers=office.headers).status_code == 409

    decide(cabinet, CARD, "felica")
    refused = decide(cabinet, FOLDER)
    assert (refused.result, refused.reason) == ("deny", "item_not_loanable")
    assert open_items(office) == []
    kept = office.get(f"/lost-items/{lost['id']}")
    assert kept["history"] == lost["history"]  # frozen: the refused tap came after
    assert office.get("/items/" + str(folder["id"]))["status"] == "lost"
    page = office.pages.get(f"/lost/{lost['id']}")
    assert page.status_code == 200 and "書庫の棚に見当たらない" in page.text and "佐藤 花子" in page.text
    printed = office.pages.get(f"/lost/{lost['id']}/print")
    assert printed.status_code == 200
    assert read_printout(printed.text).stamps == ["担当", "確認", "管理責任者", "監査"]
    assert f'id="lost-{lost["id"]}"' in office.pages.get("/lost").text

    found = office.pages.post(f"/lost/{lost['id']}/found", data={"csrf": office.csrf})
    assert found.status_code == 303, found.text
    record = office.get(f"/lost-items/{lost['id']}")
    assert record["found_by"] == "tanaka" and record["found_at"] is not None
    assert office.get("/lost-items", state="open") == []
    decide(cabinet, CARD, "felica")
    assert decide(cabinet, FOLDER).action == "checkout"
    assert {"item_marked_lost", "item_found", "lost_item_printed"} <= set(audit_actions(office))


def test_an_item_lost_while_out_is_marked_from_the_lost_prompt_and_still_taken_back(office):
    cabinet, folder = office.cabinet, office.items["folder"]
    decide(cabinet, CARD, "felica")
    assert decide(cabinet, FOLDER).action == "checkout"
    close_door(cabinet)
    [checkout] = office.get("/checkouts", state="open")
    later = datetime.fromisoformat(checkout["due_at"]) + timedelta(days=2)
    ChaseChecker(office.factory, lambda: later, office.settings).check()
    assert {a["type"] for a in office.get("/alerts", state="open")} == {"overdue", "escalated", "lost_prompt"}

    dashboard = office.pages.get("/dashboard")
    assert f'href="/lost/mark?item={folder["id"]}"' in dashboard.text
    form = office.pages.get(f"/lost/mark?item={folder['id']}")
    assert form.status_code == 200 and "佐藤 花子" in form.text
    no_note = office.pages.post("/lost/mark", data={"csrf": office.csrf, "item": str(folder["id"]), "note": " "})
    assert no_note.status_code == 422 and "入力してください" in no_note.text
    marked = office.pages.post("/lost/mark", data={"csrf": office.csrf, "item": str(folder["id"]),
                                                   "note": "訪問先で置き忘れの可能性"})
    assert marked.status_code == 303, marked.text
    [record] = office.get("/lost-items")
    assert (record["checkout_id"], record["person_id"]) == (checkout["id"], checkout["person"]["id"])
    assert office.get("/alerts", state="open") == []
    with office.factory() as db:
        notes = db.scalars(select(Alert.note).where(Alert.checkout_id == checkout["id"])).all()
    assert len(notes) == 3 and all(f"紛失記録 No.{record['id']}" in notes_ja(note) for note in notes)

    decide(cabinet, CARD, "felica")
    assert decide(cabinet, FOLDER).action == "return"  # a lost item that turns up is always taken back
    assert open_items(office) == []


def test_patching_an_item_to_lost_makes_the_record_and_back_to_active_closes_it(office):
    phone = office.items["phone"]
    response = office.client.patch(f"/api/v1/items/{phone['id']}", json={"status": "lost"}, headers=office.headers)
    assert response.status_code == 200 and response.json()["status"] == "lost"
    [record] = office.get("/lost-items", state="open")
    assert record["item"]["id"] == phone["id"] and record["marked_by"] == "kanri"
    response = office.client.patch(f"/api/v1/items/{phone['id']}", json={"status": "active"}, headers=office.headers)
    assert response.status_code == 200
    assert office.get(f"/lost-items/{record['id']}")["found_by"] == "kanri"
