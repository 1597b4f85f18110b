"""The cabinet on an NFC reader, from the command line: `mamori gateway --config …` with nfcpy's real
reader code polling a udp `Field` (tests/support/nfc_udp.py), where a FeliCa staff badge and then an
NTAG213 folder sticker are held in turn; a real Mosquitto, the server, and gpiozero's MockFactory relay.

The CLI runs in a thread of this process (not a subprocess) so the mock relay pin can be watched.
"""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from gateway.cli import run
from server.cli import build_parser
from tests.support.gateway import LOCK_PIN, SHIPPED, derived_yaml, outbox_size, wait_for
from tests.support.nfc_udp import FelicaCard, Field, Ntag213

pytestmark = pytest.mark.integration

IDM = "012E4CD7A1B2C3D4"  # the staff badge's FeliCa IDm (8 bytes)
NTAG_UID = "04A1B2C3D4E580"  # the folder sticker's NTAG213 UID (7 bytes)


def nfc_cabinet_yaml(workdir: Path, broker_url: str, device: str) -> Path:
    """firmware_config/cabinet.yaml with its NFC reader at `device`, the rest as derived_yaml makes it."""
    shipped = yaml.safe_load((SHIPPED / "cabinet.yaml").read_text(encoding="utf-8"))["card_reader"]
    return derived_yaml("cabinet.yaml", workdir, broker_url=broker_url, card_reader={**shipped, "device": device})


@contextmanager
def mamori_gateway(config: Path):
    """`mamori gateway --config <config>` in a thread, stopped (and its exit code checked) on leaving."""
    args = build_parser().parse_args(["gateway", "--config", str(config)])
    stop = threading.Event()
    exit_codes: list[int] = []
    thread = threading.Thread(target=lambda: exit_codes.append(run(args, stop)), name="mamori-gateway", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive(), "the gateway did not stop"
    assert exit_codes == [0]


def cabinet_status(office) -> dict:
    return next(r for r in office.get("/readers") if r["id"] == "cabinet-1")


def outbox_path(config: Path) -> Path:
    return Path(yaml.safe_load(config.read_text(encoding="utf-8"))["outbox"]["path"])


def test_a_felica_badge_opens_the_cabinet_and_an_ntag_folder_is_checked_out(office, broker, pins, tmp_path):
    office.add_person("記録 桜子", IDM, key_holder=True, training_on=date.today() - timedelta(days=30))
    office.add_item("調査書類 2026-0002", "folder", NTAG_UID, "cabinet-1", case="2026-0002")
    with Field() as field, FelicaCard(IDM, field) as badge, Ntag213(NTAG_UID, field) as folder:
        config = nfc_cabinet_yaml(tmp_path, broker.url, field.device)
        with mamori_gateway(config):
            wait_for(lambda: cabinet_status(office)["online"], what="the gateway to report itself online")
            assert field.wait_absence_noticed(5), "the gateway's reader is not polling"
            relay = pins.pin(LOCK_PIN)
            assert relay.state == 1  # active-low board: high is closed

            badge.present()
            wait_for(lambda: relay.state == 0, timeout=1.0, what="the relay to open for the badge")
            opened = time.perf_counter()
            wait_for(lambda: relay.state == 1, timeout=3, what="the relay to close by itself")
            assert 0.8 <= time.perf_counter() - opened <= 1.5  # the server's unlock_s is 1
            badge.remove()
            assert field.wait_absence_noticed(), "the reader did not notice the badge leave"

            folder.present()
            rows = wait_for(lambda: office.get("/checkouts", state="open"), what="the folder's checkout")
            assert [(r["item"]["label"], r["person"]["name"]) for r in rows] == [("調査書類 2026-0002", "記録 桜子")]
            folder.remove()
            wait_for(lambda: outbox_size(outbox_path(config)) == 0, what="the server's acks to empty the outbox")
