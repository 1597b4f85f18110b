"""The issue's "done when" for the alert flood, in Chromium at 1280×800: after what the demo makes in
half an hour, the dashboard shows each problem once, most severe first, with no code or card number,
and the whole alert list fits on the screen — in Japanese and in English."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import expect

from gateway.simulator import SimulatedReader
from server.alerts.overdue import open_level_alerts
from tests.browser import shots
from tests.browser.test_dashboard import FOLDER_TAG, STAFF_CARD, TOKYO, api

pytestmark = pytest.mark.browser

TRAINEE_CARD = "012E4CD8F1A2B3C5"
UNKNOWN_CARD = "0A1B2C3D"
HEX_UID = re.compile(r"\b[0-9A-Fa-f]{8,}\b")
SNAKE_CODE = re.compile(r"\b[a-z]+_[a-z_]+\b")
VIEWPORT = {"width": 1280, "height": 800}
QUIET = {"overdue_check_s": 3600, "escalate_after_min": 10**6, "lost_prompt_after_h": 10**4}


def flood(office) -> SimulatedReader:
    """15 denials of one person whose training lapsed, an unknown card, a forced cabinet door, and a
    folder out since yesterday, overdue and chased (督促) — through one simulated reader, as the demo does.
    Returns the reader, still running (stopped, its Last Will would be one more alert)."""
    api(office, "POST", "/readers", {"id": "cabinet-1", "site": "nerima", "role": "cabinet", "name": "書類保管庫"})
    api(office, "POST", "/items", {"label": "調査ファイル R8-00123", "kind": "folder", "tag_uid": FOLDER_TAG,
                                   "cabinet": "cabinet-1", "encrypted": False, "case": "R8-00123"})
    for name, card, trained in (("鈴木 一郎", STAFF_CARD, 30), ("田中 一郎", TRAINEE_CARD, 400)):
        api(office, "POST", "/people", {"name": name, "card_uid": card, "key_holder": True,
                                        "training_on": (date.today() - timedelta(days=trained)).isoformat(),
                                        "roles": ["surveyor"]})
    office.wait_connected()
    reader = SimulatedReader(office.settings.mqtt_url, "nerima", "cabinet-1").start()
    now = datetime.now(TOKYO).replace(microsecond=0)
    yesterday = (now - timedelta(days=1)).replace(hour=9, minute=12, second=0)
    ids = [reader.tap(STAFF_CARD, at=yesterday), reader.tap(FOLDER_TAG, tech="iso14443a",
                                                            at=yesterday + timedelta(seconds=20))]
    ids += [reader.tap(TRAINEE_CARD, at=now - timedelta(minutes=30 - 2 * n)) for n in range(15)]
    ids.append(reader.tap(UNKNOWN_CARD, at=now - timedelta(minutes=8)))
    ids.append(reader.event("door_open", at=now - timedelta(minutes=5)))
    assert reader.wait_acked(ids, timeout=20), "the server did not acknowledge the flood"
    with office.db() as db:
        for level, severity in (("overdue", "medium"), ("escalated", "high")):
            open_level_alerts(db, datetime.now(TOKYO), office.settings.zone, level, timedelta(0), severity)
    return reader


def check_the_list(page, count_word: str) -> None:
    alerts = page.get_by_role("region", name=re.compile("アラート|alerts", re.I))
    rows = alerts.locator("tr.alert-entry")
    expect(rows).to_have_count(4)
    assert [rows.nth(n).get_attribute("data-severity") for n in range(4)] == ["high", "high", "high", "medium"]
    expect(rows.nth(3)).to_contain_text(count_word)  # the 15 denials, one entry
    text = page.locator("body").inner_text()
    assert HEX_UID.findall(text) == [], "a card number is on the page"
    assert SNAKE_CODE.findall(text) == [], "an internal code is on the page"
    box = alerts.bounding_box()
    assert box is not None and box["y"] + box["height"] <= VIEWPORT["height"], \
        f"the alert list ends at {box['y'] + box['height']:.0f} px, below the 800 px screen"


def test_after_the_flood_each_problem_shows_once_most_severe_first_on_one_screen(start_office, new_context):
    office = start_office(**QUIET)
    reader = flood(office)
    try:
        look_at_the_dashboard(office, new_context)
    finally:
        reader.stop()


def look_at_the_dashboard(office, new_context) -> None:
    page = new_context(viewport=VIEWPORT).new_page()
    office.login(page, "manager")
    check_the_list(page, "15回")
    alerts = page.get_by_role("region", name=re.compile("アラート"))
    expect(alerts).to_contain_text("未登録のカード")
    expect(alerts.locator("tr.alert-entry").first).to_contain_text("督促")
    shots.save(page, "dashboard-ja")

    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    check_the_list(page, "15 times")
    expect(page.get_by_role("region", name=re.compile("alerts", re.I))).to_contain_text("unknown card")
    shots.save(page, "dashboard-en")

    page.get_by_role("region", name=re.compile("alerts", re.I)).get_by_role("link", name="See each time").click()
    expect(page.locator("tbody tr")).to_have_count(15)
    shots.save(page, "alert-occurrences-en")
    assert SNAKE_CODE.findall(page.locator("body").inner_text()) == []
