"""Card and tag uids are what a cloner needs: only admins and managers read them whole (API and pages)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from server.accounts.models import ROLES
from server.accounts.service import create_token
from server.alerts.models import Alert
from server.audit.models import AuditEvent
from server.audit.service import record
from server.db import unit_of_work
from server.ledger.models import DeadLetter, ScanRecord
from tests.support.web import PASSWORDS, Site, logged_in, page_client

pytestmark = pytest.mark.integration

CARD, BADGE, TAG, STRANGER = "04A1B2C3D4E5F6", "0BADCAFE0001", "7A6B5C4D3E2F", "DEADBEEF1234"
OTHER_BADGE = "0BADCAFE0002"  # only ever in an audit entry
SEE_ALL = ("admin", "manager")


@pytest.fixture
def office(database_url):
    site = Site(database_url)
    with page_client(site.app) as client:
        now = datetime.now(UTC)
        with unit_of_work(site.factory) as db:
            site.tokens = {role: create_token(db, role, now) for role in ROLES}
        site.api = client
        admin = {"Authorization": f"Bearer {site.tokens['admin']}"}
        for path, body in (("/readers", {"id": "cab-1", "site": "nerima", "role": "cabinet", "name": "書庫"}),
                           ("/people", {"name": "佐藤 花子", "card_uid": CARD}),
                           ("/visitor-badges", {"uid": BADGE, "label": "来訪者1"}),
                           ("/items", {"label": "調査票A", "kind": "folder", "tag_uid": TAG, "cabinet": "cab-1"}),
                           ("/visits", {"visitor_name": "山田 太郎", "badge_uid": BADGE})):
            assert client.post(f"/api/v1{path}", json=body, headers=admin).status_code == 201
        with unit_of_work(site.factory) as db:
            db.add(ScanRecord(id="scan-1", reader_id="cab-1", uid=STRANGER, tech="iso14443a", at=now, received_at=now,
                              fresh=True, result="deny", reason="unknown_card"))
            db.add(Alert(type="unknown_card", severity="warning", opened_at=now, subject=f"書庫: {STRANGER} (unknown)"))
            db.add(DeadLetter(topic="mamori/v1/nerima/cab-1/scan", payload=f'{{"uid":"{STRANGER}"}}'.encode(),
                              reason="schema", detail="", received_at=now, last_received_at=now))
        yield site


def _read_all(client: TestClient, headers: dict) -> str:
    paths = ["/people", "/visitor-badges", "/items", "/scans", "/visits", "/alerts"]
    bodies = []
    for path in paths:
        response = client.get(f"/api/v1{path}", headers=headers)
        assert response.status_code == 200, (path, response.text)
        bodies.append(response.text)
    return "\n".join(bodies)


@pytest.mark.parametrize("role", ROLES)
def test_the_api_shows_whole_uids_only_to_admins_and_managers(office, role):
    text = _read_all(office.api, {"Authorization": f"Bearer {office.tokens[role]}"})
    for uid in (CARD, BADGE, TAG, STRANGER):
        if role in SEE_ALL:
            assert uid in text, (role, uid)
        else:
            assert uid not in text, (role, uid)
            assert "****" + uid[-4:] in text, (role, uid)


def test_an_auditor_reads_refused_payloads_with_the_uid_masked(office):
    auditor = {"Authorization": f"Bearer {office.tokens['auditor']}"}
    [letter] = office.api.get("/api/v1/dead-letters", headers=auditor).json()
    assert letter["payload"] == '{"uid":"****1234"}'
    manager = {"Authorization": f"Bearer {office.tokens['manager']}"}
    assert STRANGER in office.api.get("/api/v1/dead-letters", headers=manager).json()[0]["payload"]


@pytest.mark.parametrize("role", ["receptionist", "auditor"])
def test_pages_show_a_masked_uid_to_other_roles(office, role):
    client, _ = logged_in(office.app, role, PASSWORDS[role])
    page = client.get("/admin/badges")
    assert page.status_code == 200
    assert "****0001" in page.text and f"<code>{BADGE}</code>" not in page.text


def test_a_manager_sees_whole_uids_on_the_pages(office):
    client, _ = logged_in(office.app, "manager", PASSWORDS["manager"])
    assert f"<code>{TAG}</code>" in client.get("/admin/items").text
    assert f"<code>{CARD}</code>" in client.get("/admin/people").text


def test_the_audit_log_and_the_dashboard_mask_uids_for_an_auditor(office):
    client, _ = logged_in(office.app, "auditor", PASSWORDS["auditor"])
    assert STRANGER not in client.get("/dashboard").text  # the unknown card's alert
    manager, _ = logged_in(office.app, "manager", PASSWORDS["manager"])
    with unit_of_work(office.factory) as db:  # an entry written before facts were kept: plain text
        db.add(AuditEvent(at=datetime.now(UTC), actor="manager", action="badge_added", detail=f"badge {BADGE} 来所者1"))
    audit = client.get("/audit").text
    assert "****0001" in audit and BADGE not in audit
    assert BADGE in manager.get("/audit").text
    with unit_of_work(office.factory) as db:  # facts name a card by its last four digits, for everyone
        record(db, datetime.now(UTC), "badge_added", "manager", {"card": OTHER_BADGE, "label": "来所者2"})
    assert OTHER_BADGE not in manager.get("/audit").text and OTHER_BADGE not in client.get("/audit").text
