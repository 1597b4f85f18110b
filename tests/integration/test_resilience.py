"""Nothing lost, nothing doubled: broker restarts, server restarts, and hostile payloads."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import func, select

from gateway.simulator import SimulatedReader
from server.ingest.runner import Ingest
from server.ledger.models import DeadLetter, ScanRecord
from tests.support.broker import free_port, wait_port
from tests.support.office import SITE, Office

pytestmark = pytest.mark.integration


def _count(office: Office, model) -> int:
    with office.factory() as db:
        return db.scalar(select(func.count()).select_from(model))


def _wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _stream(reader: SimulatedReader, count: int, pause: float) -> list[str]:
    ids = []
    for n in range(count):
        ids.append(reader.tap(f"{0xA0000000 + n:08X}", tech="iso14443a"))
        time.sleep(pause)
    return ids


def test_broker_restart_without_persistence_mid_stream_loses_and_doubles_nothing(office, broker):
    entrance = office.add_reader("entrance", "entrance")
    result: list[str] = []
    sender = threading.Thread(target=lambda: result.extend(_stream(entrance, 300, 0.005)))
    sender.start()
    time.sleep(0.6)
    broker.restart(persistence=False)  # whatever the broker held in flight is gone
    sender.join()
    assert entrance.wait_acked(result, timeout=60), f"{entrance.queued} scans never acknowledged"
    with office.factory() as db:
        stored = list(db.scalars(select(ScanRecord.id)))
    assert sorted(stored) == sorted(result)


def test_scans_published_while_the_server_is_down_are_processed_when_it_returns(office):
    entrance = office.add_reader("entrance", "entrance")
    entrance.resend_after = 3600  # only the broker's persistent session may deliver them
    office.ingest.stop()
    ids = _stream(entrance, 300, 0)  # a burst: acks for big batches must still fit 2 KiB
    time.sleep(0.5)
    assert _count(office, ScanRecord) == 0
    comeback = Ingest(office.settings)
    comeback.start()
    try:
        assert entrance.wait_acked(ids, timeout=30)
        assert _count(office, ScanRecord) == 300
    finally:
        comeback.stop()


def test_server_killed_mid_stream_and_restarted_records_every_scan_once(database_url, broker, tmp_path):
    office = Office(database_url, broker.url)  # migrates and creates the account; serve runs apart
    with office:
        office.add_reader("entrance", "entrance")
        office.ingest.stop()
    env = dict(os.environ, MAMORI_DATABASE_URL=database_url, MAMORI_MQTT_URL=broker.url,
               MAMORI_MQTT_CLIENT_ID=f"mamori-serve-{uuid.uuid4().hex[:6]}")
    port = free_port()

    def serve() -> subprocess.Popen:
        proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port)], env=env,
                                stdout=subprocess.DEVNULL, stderr=open(tmp_path / "serve.log", "ab"))
        try:
            wait_port(port, timeout=30)
        except TimeoutError:
            proc.kill()  # a server that never came up must not outlive the test
            raise
        return proc

    server = serve()
    reader = SimulatedReader(broker.url, SITE, "entrance", resend_after=2.0).start()
    try:
        ids: list[str] = []
        sender = threading.Thread(target=lambda: ids.extend(_stream(reader, 400, 0.004)))
        sender.start()
        time.sleep(0.5)
        server.send_signal(signal.SIGKILL)
        server.wait()
        time.sleep(0.5)
        server = serve()
        sender.join()
        assert reader.wait_acked(ids, timeout=60), f"{reader.queued} scans never acknowledged"
        with office.factory() as db:
            stored = list(db.scalars(select(ScanRecord.id)))
        assert sorted(stored) == sorted(ids)
    finally:
        reader.stop()
        server.terminate()
        server.wait(10)


def _without(payload: dict, key: str) -> bytes:
    return json.dumps({k: v for k, v in payload.items() if k != key}).encode()


def _hostile_payloads(count: int, rng: random.Random) -> list[tuple[str, bytes]]:
    good = {"v": 1, "id": "01JDQ3X8Z5K1W4N7E2R9T6Y0AB", "uid": "0123456789ABCDEF", "tech": "felica",
            "at": "2026-11-27T09:00:00.123+09:00"}
    mutations = [
        lambda: rng.randbytes(rng.randint(0, 300)),
        lambda: b"\xff\xfe" + rng.randbytes(20),
        lambda: b"{" * rng.randint(1, 5000),
        lambda: b"[" * 100000,
        lambda: json.dumps(rng.choice([[], 1, "scan", None, True])).encode(),
        lambda: json.dumps({**good, "uid": rng.choice(["", "XYZ", "0" * 30, 12345, None])}).encode(),
        lambda: json.dumps({**good, "id": rng.choice(["short", "x" * 65, "bad id!", 7])}).encode(),
        lambda: json.dumps({**good, "at": rng.choice(["2026-11-27T09:00:00", "yesterday", 1764201600, ""])}).encode(),
        lambda: json.dumps({**good, "at": "2099-01-01T00:00:00+09:00"}).encode(),
        lambda: json.dumps({**good, "tech": rng.choice(["bluetooth", "", 3])}).encode(),
        lambda: json.dumps({**good, "v": rng.choice([0, 2, "1", None])}).encode(),
        lambda: _without(good, rng.choice(list(good))),
        lambda: json.dumps({**good, "pad": "x" * 3000}).encode(),
    ]
    topics = ["mamori/v1/nerima/entrance/scan", "mamori/v1/nerima/entrance/event",
              "mamori/v1/NERIMA/entrance/scan", "mamori/v1/nerima/ghost-reader/scan",
              "mamori/v1/nerima/" + "r" * 40 + "/scan"]
    out = []
    for n in range(count):
        topic = topics[0] if n % 3 else rng.choice(topics)
        payload = rng.choice(mutations)()
        out.append((topic, payload))
    return out


def test_a_thousand_bad_payloads_are_dead_lettered_and_the_next_good_scan_is_answered(office):
    entrance = office.add_reader("entrance", "entrance")
    office.add_person("佐藤 花子", "0123456789ABCDEF")
    rng = random.Random(20261127)
    attacker = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="attacker", protocol=mqtt.MQTTv311)
    attacker.connect(office.ingest.link.host, office.ingest.link.port)
    attacker.loop_start()
    try:
        for topic, payload in _hostile_payloads(1000, rng):
            attacker.publish(topic, payload, qos=1).wait_for_publish(5)
    finally:
        attacker.disconnect()
        attacker.loop_stop()
    scan_id = entrance.tap("0123456789ABCDEF")
    decision = entrance.wait_decision(scan_id, timeout=30)
    assert decision is not None and decision.action == "entry"
    def refusals() -> int:  # kept (folded into a row's count) or counted past the reader's limit
        with office.factory() as db:
            kept = db.scalar(select(func.coalesce(func.sum(DeadLetter.count), 0)))
        return kept + sum(office.ingest.worker.refusals.held.values())

    _wait_until(lambda: refusals() == 1000, 30, "1,000 refusals")
    with office.factory() as db:
        reasons = dict(db.execute(select(DeadLetter.reason, func.count()).group_by(DeadLetter.reason)).all())
    assert set(reasons) <= {"too_large", "not_utf8", "invalid_json", "invalid_payload", "future_time",
                            "bad_topic", "unknown_reader"}
    assert sum(reasons.values()) <= 5 * len(reasons)  # one row per reader and reason, not one per payload
    assert _count(office, ScanRecord) == 1


def test_scans_queued_for_a_stopped_server_survive_a_broker_restart(office, broker):
    entrance = office.add_reader("entrance", "entrance")
    office.ingest.stop()
    ids = _stream(entrance, 100, 0)
    time.sleep(0.5)
    entrance.stop()  # the reader is gone too: only the broker's persistence can deliver these
    office.readers.remove(entrance)
    broker.restart()  # graceful: Mosquitto saves the server's queued session to disk
    comeback = Ingest(office.settings)
    comeback.start()
    try:
        _wait_until(lambda: _count(office, ScanRecord) == 100, 30, "the 100 queued scans")
        with office.factory() as db:
            assert sorted(db.scalars(select(ScanRecord.id))) == sorted(ids)
    finally:
        comeback.stop()
