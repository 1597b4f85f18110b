"""「わたしの持ち出し」 (/my): a surveyor's own items with their due times (overdue marked), their
devices waiting for the erasure confirmation, confirmed several at once (here and on /devices),
and when their training lapses. The pages on SQLite and PostgreSQL, with the ledger rows written
as the ingest writes them.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from server.accounts.models import User
from server.audit.models import AuditEvent
from server.checkouts.models import Checkout
from server.db import unit_of_work
from server.items.models import Item
from server.people.models import Person
from server.readers.models import Reader
from tests.support.web import PASSWORDS, Site, logged_in, page_client

pytestmark = pytest.mark.integration


@pytest.fixture
def site(database_url):
    site = Site(database_url)
    with page_client(site.app):
        yield site


def _ledger(site: Site, *, trained: date | None) -> dict[str, int]:
    """The surveyor (linked to 佐藤 花子) holds a folder (overdue) and a phone (due later); a second
    phone came back three times and waits for its confirmation; 鈴木's device waits too."""
    now = site.clock()
    with unit_of_work(site.factory) as db:
        db.add(Reader(id="cabinet-1", site="nerima", role="cabinet", name="書庫キャビネット 1", created_at=now))
        sato = Person(name="佐藤 花子", training_on=trained, created_at=now)
        suzuki = Person(name="鈴木 次郎", created_at=now)
        db.add_all([sato, suzuki])
        db.flush()
        db.scalars(select(User).where(User.name == "surveyor")).one().person_id = sato.id
        items = {label: Item(label=label, kind=kind, tag_uid=f"04A1B2C3D4E5{n:02X}", cabinet_id="cabinet-1",
                             encrypted=True, created_at=now)
                 for n, (label, kind) in enumerate([("ケースファイル R8-00123", "folder"), ("調査用携帯電話 1", "phone"),
                                                    ("調査用携帯電話 2", "phone"), ("USBメモリ 3", "media")])}
        db.add_all(items.values())
        db.flush()

        def loan(label: str, person: Person, hours_ago: float, due_in_h: float, back: bool) -> Checkout:
            out = now - timedelta(hours=hours_ago)
            row = Checkout(item_id=items[label].id, person_id=person.id, out_at=out, due_at=now + timedelta(hours=due_in_h),
                           out_scan_id=f"scan-{label}-{hours_ago}", returned_at=now - timedelta(minutes=30) if back else None,
                           erasure=("pending" if back else None) if items[label].kind != "folder" else None)
            db.add(row)
            return row

        rows = {"folder": loan("ケースファイル R8-00123", sato, 5, -1, False),
                "phone": loan("調査用携帯電話 1", sato, 1, 3, False),
                "back1": loan("調査用携帯電話 2", sato, 30, -20, True),
                "back2": loan("調査用携帯電話 2", sato, 20, -10, True),
                "theirs": loan("USBメモリ 3", suzuki, 10, -5, True)}
        db.flush()
        return {name: row.id for name, row in rows.items()}


def test_the_surveyor_sees_what_they_hold_what_waits_and_when_training_lapses(site):
    today = site.clock().astimezone(site.app.state.settings.zone).date()
    ids = _ledger(site, trained=today - timedelta(days=350))
    client, _csrf = logged_in(site.app, "surveyor", PASSWORDS["surveyor"])
    html = client.get("/my").text
    held = re.search(r'<section[^>]*id="held".*?</section>', html, re.S).group(0)
    assert held.index("ケースファイル R8-00123") < held.index("調査用携帯電話 1")  # by due time
    assert re.search(rf'<li id="held-{ids["folder"]}" class="my-overdue" data-overdue="1">', held)
    assert f'<li id="held-{ids["phone"]}">' in held and "期限超過" in held
    waiting = re.search(r'<section[^>]*id="waiting".*?</section>', html, re.S).group(0)
    assert waiting.count('name="checkout"') == 2 and "USBメモリ 3" not in waiting  # only their own
    lapses = today - timedelta(days=350) + timedelta(days=365)
    training = re.search(r'<section[^>]*id="training".*?</section>', html, re.S).group(0)
    assert f"{lapses:%Y/%m/%d}" in training and "まで有効" in training and 'class="late"' in training  # within 30 days


def test_lapsed_training_and_an_unlinked_account_say_so(site):
    today = site.clock().astimezone(site.app.state.settings.zone).date()
    _ledger(site, trained=today - timedelta(days=400))
    client, _csrf = logged_in(site.app, "surveyor", PASSWORDS["surveyor"])
    assert "期限切れ）：キャビネットを開けられません" in client.get("/my").text
    other, _csrf = logged_in(site.app, "receptionist", PASSWORDS["receptionist"])
    assert "紐付いていません" in other.get("/my").text


def test_several_devices_are_confirmed_erased_at_once_from_my_page(site):
    ids = _ledger(site, trained=None)
    client, csrf = logged_in(site.app, "surveyor", PASSWORDS["surveyor"])
    response = client.post("/devices/erased", data={"csrf": csrf, "back": "my",
                                                     "checkout": [str(ids["back1"]), str(ids["back2"])]})
    assert (response.status_code, response.headers["location"]) == (303, "/my?done=erased_many")
    page = client.get(response.headers["location"]).text
    assert "選んだ端末の調査データ消去を確認しました" in page and 'name="checkout"' not in page
    with site.factory() as db:
        done = db.scalars(select(Checkout).where(Checkout.id.in_([ids["back1"], ids["back2"]]))).all()
        assert {(c.erasure, c.erased_by) for c in done} == {("done", "surveyor")}
        assert len(db.scalars(select(AuditEvent).where(AuditEvent.action == "checkout_erased")).all()) == 2


def test_confirming_several_stops_whole_when_one_is_not_theirs(site):
    ids = _ledger(site, trained=None)
    client, csrf = logged_in(site.app, "surveyor", PASSWORDS["surveyor"])
    response = client.post("/devices/erased", data={"csrf": csrf, "back": "my",
                                                     "checkout": [str(ids["back1"]), str(ids["theirs"])]})
    assert response.status_code == 403 and "本人（持ち出した職員）または管理責任者のみ" in response.text
    with site.factory() as db:
        assert db.get(Checkout, ids["back1"]).erasure == "pending"  # nothing half done
    nothing = client.post("/devices/erased", data={"csrf": csrf, "back": "my"})
    assert nothing.headers["location"] == "/my?problem=none_chosen#waiting"
    assert "確認する端末に印を付けてください" in client.get(nothing.headers["location"]).text
    no_token = client.post("/devices/erased", data={"back": "my", "checkout": [str(ids["back1"])]})
    assert no_token.status_code == 403


def test_a_manager_confirms_every_waiting_device_at_once_on_the_devices_page(site):
    ids = _ledger(site, trained=None)
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    html = client.get("/devices").text
    assert html.count('name="checkout"') == 3 and 'id="confirm-chosen"' in html
    chosen = [str(ids["back1"]), str(ids["back2"]), str(ids["theirs"])]
    response = client.post("/devices/erased", data={"csrf": csrf, "back": "devices", "checkout": chosen})
    assert response.headers["location"] == "/devices?done=erased_many"
    assert "消去の確認待ちの端末はありません" in client.get("/devices").text
