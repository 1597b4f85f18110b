"""`/metrics` after real scans through Mosquitto, who may read it, the Grafana dashboard's names, and
`/api/v1/ready` (503 with reasons) beside `/api/v1/health`. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gateway import protocol
from server.config import Settings
from server.main import create_app
from tests.support.broker import free_port
from tests.support.gateway import wait_for
from tests.support.office import ADMIN_PASSWORD, SITE, Office
from tests.support.web import logged_in

pytestmark = pytest.mark.integration

TOKEN = "scrape-me-" + "x" * 22
STAFF_CARD = "0123456789ABCDEF"
STRANGER = "0A0B0C0D"
DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "mamori.json"


def scrape(office: Office) -> dict[tuple[str, tuple], float]:
    response = office.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(response.text) for s in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_what_the_ingest_did(database_url, broker):
    with Office(database_url, broker.url, metrics_token=TOKEN) as office:
        office.wait_connected()
        entrance = office.add_reader("entrance-1", "entrance")
        office.add_person("調査 花子", STAFF_CARD)
        accepted = entrance.tap(STAFF_CARD)
        denied = entrance.tap(STRANGER)
        stale = entrance.tap(STAFF_CARD, at=datetime.now(UTC) - timedelta(hours=1))
        assert entrance.wait_decision(accepted).result == "accept"
        assert entrance.wait_decision(denied).result == "deny"
        assert entrance.wait_acked([accepted, denied, stale])
        entrance.replay(accepted)
        entrance.client.publish(f"mamori/v1/{SITE}/entrance-1/scan", b"{not json", qos=1)
        # The reader is online but its card reader is unplugged (what the gateway now reports).
        say_degraded(entrance, ["card_reader_unavailable"])

        samples = wait_for(lambda: (s := scrape(office)) and value(s, "mamori_dead_letters_total", reason="invalid_json")
                           and value(s, "mamori_alerts_open", type="reader_degraded", state="open") and s,
                           what="the refused payload and the degraded reader to be counted")
        assert value(samples, "mamori_scans_total", result="accept") == 1
        assert value(samples, "mamori_scans_total", result="deny") == 1
        assert value(samples, "mamori_scans_total", result="stale") == 1
        assert value(samples, "mamori_scans_total", result="repeat") == 1
        assert value(samples, "mamori_decision_latency_seconds_count") == 2
        assert 0 < value(samples, "mamori_decision_latency_seconds_sum") < 2
        assert value(samples, "mamori_ingest_batch_size_count") >= 2
        assert value(samples, "mamori_ingest_queue_depth") == 0
        assert value(samples, "mamori_readers_online") == 1
        assert value(samples, "mamori_readers", state="degraded") == 1
        assert value(samples, "mamori_readers", state="online") == 0
        assert office.get("/readers")[0]["degraded"] == ["card_reader_unavailable"]
        assert value(samples, "mamori_database_up") == 1
        assert value(samples, "mamori_broker_connected") == 1
        assert value(samples, "mamori_notices_waiting") == 0

        # Every metric the shipped Grafana dashboard asks for is served.
        response = office.client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        served = {name for family in text_string_to_metric_families(response.text)
                  for name in (family.name, *(sample.name for sample in family.samples))}
        asked = {name for panel in json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
                 for target in panel["targets"] for name in re.findall(r"\bmamori_[a-z_]+", target["expr"])}
        assert asked and asked <= served, f"the dashboard asks for metrics /metrics does not serve: {asked - served}"

        # The dashboard says so, in words, and the alert resolves when the card reader works again.
        client, _csrf = logged_in(office.app, "kanri", ADMIN_PASSWORD)
        panels = client.get("/dashboard/panels", headers={"X-Mamori-Poll": "1"}).text
        assert 'id="degraded-entrance-1"' in panels and "カードを読み取れません" in panels
        assert "entrance-1 はオンラインですが、カードを読み取れません" in panels
        say_degraded(entrance, [])
        wait_for(lambda: value(scrape(office), "mamori_readers", state="online") == 1, what="the reader to recover")
        assert value(scrape(office), "mamori_alerts_open", type="reader_degraded", state="open") == 0
        resolved = [a for a in office.get("/alerts", state="resolved") if a["type"] == "reader_degraded"]
        assert len(resolved) == 1 and resolved[0]["resolved_by"] == "mamori"

        # Only with the token: none, or a wrong one, is refused.
        assert office.client.get("/metrics").status_code == 403
        assert office.client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403

        # Ready, and the health (liveness) answer unchanged beside it.
        ready = office.client.get("/api/v1/ready")
        assert ready.status_code == 200 and ready.json() == {"ready": True, "reasons": []}
        assert office.client.get("/api/v1/health").json()["status"] == "ok"


def say_degraded(reader, degraded: list[str]) -> None:
    status = protocol.Status(v=1, online=True, at=datetime.now(UTC), version="test", queued=0, degraded=degraded)
    reader.client.publish(f"mamori/v1/{SITE}/{reader.reader}/status", protocol.encode(status), qos=1, retain=True)


def test_not_ready_without_the_broker_or_at_an_old_schema(empty_database_url, tmp_path):
    # No broker listens: the ingest never connects. The database is empty: not at the newest schema.
    settings = Settings(database_url=empty_database_url, mqtt_url=f"mqtt://127.0.0.1:{free_port()}",
                        mqtt_client_id="mamori-test-ready")
    with TestClient(create_app(settings), client=("127.0.0.1", 50000)) as client:
        answer = client.get("/api/v1/ready")
        assert answer.status_code == 503
        reasons = answer.json()["reasons"]
        assert any(r.startswith("database: schema empty is not the newest") and "mamori db upgrade" in r
                   for r in reasons), reasons
        assert any(r.startswith("broker: not connected to 127.0.0.1:") for r in reasons), reasons
        assert client.get("/api/v1/health").status_code == 200  # alive, though not ready
        # Without a token, a scraper on this machine is answered, and the scrape says what it knows.
        samples = client.get("/metrics").text
        assert "mamori_broker_connected 0.0" in samples and "mamori_ingest_worker_alive 1.0" in samples


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_not_ready_while_the_database_is_away(kind, tmp_path):
    away = (f"sqlite:///{tmp_path}/no-such-folder/mamori.db" if kind == "sqlite"
            else f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/mamori?connect_timeout=2")
    app = create_app(Settings(database_url=away), with_ingest=False)
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        answer = client.get("/api/v1/ready")
        assert answer.status_code == 503
        assert answer.json()["reasons"][0].startswith("database: does not answer (OperationalError")
        assert "mamori_database_up 0.0" in client.get("/metrics").text
    with TestClient(app, client=("192.0.2.7", 50000)) as client:
        assert client.get("/metrics").status_code == 403  # no token set: only this machine may scrape
