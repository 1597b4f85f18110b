"""A gateway whose card reader is unplugged is online but says so: its status lists
`card_reader_unavailable`, the server opens a reader_degraded alert and shows it on the dashboard, and
plugging the reader in resolves it. The real gateway, a pty RDM6300 reached through a link that
appears only when the reader is "plugged in", real Mosquitto and server."""

from __future__ import annotations

import os

import pytest

from gateway import app as gateway_app
from gateway.app import Gateway
from tests.support.gateway import CABINET_KEY, STAFF, config_for, rdm6300, wait_for

pytestmark = pytest.mark.integration


def degraded_alerts(office, state: str) -> list[dict]:
    return [a for a in office.get("/alerts", state=state) if a["type"] == "reader_degraded"]


def test_an_unplugged_card_reader_is_reported_alerted_and_resolved_when_plugged_in(
        office, broker, fobs, pins, tmp_path, monkeypatch):
    monkeypatch.setattr(gateway_app, "READER_RETRY_S", 0.2)
    plug = tmp_path / "ttyUSB-rdm6300"  # not there yet: the adapter is unplugged
    config = config_for("cabinet.yaml", tmp_path, broker_url=broker.url, card_reader=rdm6300(str(plug)),
                        allowlist_key=CABINET_KEY)
    gateway = Gateway(config).start()
    try:
        wait_for(lambda: degraded_alerts(office, "open"), what="the reader_degraded alert")
        assert gateway.degraded == {"card_reader_unavailable"}
        [alert] = degraded_alerts(office, "open")
        assert alert["reader_id"] == "cabinet-1" and alert["severity"] == "high"

        os.symlink(fobs.port, plug)  # plugged in
        wait_for(lambda: degraded_alerts(office, "resolved"), what="the alert to resolve")
        assert not gateway.degraded and not degraded_alerts(office, "open")
        # And it reads cards again.
        wait_for(lambda: gateway.reader is not None and gateway.reader._port is not None, what="the serial port")
        fobs.tap(STAFF)
        wait_for(lambda: office.get("/scans"), what="the tap to reach the ledger")
    finally:
        gateway.stop()
