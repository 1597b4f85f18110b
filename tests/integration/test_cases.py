"""The 受付簿 through the API: a case from receipt to witnessed destruction, corrections as new events,
a history nothing can edit, and who may do what. SQLite and PostgreSQL; a clock the test moves."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, text, update
from sqlalchemy.exc import DBAPIError

from server.accounts.models import ROLES, User
from server.accounts.service import create_token
from server.cases.models import CaseEvent
from server.db import unit_of_work
from server.people.service import add_person
from tests.support.web import Site

pytestmark = pytest.mark.integration


@pytest.fixture
def site(database_url):
    site = Site(database_url, case_retention_days=30)
    site.clock.now = datetime(2026, 4, 1, 1, 0, tzinfo=UTC)  # 10:00 in Tokyo
    with unit_of_work(site.factory) as db:
        site.tokens = {role: create_token(db, role, datetime.now(UTC)) for role in ROLES}
        site.people = {name: add_person(db, datetime.now(UTC), name=name, card_uid=None).id for name in ("佐藤 花子", "鈴木 一郎")}
    with TestClient(site.app) as client:
        site.client = client
        yield site


def call(site, role: str, method: str, path: str, body: dict | None = None, expect: int = 200):
    response = site.client.request(method, f"/api/v1{path}", json=body,
                                   headers={"Authorization": f"Bearer {site.tokens[role]}"})
    assert response.status_code == expect, response.text
    return response.json()


def test_a_case_goes_from_receipt_to_witnessed_destruction_and_its_history_tells_it(site):
    sato, suzuki = site.people["佐藤 花子"], site.people["鈴木 一郎"]
    case = call(site, "manager", "POST", "/cases", {"number": "R8-00123", "received_on": "2026-04-01",
                                                    "kind": "renewal", "surveyor_id": sato,
                                                    "deadline": "2026-04-20"}, expect=201)
    assert (case["state"], case["retention_days"], case["surveyor"]) == ("received", 30, "佐藤 花子")
    site.clock.advance(days=5)
    call(site, "manager", "POST", f"/cases/{case['id']}/survey", {"on": "2026-04-06"})
    site.clock.advance(days=3)
    submitted = call(site, "manager", "POST", f"/cases/{case['id']}/submit", {"on": "2026-04-09"})
    assert submitted["retain_until"] == "2026-05-09"
    destroy = {"method": "shredder", "destroyed_by_id": sato, "witness_id": suzuki}
    refused = call(site, "manager", "POST", f"/cases/{case['id']}/destroy", destroy, expect=409)
    assert "retention" in refused["detail"]
    site.clock.advance(days=30)
    done = call(site, "manager", "POST", f"/cases/{case['id']}/destroy", destroy)
    assert (done["state"], done["destroy_method"], done["destroyed_by"], done["witness"]) == \
        ("destroyed", "shredder", "佐藤 花子", "鈴木 一郎")
    history = call(site, "auditor", "GET", f"/cases/{case['id']}/events")
    assert [(e["action"], e["by"]) for e in history] == [("received", "manager"), ("survey", "manager"),
                                                         ("submit", "manager"), ("destroy", "manager")]
    assert history[1]["at"].startswith("2026-04-06T10:00:00")
    assert history[3]["changes"]["witness_id"] == suzuki


def test_the_witness_must_be_somebody_other_than_the_destroyer(site):
    sato = site.people["佐藤 花子"]
    case = call(site, "manager", "POST", "/cases", {"number": "R8-00200", "received_on": "2026-03-01",
                                                    "kind": "new"}, expect=201)
    call(site, "manager", "POST", f"/cases/{case['id']}/withdraw", {"on": "2026-03-02", "reason": "区から取下げ"})
    site.clock.advance(days=40)
    refused = call(site, "manager", "POST", f"/cases/{case['id']}/destroy",
                   {"method": "dissolve", "destroyed_by_id": sato, "witness_id": sato}, expect=422)
    assert "witness" in refused["detail"]
    assert call(site, "manager", "GET", f"/cases/{case['id']}")["state"] == "withdrawn"


def test_a_correction_is_a_new_event_naming_the_wrong_one(site):
    case = call(site, "manager", "POST", "/cases", {"number": "R8-00300", "received_on": "2026-03-25",
                                                    "kind": "new"}, expect=201)
    call(site, "manager", "POST", f"/cases/{case['id']}/survey", {"on": "2026-03-31"})
    submitted = call(site, "manager", "POST", f"/cases/{case['id']}/submit", {"on": "2026-04-01"})
    wrong = submitted["history"][-1]
    fixed = call(site, "manager", "POST", f"/cases/{case['id']}/corrections",
                 {"corrects_id": wrong["id"], "changes": {"submitted_on": "2026-03-31"}, "reason": "提出日の記入誤り"},
                 expect=201)
    assert (fixed["submitted_on"], fixed["retain_until"]) == ("2026-03-31", "2026-04-30")
    assert [e["action"] for e in fixed["history"]] == ["received", "survey", "submit", "correct"]
    assert fixed["history"][2]["changes"]["submitted_on"] == "2026-04-01"  # the wrong event is still there
    assert (fixed["history"][3]["corrects_id"], fixed["history"][3]["reason"]) == (wrong["id"], "提出日の記入誤り")
    out_of_order = call(site, "manager", "POST", f"/cases/{case['id']}/corrections",
                        {"corrects_id": wrong["id"], "changes": {"submitted_on": "2026-03-20"}, "reason": "x"},
                        expect=422)
    assert "received ≤ surveyed ≤ submitted" in out_of_order["detail"]
    around = call(site, "manager", "POST", f"/cases/{case['id']}/corrections",
                  {"corrects_id": wrong["id"], "changes": {"withdrawn_on": "2026-04-01"}, "reason": "x"}, expect=422)
    assert "only what the event it corrects set" in around["detail"]


def test_no_client_can_change_or_delete_an_event(site):
    case = call(site, "manager", "POST", "/cases", {"number": "R8-00400", "received_on": "2026-03-25",
                                                    "kind": "change"}, expect=201)
    event_id = case["history"][0]["id"]
    with site.factory() as db:  # the ORM refuses
        event = db.get(CaseEvent, event_id)
        event.by_name = "誰か"
        with pytest.raises(PermissionError):
            db.flush()
    for statement in (update(CaseEvent).where(CaseEvent.id == event_id).values(by_name="誰か"),
                      delete(CaseEvent).where(CaseEvent.id == event_id)):
        with site.factory() as db, pytest.raises(DBAPIError, match="append-only"):  # so does the database
            db.execute(statement)
            db.commit()
    with site.factory() as db:
        assert db.execute(text("SELECT by_name FROM case_events WHERE id = :id"), {"id": event_id}).scalar() \
            == "manager"


def test_a_case_holds_no_personal_data(site):
    name = call(site, "manager", "POST", "/cases", {"number": "山田太郎", "received_on": "2026-03-25",
                                                    "kind": "new"}, expect=422)
    assert "never a name or address" in name["detail"]
    note = call(site, "manager", "POST", "/cases", {"number": "R8-00500", "received_on": "2026-03-25",
                                                    "kind": "new", "note": "連絡先 03-1234-5678"}, expect=422)
    assert "personal data" in note["detail"] and "phone" in note["detail"]


def test_only_the_surveyor_in_charge_records_the_survey_and_reception_sees_nothing(site):
    sato = site.people["佐藤 花子"]
    case = call(site, "manager", "POST", "/cases", {"number": "R8-00600", "received_on": "2026-03-25",
                                                    "kind": "new", "surveyor_id": sato}, expect=201)
    call(site, "receptionist", "GET", "/cases", expect=403)
    call(site, "auditor", "POST", f"/cases/{case['id']}/survey", {"on": "2026-03-30"}, expect=403)
    call(site, "surveyor", "POST", f"/cases/{case['id']}/survey", {"on": "2026-03-30"}, expect=403)
    with unit_of_work(site.factory) as db:
        db.execute(update(User).where(User.name == "surveyor").values(person_id=sato))
    assert call(site, "surveyor", "POST", f"/cases/{case['id']}/survey", {"on": "2026-03-30"})["state"] == "surveyed"


def test_the_book_filters_by_period_state_surveyor_kind_and_overdue(site):
    sato = site.people["佐藤 花子"]
    for number, received, kind, surveyor, deadline in [
            ("R8-01", "2026-03-01", "new", sato, "2026-03-20"), ("R8-02", "2026-03-10", "renewal", None, None),
            ("R8-03", "2026-02-01", "change", sato, "2026-05-01")]:
        call(site, "manager", "POST", "/cases", {"number": number, "received_on": received, "kind": kind,
                                                 "surveyor_id": surveyor, "deadline": deadline}, expect=201)

    def numbers(**params) -> list[str]:
        response = site.client.get("/api/v1/cases", params=params,
                                   headers={"Authorization": f"Bearer {site.tokens['auditor']}"})
        assert response.status_code == 200, response.text
        return [c["number"] for c in response.json()]

    assert numbers(since="2026-03-01", until="2026-03-31") == ["R8-01", "R8-02"]
    assert numbers(surveyor_id=sato) == ["R8-03", "R8-01"]
    assert numbers(kind="renewal") == ["R8-02"]
    assert numbers(overdue="true") == ["R8-01"]  # its deadline passed before 2026-04-01
    assert numbers(state="received", number="R8-0") == ["R8-03", "R8-01", "R8-02"]
