"""Cards that cannot be copied, through Mosquitto and the ingest, on SQLite and PostgreSQL: genuine proofs
open, a copy (a replayed SUN message or FeliCa read, a missing or forged proof) is denied clone_suspected with
a high alert; a late scan from an outbox fits between; a rewind keeps each tap's judgment."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from gateway.simulator import SimulatedReader
from server.allowlists.publisher import allowed_uids
from server.card_keys import felica, keyfile, service
from server.card_keys.models import CardCheck
from server.checkouts.models import CabinetSession
from server.db import unit_of_work
from tests.support.ntag424 import sun_url
from tests.support.office import ADMIN_PASSWORD, SITE, Office
from tests.support.web import logged_in

pytestmark = pytest.mark.integration

NTAG = "04A0B1C2D3E4F5"  # 花子's NTAG 424 DNA card
FELICA = "012E4CD7A1B2C3D5"  # 次郎's FeliCa Lite-S card
PLAIN = "0123456789ABCDEF"  # 三郎's plain FeliCa Standard card
TODAY = datetime.now(UTC).date()


@pytest.fixture
def secured(database_url, broker, tmp_path):
    path = tmp_path / "card-keys.json"
    keys = keyfile.write_new(path)
    with Office(database_url, broker.url, card_keys_file=str(path)) as office:
        office.wait_connected()
        # Required before the reader is first heard from: the ingest keeps what it knows of a reader for 30 s.
        office.post("/readers", {"id": "cabinet-1", "site": SITE, "role": "cabinet", "name": "キャビネット"})
        with unit_of_work(office.factory) as db:
            service.require_at_reader(db, datetime.now(UTC), "test", "cabinet-1", True)
        cabinet = SimulatedReader(office.mqtt_url, SITE, "cabinet-1", resend_after=2.0).start()
        office.readers.append(cabinet)
        entrance = office.add_reader("entrance-1", "entrance")
        trained = TODAY - timedelta(days=30)
        hanako = office.add_person("記録 花子", NTAG, key_holder=True, training_on=trained)
        jiro = office.add_person("調査 次郎", FELICA, key_holder=True, training_on=trained)
        saburo = office.add_person("調査 三郎", PLAIN, key_holder=True, training_on=trained)
        for uid, kind in ((NTAG, "ntag424_sun"), (FELICA, "felica_lite_s_mac")):
            answer = office.client.put(f"/api/v1/card-auth/cards/{uid}", json={"kind": kind}, headers=office.headers)
            assert answer.status_code == 200, answer.text
        assert office.client.put("/api/v1/card-auth/cards/0A0B0C0D", json={"kind": None},
                                 headers=office.headers).status_code == 404
        yield office, keys, cabinet, entrance, (hanako, jiro, saburo)


def sun(keys, counter: int) -> dict:
    url = sun_url(keys.ntag424_meta_key, keys.ntag424_file_key(bytes.fromhex(NTAG)), bytes.fromhex(NTAG), counter)
    e, c = url.split("e=")[1].split("&c=")
    return {"kind": "ntag424_sun", "e": e, "c": c}


def felica_read(keys, card_key: bytes | None = None) -> dict:
    rc, id_block = os.urandom(16), bytes.fromhex(FELICA) + bytes(8)
    mac = felica.read_mac(card_key or keys.felica_card_key(bytes.fromhex(FELICA)), rc, id_block)
    return {"kind": "felica_lite_s_mac", "rc": rc.hex(), "id": id_block.hex(), "mac": mac.hex()}


def outcome(reader, scan_id: str) -> tuple:
    decision = reader.wait_decision(scan_id)
    assert decision is not None, f"no decision for {scan_id}"
    return decision.result, decision.reason


def test_genuine_cards_open_and_copies_are_refused(secured):
    office, keys, cabinet, entrance, (hanako, jiro, saburo) = secured
    first = sun(keys, 1)
    assert outcome(cabinet, cabinet.tap(NTAG, "iso14443a", auth=first)) == ("unlock", None)
    copied = cabinet.tap(NTAG, "iso14443a", auth=first)  # the same message again: a copy replaying it
    assert outcome(cabinet, copied) == ("deny", "clone_suspected")
    assert outcome(cabinet, cabinet.tap(NTAG, "iso14443a", auth=sun(keys, 2))) == ("unlock", None)
    skimmed = sun(keys, 3)  # read by somebody's phone, never shown to mamori
    assert outcome(cabinet, cabinet.tap(NTAG, "iso14443a", auth=sun(keys, 4))) == ("unlock", None)
    assert outcome(cabinet, cabinet.tap(NTAG, "iso14443a", auth=skimmed)) == ("deny", "clone_suspected")
    no_proof = cabinet.tap(NTAG, "iso14443a")  # a copy that cannot even pretend
    assert outcome(cabinet, no_proof) == ("deny", "clone_suspected")
    wrong_keys = sun(keyfile.generate(), 9)
    assert outcome(entrance, entrance.tap(NTAG, "iso14443a", auth=wrong_keys)) == ("deny", "clone_suspected")
    assert outcome(entrance, entrance.tap(NTAG, "iso14443a", auth=sun(keys, 5))) == ("accept", None)

    read = felica_read(keys)
    assert outcome(cabinet, cabinet.tap(FELICA, auth=read)) == ("unlock", None)
    assert outcome(cabinet, cabinet.tap(FELICA, auth=read)) == ("deny", "clone_suspected")  # a forged read
    forged = felica_read(keys, card_key=os.urandom(16))
    assert outcome(cabinet, cabinet.tap(FELICA, auth=forged)) == ("deny", "clone_suspected")
    assert outcome(cabinet, cabinet.tap(PLAIN)) == ("unlock", None)  # a plain card is still a plain card

    alerts = [a for a in office.get("/alerts", state="open") if a["type"] == "clone_suspected"]
    assert {a["severity"] for a in alerts} == {"high"}
    assert sorted((a["person_id"], a["count"]) for a in alerts) == sorted([(hanako["id"], 4), (jiro["id"], 2)])

    # On the dashboard: the alert in words, the holder's name, never the card's number; the settings in the audit log.
    client, _csrf = logged_in(office.app, "kanri", ADMIN_PASSWORD)
    html = client.get("/dashboard").text
    assert "複製カードの疑い" in html and "記録 花子" in html and NTAG not in html
    audit = client.get("/audit").text
    assert audit.count("カード認証の設定変更") >= 3 and "FeliCa Lite-S（カード鍵による認証）" in audit

    # A person marked so must prove every tap: a plain card of theirs cannot, and is off the offline allowlists.
    with unit_of_work(office.factory) as db:
        assert PLAIN in allowed_uids(db, today=TODAY, until=TODAY, training_valid_days=365)
        service.require_for_person(db, datetime.now(UTC), "test", saburo["id"], True)
    assert outcome(entrance, entrance.tap(PLAIN)) == ("deny", "clone_suspected")
    with unit_of_work(office.factory) as db:
        assert PLAIN not in allowed_uids(db, today=TODAY, until=TODAY, training_valid_days=365)


def test_a_late_scan_fits_between_and_a_rewind_keeps_each_judgment(secured):
    office, keys, cabinet, _entrance, _people = secured
    now = datetime.now(UTC)
    early, late = now - timedelta(minutes=3), now - timedelta(minutes=1)
    genuine = [cabinet.tap(NTAG, "iso14443a", at=early, auth=sun(keys, 10)),
               cabinet.tap(NTAG, "iso14443a", at=late, auth=sun(keys, 12))]
    replayed = cabinet.tap(NTAG, "iso14443a", at=late + timedelta(seconds=5), auth=sun(keys, 10))
    assert cabinet.wait_acked([*genuine, replayed])
    # A scan kept in another reader's outbox, made between the two: its counter lies between, so it is genuine.
    from_outbox = cabinet.tap(NTAG, "iso14443a", at=early + timedelta(minutes=1), auth=sun(keys, 11))
    # An earlier tap of the plain card rewinds the cabinet: the stored scans are applied again.
    rewinding = cabinet.tap(PLAIN, at=early - timedelta(seconds=30))
    assert cabinet.wait_acked([from_outbox, rewinding])
    with unit_of_work(office.factory) as db:
        checks = {row.scan_id: (row.ok, row.why, row.counter) for row in db.scalars(select(CardCheck))}
        # The rewind made the sessions again from the stored scans: each genuine tap opened one, the copy none.
        openers = set(db.scalars(select(CabinetSession.scan_id)))
    assert openers == {rewinding, *genuine, from_outbox}
    assert checks == {genuine[0]: (True, None, 10), from_outbox: (True, None, 11), genuine[1]: (True, None, 12),
                      replayed: (False, "old_counter", None)}
    scans = {s["id"]: (s["result"], s["reason"]) for s in office.get("/scans", limit=50)}
    assert scans[replayed] == ("deny", "clone_suspected") and scans[from_outbox][0] == "unlock"
    [alert] = [a for a in office.get("/alerts") if a["type"] == "clone_suspected"]
    assert alert["count"] == 1 and alert["state"] == "open"  # the rewind did not judge anything again
