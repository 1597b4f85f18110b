"""`mamori cards keygen / provision / require`, run as an operator would (a subprocess), with a blank FeliCa
Lite-S held to an nfcpy reader on the udp driver (tests/support/felica_lite_s.py)."""

from __future__ import annotations

import stat
from datetime import UTC, datetime

import nfc
import pytest

from gateway.readers.card_auth import read_auth
from server.audit.models import AuditEvent
from server.card_keys import felica, keyfile
from server.db import make_engine, make_session_factory, unit_of_work
from server.people.models import Card, Person
from server.readers.models import Reader
from tests.integration.test_cli import mamori
from tests.support.felica_lite_s import CK, MC, FelicaLiteS

pytestmark = pytest.mark.integration

IDM = "012E4CD7A1B2C3D6"


def test_a_blank_felica_lite_s_is_given_its_key_and_then_proves_itself(database_url, tmp_path):
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

        clf = nfc.ContactlessFrontend(card.device)
        try:
            tag = clf.connect(rdwr={"targets": ["212F"], "on-connect": lambda tag: False})
            auth = read_auth(tag)
        finally:
            clf.close()
    assert auth["kind"] == "felica_lite_s_mac"
    assert felica.verify(keys.felica_card_key(bytes.fromhex(IDM)), bytes.fromhex(auth["rc"]),
                         bytes.fromhex(auth["id"]), bytes.fromhex(auth["mac"]))

    required = mamori(database_url, "cards", "require", "--reader", "cabinet-1")
    assert required.returncode == 0, required.stderr
    with unit_of_work(factory) as db:
        assert db.get(Card, IDM).auth_kind == "felica_lite_s_mac"
        assert db.get(Reader, "cabinet-1").card_auth_required
        assert [e.action for e in db.query(AuditEvent).order_by(AuditEvent.id)] == ["card_auth_changed"] * 2
