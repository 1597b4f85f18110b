"""The dashboard's alert list after a flood: each problem once, the most severe first, in words only.

Real scans over Mosquitto for the denials, the unknown cards and the forced door; the chase's own
function for the overdue levels; SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest

from server.alerts.overdue import open_level_alerts
from server.db import unit_of_work
from tests.integration import test_dashboard
from tests.integration.test_dashboard import browser, csrf_of, overdue_folder, panel

office = test_dashboard.office  # the dashboard's office: its accounts, and the web's clock held still

pytestmark = pytest.mark.integration

TRAINEE = "田中 一郎"
TRAINEE_CARD = "012E4CD8F1A2B3C5"
UNKNOWN_CARDS = ["0A1B2C3D", "0A1B2C3E", "0A1B2C3F"]
HEX_UID = re.compile(r"\b[0-9A-Fa-f]{8,}\b")
SNAKE_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")


def words(html: str) -> str:
    """What a person reads: the text without tags."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def entries(html: str) -> list[str]:
    return re.findall(r'<tr id="alert-(\d+)" class="alert-entry', html)


def flood(office) -> dict[str, int]:
    """What the demo makes in half an hour: 15 denials of one person, unknown cards, a forced door, and
    a folder overdue since yesterday and chased (督促). Returns the alert id of each problem."""
    cabinet, checkout = overdue_folder(office)
    office.add_person(TRAINEE, TRAINEE_CARD, key_holder=True, training_on=date.today() - timedelta(days=400))
    now = datetime.now(UTC).replace(microsecond=0)
    ids = [cabinet.tap(TRAINEE_CARD, at=now - timedelta(minutes=30) + timedelta(minutes=n)) for n in range(15)]
    ids += [cabinet.tap(uid, at=now - timedelta(minutes=10, seconds=-20 * n)) for n, uid in enumerate(UNKNOWN_CARDS)]
    assert cabinet.wait_acked(ids, timeout=20)
    door = cabinet.event("door_open", at=now - timedelta(minutes=5))
    assert cabinet.wait_acked(door)
    with unit_of_work(office.factory) as db:
        for level, severity in (("overdue", "medium"), ("escalated", "high")):
            open_level_alerts(db, office.clock(), office.settings.zone, level, timedelta(0), severity)
    found = {}
    for alert in office.get("/alerts", state="open"):
        found[alert["reason"] or alert["type"]] = alert["id"]
    assert set(found) == {"training_expired", "unknown_card", "door_forced", "overdue", "escalated"}
    assert checkout
    return found


def test_the_flood_is_four_entries_most_severe_first_with_no_code_or_card_number(office):
    ids = flood(office)
    client = browser(office, "manager")
    html = panel(client.get("/dashboard").text, "dash-alerts-h")
    # The overdue folder is one entry at its level 督促; high before medium, newest first within.
    assert entries(html) == [str(ids[k]) for k in ("escalated", "door_forced", "unknown_card", "training_expired")]
    text = words(html)
    assert "4件" in text
    assert "15回" in text and "3回" in text and TRAINEE in text and "教育の期限切れ" in text
    assert "未登録のカード" in text and "返却期限超過 督促 紛失の疑い" in text
    assert HEX_UID.findall(text) == [] and SNAKE_CODE.findall(text) == []

    # Acknowledged, the 督促 stays first (high) although the medium denials go on.
    response = client.post(f"/alerts/{ids['escalated']}/acknowledge",
                           data={"csrf": csrf_of(client.get("/dashboard").text), "note": "本人に電話済み"})
    assert response.status_code == 303
    cabinet = office.readers[0]
    assert cabinet.wait_acked(cabinet.tap(TRAINEE_CARD))
    html = panel(client.get("/dashboard").text, "dash-alerts-h")
    assert entries(html)[0] == str(ids["escalated"]) and entries(html)[-1] == str(ids["training_expired"])
    first = html[:html.index(f'id="alert-{ids["door_forced"]}"')]
    assert "確認済み" in first and "田中 管理" in first and "本人に電話済み" in first and "（確認）" in first
    assert "16回" in words(html) and "acknowledged" not in words(html)

    # Resolving the folder's entry resolves its earlier level too: the problem leaves the list.
    client.post(f"/alerts/{ids['escalated']}/resolve", data={"csrf": csrf_of(client.get("/dashboard").text)})
    open_now = {a["id"] for a in office.get("/alerts", state="open") + office.get("/alerts", state="acknowledged")}
    assert ids["escalated"] not in open_now and ids["overdue"] not in open_now
    assert len(entries(panel(client.get("/dashboard").text, "dash-alerts-h"))) == 3


def test_the_list_behind_a_folded_alert_names_each_time_reader_and_reason(office):
    ids = flood(office)
    client = browser(office, "auditor")
    html = client.get(f"/alerts/{ids['training_expired']}").text
    rows = re.findall(r"<tr><td class=\"dash-when\">", html)
    assert len(rows) == 15
    text = words(html)
    assert text.count("教育の期限切れ") >= 15 and "cabinet-1" in text and TRAINEE in text
    assert TRAINEE_CARD not in text and SNAKE_CODE.findall(text) == []
    client.get("/language/en")
    text = words(client.get(f"/alerts/{ids['unknown_card']}").text)
    assert text.count("unknown card") >= 3 and "3 times" in text
    assert not any(uid in text for uid in UNKNOWN_CARDS)
    assert client.get("/alerts/999999").status_code == 404
