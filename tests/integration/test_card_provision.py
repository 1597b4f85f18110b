"""`mamori cards keygen / provision / require`, run as an operator would (a subprocess), with a blank FeliCa
Lite-S and a blank NTAG 424 DNA held to an nfcpy reader on the udp driver (tests/support/felica_lite_s.py,
ntag424.py)."""

from __future__ import annotations

import stat
from datetime import UTC, datetime

import nfc
import pytest

from gateway.readers.card_auth import read_auth
from server.audit.models import AuditEvent
from server.card_keys import felica, keyfile, sun
from server.db import make_engine, make_session_factory, unit_of_work
from server.people.models import Card, Person
from server.readers.models import Reader
from tests.integration.test_cli import mamori
from tests.support.felica_lite_s import CK, MC, FelicaLiteS
from tests.support.ntag424 import Ntag424Dna

pytestmark = pytest.mark.integration

IDM = "012E4CD7A1B2C3D6"
NTAG = "04A0B1C2D3E4F7"


def read_auth_on(device: str) -> dict:
    clf = nfc.ContactlessFrontend(device)
    try:
        return read_auth(clf.connect(rdwr={"targets": ["212F", "106A"], "on-connect": lambda tag: False}))
    finally:
        clf.close()


def test_blank_cards_are_given_their_keys_and_then_prove_themselves(database_url, tmp_path):
    keys_path = tmp_path / "card-keys.json"
    made = mamori(database_url, "cards", "keygen", str(keys_path))
    assert made.returncode == 0, made.stderr
    assert stat.S_IMODE(keys_path.stat().st_mode) == 0o600
    keys = keyfile.load(keys_path)
    factory = make_session_factory(make_engine(database_url))
    now = datetime.now(UTC)
    with unit_of_work(factory) as db:
        person = Person(name="記録 花子", key_holder=True, created_at=now)
        db.add(person)
        db.flush()
        db.add(Card(uid=IDM, person_id=person.id, created_at=now))
        db.add(Reader(id="cabinet-1", site="nerima", role="cabinet", name="キャビネット", created_at=now))

    with FelicaLiteS(IDM) as card:
        card.present()
        done = mamori(database_url, "cards", "provision", "--reader", card.device, "--timeout", "10",
                      MAMORI_CARD_KEYS_FILE=str(keys_path))
        assert done.returncode == 0, done.stderr
        assert f"provisioned card {IDM}" in done.stdout
        assert bytes(card.blocks[CK]) == felica.card_key_block(keys.felica_card_key(bytes.fromhex(IDM)))
        assert card.blocks[MC][2] == 0x00  # system blocks read-only: the key cannot be changed or read back

        again = mamori(database_url, "cards", "provision", "--reader", card.device, "--timeout", "10",
                       MAMORI_CARD_KEYS_FILE=str(keys_path))
        assert again.returncode == 1 and "locked already" in again.stderr

        auth = read_auth_on(card.device)
    assert auth["kind"] == "felica_lite_s_mac"
    assert felica.verify(keys.felica_card_key(bytes.fromhex(IDM)), bytes.fromhex(auth["rc"]),
                         bytes.fromhex(auth["id"]), bytes.fromhex(auth["mac"]))

    with Ntag424Dna(NTAG) as tag:  # blank: factory keys, SDM off, an empty NDEF file
        tag.present()
        done = mamori(database_url, "cards", "provision", "--reader", tag.device, "--timeout", "10",
                      MAMORI_CARD_KEYS_FILE=str(keys_path))
        assert done.returncode == 0, done.stderr
        assert f"provisioned card {NTAG} (ntag424_sun)" in done.stdout and "register it" in done.stderr
        uid = bytes.fromhex(NTAG)
        assert tag.keys == [keys.ntag424_app_key(uid), keys.ntag424_meta_key, keys.ntag424_file_key(uid),
                            bytes(16), bytes(16)]
        auth = read_auth_on(tag.device)
    assert sun.verify(keys.ntag424_meta_key, keys.ntag424_file_key, bytes.fromhex(auth["e"]),
                      bytes.fromhex(auth["c"]), uid) == sun.PiccData(uid, 1)

    required = mamori(database_url, "cards", "require", "--reader", "cabinet-1")
    assert required.returncode == 0, required.stderr
    with unit_of_work(factory) as db:
        assert db.get(Card, IDM).auth_kind == "felica_lite_s_mac"
        assert db.get(Reader, "cabinet-1").card_auth_required
        assert [e.action for e in db.query(AuditEvent).order_by(AuditEvent.id)] == ["card_auth_changed"] * 2
