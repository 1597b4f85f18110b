"""Loan rules per kind, an item's own rule, and the rule kept on each checkout — with real scans.

Real Mosquitto, the real server (API + ingest), SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from tests.support.office import Office

pytestmark = pytest.mark.integration

CARD = "0123456789ABCDEF"
FOLDER, KEY, SPARE_KEY = "04A1B2C3D4E5F6", "04A1B2C3D4E5F7", "04A1B2C3D4E5F8"


@pytest.fixture
def cabinet(office: Office):
    reader = office.add_reader("cabinet-1", "cabinet")
    office.add_person("佐藤 花子", CARD, key_holder=True, training_on=date.today() - timedelta(days=10))
    office.add_item("調査書類 R8-00123", "folder", FOLDER, "cabinet-1", case="R8-00123")
    office.add_item("書庫の鍵", "key", KEY, "cabinet-1")
    office.post("/items", {"label": "予備の鍵", "kind": "key", "tag_uid": SPARE_KEY, "cabinet": "cabinet-1",
                           "loan_minutes": 30})
    return reader


def take_out(office: Office, reader, *tags: str, at: datetime) -> dict[str, dict]:
    ids = [reader.tap(CARD, at=at)] + [reader.tap(tag, tech="iso14443a", at=at + timedelta(seconds=2 + n))
                                       for n, tag in enumerate(tags)]
    assert reader.wait_acked(ids)
    return {c["item"]["label"]: c for c in office.get("/checkouts", state="open")}


def test_each_checkout_is_due_by_its_kinds_rule_or_its_own_and_keeps_the_rule(office, cabinet):
    zone = office.settings.zone
    morning = datetime.now(zone).replace(hour=9, minute=0, second=0, microsecond=0) - timedelta(days=1)
    out = take_out(office, cabinet, FOLDER, KEY, SPARE_KEY, at=morning)
    folder, key, spare = out["調査書類 R8-00123"], out["書庫の鍵"], out["予備の鍵"]
    assert datetime.fromisoformat(folder["due_at"]) == morning.replace(hour=18)
    assert folder["loan_rule"] == "folder: due 18:00"
    key_out = datetime.fromisoformat(key["out_at"])
    assert datetime.fromisoformat(key["due_at"]) - key_out == timedelta(minutes=120)
    assert key["loan_rule"] == "key: due after 120 min"
    assert datetime.fromisoformat(spare["due_at"]) - datetime.fromisoformat(spare["out_at"]) == timedelta(minutes=30)
    assert spare["loan_rule"] == "item: due after 30 min"


def test_a_changed_rule_governs_later_checkouts_and_old_ones_keep_theirs(office, cabinet):
    rules = {r["kind"]: r for r in office.get("/loan-rules")}
    assert rules["folder"]["due_time"] == "18:00:00" and rules["key"]["loan_minutes"] == 120
    first = take_out(office, cabinet, FOLDER, at=datetime.now(UTC) - timedelta(hours=5))["調査書類 R8-00123"]
    # Back in, then the manager moves folders to 17:00.
    back = [cabinet.tap(CARD, at=datetime.now(UTC) - timedelta(hours=4)),
            cabinet.tap(FOLDER, tech="iso14443a", at=datetime.now(UTC) - timedelta(hours=4) + timedelta(seconds=2))]
    assert cabinet.wait_acked(back)
    changed = office.client.put("/api/v1/loan-rules/folder", json={"due_time": "17:00"}, headers=office.headers)
    assert changed.status_code == 200, changed.text
    office.ingest.worker.service.rules.ttl = 0  # the ingest re-reads rules every 30 s; now at once
    second = take_out(office, cabinet, FOLDER, at=datetime.now(UTC) - timedelta(hours=3))["調査書類 R8-00123"]
    assert second["loan_rule"] == "folder: due 17:00"
    assert datetime.fromisoformat(second["due_at"]).astimezone(office.settings.zone).hour == 17
    [old] = [c for c in office.get("/checkouts", state="returned") if c["id"] == first["id"]]
    assert old["loan_rule"] == "folder: due 18:00"


def test_rule_input_is_checked(office, cabinet):
    put = office.client.put
    assert put("/api/v1/loan-rules/folder", json={"due_time": "17:00", "loan_minutes": 30},
               headers=office.headers).status_code == 422
    assert put("/api/v1/loan-rules/folder", json={}, headers=office.headers).status_code == 422
    assert put("/api/v1/loan-rules/umbrella", json={"loan_minutes": 30}, headers=office.headers).status_code == 422
    both = office.client.post("/api/v1/items", json={"label": "x", "kind": "key", "tag_uid": "0A0B0C0D0E",
                                                     "cabinet": "cabinet-1", "due_time": "17:00", "loan_minutes": 5},
                              headers=office.headers)
    assert both.status_code == 422
