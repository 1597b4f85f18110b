"""The small ones from trying mamori as a new user: the readers' 最終受信 follows the taps, /lost finds
an item by what a person knows of it, and a wrong password keeps
the user name typed in. The pages on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from server.db import unit_of_work
from server.items.models import Item
from server.ledger.models import ReaderEvent, ScanRecord
from server.readers.models import Reader
from tests.support.web import PASSWORDS, Site, hidden, logged_in, page_client

pytestmark = pytest.mark.integration


@pytest.fixture
def site(database_url):
    site = Site(database_url)
    with page_client(site.app):
        yield site


def reader_row(html: str, reader_id: str) -> str:
    return re.search(rf'<tr id="reader-{reader_id}">.*?</tr>', html, re.S).group(0)


def test_last_heard_moves_with_the_taps_not_only_the_status(site):
    now = site.clock()  # 09:30 in Tokyo
    with unit_of_work(site.factory) as db:
        db.add_all([Reader(id="entrance-1", site="nerima", role="entrance", name="正面入口", online=True,
                           last_seen_at=now - timedelta(hours=1, minutes=30), created_at=now),
                    Reader(id="cabinet-1", site="nerima", role="cabinet", name="書庫", created_at=now)])
        db.flush()
        db.add_all([ScanRecord(id=f"scan-{n}", reader_id="entrance-1", uid="0123456789ABCDEF", tech="felica",
                               at=now - timedelta(minutes=n), received_at=now - timedelta(minutes=n), fresh=True,
                               result="accept", action="entry") for n in (5, 20)])
        db.add(ReaderEvent(id="door-1", reader_id="cabinet-1", type="door_open", at=now - timedelta(minutes=2),
                           received_at=now - timedelta(minutes=2)))
    client, _csrf = logged_in(site.app, "admin", PASSWORDS["admin"])
    page = client.get("/admin/readers").text
    assert "09:25" in reader_row(page, "entrance-1") and "08:00" not in reader_row(page, "entrance-1")
    assert "09:28" in reader_row(page, "cabinet-1")  # no status ever, but its door spoke
    assert "09:25" in client.get("/dashboard").text


def test_a_wrong_password_keeps_the_user_name(site):
    client = page_client(site.app)
    form = client.get("/login").text
    wrong = client.post("/login", data={"name": "receptionist", "password": "Wrong-Pass-2026",
                                        "csrf": hidden(form, "csrf"), "next": ""})
    assert wrong.status_code == 401
    assert re.search(r'<input id="name" name="name"[^>]*value="receptionist"', wrong.text)
    assert re.search(r'<input id="password"[^>]*autofocus', wrong.text)
    assert "Wrong-Pass-2026" not in wrong.text


def test_lost_finds_an_item_by_its_name_or_case_number_and_asks_which_when_several_match(site):
    now = site.clock()
    with unit_of_work(site.factory) as db:
        db.add(Reader(id="cabinet-1", site="nerima", role="cabinet", name="書庫", created_at=now))
        db.flush()
        db.add_all([Item(label=f"ケースファイル {case}", kind="folder", tag_uid=f"04A1B2C3D4E5{n:02X}",
                         cabinet_id="cabinet-1", case_number=case, created_at=now)
                    for n, case in enumerate(["R8-00123", "R8-00124"])])
    client, _csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    one = client.get("/lost/mark", params={"item": "r8-00124"})
    assert one.status_code == 200 and 'id="mark-lost"' in one.text and "ケースファイル R8-00124" in one.text
    several = client.get("/lost/mark", params={"item": "ケースファイル"})
    choices = re.search(r'<div id="lost-choices".*?</div>', several.text, re.S).group(0)
    assert "2 件見つかりました" in choices and choices.count('href="/lost/mark?item=') == 2
    chosen = re.search(r'href="(/lost/mark\?item=\d+)">ケースファイル R8-00123<', choices).group(1)
    assert "ケースファイル R8-00123" in client.get(chosen).text
    none = client.get("/lost/mark", params={"item": "ノートPC"})
    assert none.status_code == 422
    assert re.search(r'<p class="field-error" id="f-item-error">この名前・番号の物品は見つかりません', none.text)
