"""What a manager changes on people and items takes effect at the next tap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.office import Office
from tests.support.training import record_training

pytestmark = pytest.mark.integration


def _patch(office: Office, path: str, body: dict) -> dict:
    response = office.client.patch(f"/api/v1{path}", json=body, headers=office.headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_a_lost_folder_can_no_longer_be_taken_out(office):
    cabinet = office.add_reader("cabinet-1", "cabinet")
    office.add_person("佐藤 花子", "0123456789ABCDEF", key_holder=True,
                      training_on=datetime.now(UTC).date() - timedelta(days=1))
    item = office.add_item("調査ファイル R8-00123", "folder", "04A1B2C3D4E5F6", "cabinet-1")
    assert _patch(office, f"/items/{item['id']}", {"status": "lost"})["status"] == "lost"
    assert cabinet.wait_decision(cabinet.tap("0123456789ABCDEF")).result == "unlock"
    decision = cabinet.wait_decision(cabinet.tap("04A1B2C3D4E5F6", tech="iso14443a"))
    assert (decision.result, decision.reason) == ("deny", "item_not_loanable")


def test_a_person_made_inactive_is_refused_at_the_entrance(office):
    entrance = office.add_reader("entrance", "entrance")
    person = office.add_person("田中 一郎", "0A0B0C0D")
    assert _patch(office, f"/people/{person['id']}", {"active": False})["active"] is False
    decision = entrance.wait_decision(entrance.tap("0A0B0C0D"))
    assert (decision.result, decision.reason) == ("deny", "inactive")


def test_renewed_training_opens_the_cabinet_again(office):
    cabinet = office.add_reader("cabinet-1", "cabinet")
    person = office.add_person("鈴木 次郎", "0A0B0C0E", key_holder=True,
                               training_on=datetime.now(UTC).date() - timedelta(days=400))
    assert cabinet.wait_decision(cabinet.tap("0A0B0C0E")).reason == "training_expired"
    # The date is never typed: the API refuses it, a session attended sets it.
    refused = office.client.patch(f"/api/v1/people/{person['id']}", json={"training_on": "2026-04-01"},
                                  headers=office.headers)
    assert refused.status_code == 422
    record_training(office.factory, [person["id"]], datetime.now(UTC).date())
    later = datetime.now(UTC) + timedelta(seconds=1)
    assert cabinet.wait_decision(cabinet.tap("0A0B0C0E", at=later)).result == "unlock"


def test_a_request_whose_commit_fails_is_answered_with_an_error_not_a_success(office, monkeypatch):
    """Two people registered with one card at the same moment: both pass the uid check, and the
    second only fails when it commits. Its caller must hear about it, not get a 201."""
    import server.people.routes

    office.add_person("先に登録", "0E0E0E0E")
    monkeypatch.setattr(server.people.routes, "ensure_uid_free", lambda db, uid: None)  # the race
    response = office.client.post("/api/v1/people", json={"name": "後から", "card_uid": "0E0E0E0E"},
                                  headers=office.headers)
    assert response.status_code == 409, response.text
    assert [p["name"] for p in office.get("/people")] == ["先に登録"]
