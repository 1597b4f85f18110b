"""Cards that cannot be copied, from the card to the lock: the real gateway on nfcpy's udp driver, emulated
NTAG 424 DNA and FeliCa Lite-S cards (tests/support/ntag424.py, felica_lite_s.py) and their copies, a real
Mosquitto, the server with the office's card keys, and gpiozero's mock relay.

A genuine card's scan carries its proof and opens; a copy (the same UID and a replayed SUN message, or the
same IDm answering the MAC it once saw) is denied clone_suspected and the relay stays shut. With `-s` it
prints the tap → relay time with verification on (docs/performance.md).
"""

from __future__ import annotations

import os
import statistics
import time
from datetime import UTC, date, datetime, timedelta

import pytest
import yaml

from gateway.app import Gateway
from server.card_keys import felica, keyfile, service
from server.db import unit_of_work
from server.readers.models import Reader
from tests.support.databases import migrated_sqlite
from tests.support.felica_lite_s import FelicaLiteS, FelicaLiteSCopy
from tests.support.gateway import CABINET_KEY, SHIPPED, config_for, lock_open, wait_for
from tests.support.nfc_udp import Field
from tests.support.ntag424 import Ntag424Copy, Ntag424Dna
from tests.support.office import SITE, Office

pytestmark = pytest.mark.integration

NTAG = "04A0B1C2D3E4F5"
IDM = "012E4CD7A1B2C3D5"
TAPS = 3  # of each genuine card: enough for a figure, short on a shared machine


@pytest.fixture
def office(tmp_path, broker):
    keys_path = tmp_path / "card-keys.json"
    keyfile.write_new(keys_path)
    with Office(migrated_sqlite(tmp_path / "mamori.db"), broker.url, unlock_s=1,
                card_keys_file=str(keys_path)) as office:
        office.wait_connected()
        office.post("/readers", {"id": "cabinet-1", "site": SITE, "role": "cabinet", "name": "キャビネット"})
        trained = date.today() - timedelta(days=30)
        office.add_person("記録 花子", NTAG, key_holder=True, training_on=trained)
        office.add_person("調査 次郎", IDM, key_holder=True, training_on=trained)
        now = datetime.now(UTC)
        with unit_of_work(office.factory) as db:
            db.get(Reader, "cabinet-1").allowlist_key = CABINET_KEY
            service.require_at_reader(db, now, "test", "cabinet-1", True)
            service.mark_card(db, now, "test", NTAG, "ntag424_sun")
            service.mark_card(db, now, "test", IDM, "felica_lite_s_mac")
        office.keys = keyfile.load(keys_path)
        yield office


@pytest.fixture
def nfc_gateway(office, broker, pins, tmp_path):
    with Field() as field:
        shipped = yaml.safe_load((SHIPPED / "cabinet.yaml").read_text(encoding="utf-8"))["card_reader"]
        config = config_for("cabinet.yaml", tmp_path, broker_url=broker.url, card_reader={**shipped,
                            "device": field.device}, allowlist_key=CABINET_KEY)
        gateway = Gateway(config).start()
        try:
            wait_for(gateway.publisher.connected.is_set, what="the gateway to reach the broker")
            assert field.wait_absence_noticed(5), "the gateway's reader is not polling"
            yield gateway, field
        finally:
            gateway.stop()


def newest_scan(office, uid: str, count: int) -> dict:
    """The card's newest scan, once the server holds `count` of them."""
    def scans():
        rows = [s for s in office.get("/scans", limit=50) if s["uid"] == uid]
        return rows if len(rows) >= count else None
    return wait_for(scans, what=f"scan {count} of the card")[0]  # newest first


def tap(card, field, gateway) -> float | None:
    """Hold the card to the reader: the seconds until the relay opened, or None if it stayed shut."""
    presented = card.present()
    opened = None
    deadline = presented + 2.5  # past the 1.5 s a cabinet waits before deciding alone
    while time.perf_counter() < deadline:
        if lock_open(gateway):
            opened = time.perf_counter() - presented
            break
        time.sleep(0.002)
    card.remove()
    assert field.wait_absence_noticed(), "the reader did not notice the card leave"
    wait_for(lambda: not lock_open(gateway), timeout=3, what="the relay to close")
    time.sleep(0.35)  # away longer than gone_after_s: the next presentation is a new tap
    return opened


def test_genuine_cards_open_and_their_copies_do_not(office, nfc_gateway):
    gateway, field = nfc_gateway
    keys = office.keys
    ntag_times, felica_times = [], []
    with Ntag424Dna(NTAG, meta_key=keys.ntag424_meta_key, file_key=keys.ntag424_file_key(bytes.fromhex(NTAG)),
                    field=field) as genuine:
        for _ in range(TAPS):
            ntag_times.append(tap(genuine, field, gateway))
        assert None not in ntag_times, f"a genuine NTAG 424 DNA did not open: {ntag_times}"
        scan = newest_scan(office, NTAG, TAPS)
        assert (scan["result"], genuine.counter) == ("unlock", TAPS)
        last_url = genuine.urls[-1]
    with Ntag424Copy(NTAG, last_url, field=field) as copy:
        assert tap(copy, field, gateway) is None
    scan = newest_scan(office, NTAG, TAPS + 1)
    assert (scan["result"], scan["reason"]) == ("deny", "clone_suspected")

    card_key = keys.felica_card_key(bytes.fromhex(IDM))
    with FelicaLiteS(IDM, field, card_key=card_key) as genuine:
        for _ in range(TAPS):
            felica_times.append(tap(genuine, field, gateway))
        assert None not in felica_times, f"a genuine FeliCa Lite-S did not open: {felica_times}"
        id_block = bytes(genuine.blocks[0x82])
    # What a skimmer keeps of the genuine card: its ID block and its MAC over the skimmer's own challenge.
    skimmed = felica.read_mac(card_key, os.urandom(16), id_block)
    with FelicaLiteSCopy(IDM, id_block, seen_mac=skimmed, field=field) as copy:
        assert tap(copy, field, gateway) is None
    scan = newest_scan(office, IDM, TAPS + 1)
    assert (scan["result"], scan["reason"]) == ("deny", "clone_suspected")
    alerts = [a for a in office.get("/alerts", state="open") if a["type"] == "clone_suspected"]
    assert sorted(a["count"] for a in alerts) == [1, 1] and {a["severity"] for a in alerts} == {"high"}
    for name, times in (("NTAG 424 DNA (SUN)", ntag_times), ("FeliCa Lite-S (MAC)", felica_times)):
        print(f"\ntap → relay open, verification on, {name}: median {statistics.median(times) * 1000:.0f} ms, "
              f"max {max(times) * 1000:.0f} ms over {len(times)} taps")
