"""Three `mamori serve` processes on one PostgreSQL, sharing the readers' messages; one is SIGKILLed
mid-stream and not brought back. On both brokers mamori supports: one Mosquitto, where the processes
share a subscription, and a three-node NATS cluster, where readers and processes each connect to their
own node and every process hears every message. Every scan and event is stored once, nothing is counted twice,
the ledger is the one a single process builds from the same scans in event-time order, and the evidence
chain verifies.

`MAMORI_MULTI_FULL=1` runs 10,000 scans; the default is 2,000 (the suite's time on this machine).
"""

from __future__ import annotations

import itertools
import os
import pprint
import random
import re
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from gateway import protocol
from gateway.simulator import SimulatedReader
from server.db import make_engine, make_session_factory
from server.evidence.runs import snapshot_verify
from tests.integration.test_chaos import (
    ITEMS,
    SIDE_DOOR,
    Message,
    Server,
    _cabinet_day,
    _counted_twice,
    _differences,
    _entrance_day,
    _in_order,
    _send,
    _stock,
    merge_streams,
)
from tests.support.broker import Mosquitto
from tests.support.databases import throwaway_postgres
from tests.support.ledger import snapshot
from tests.support.nats import NatsCluster, nats_binary
from tests.support.office import SITE

pytestmark = pytest.mark.integration

FULL = os.environ.get("MAMORI_MULTI_FULL") == "1"
SCANS = 10_000 if FULL else 2_000
PUBLISH_S = 40 if FULL else 12
SHARE = {"entrance": 0.2, SIDE_DOOR: 0.1, "cabinet-1": 0.35, "cabinet-2": 0.35}
KILLED_AT = 0.4  # of the messages published


class Node(Server):
    """One of several processes: its own node id, so its own broker session."""

    def __init__(self, database_url: str, broker: Mosquitto | NatsCluster, log, node: int):
        super().__init__(database_url, broker, log)
        self.env.update(MAMORI_NODE_ID=f"n{node}", MAMORI_MQTT_CLIENT_ID="mamori-multi")
        if isinstance(broker, NatsCluster):  # no shared subscriptions there: each hears all, from its own node
            self.env.update(MAMORI_MQTT_URL=broker.urls[node % len(broker.urls)],
                            MAMORI_MQTT_SHARED_SUBSCRIPTIONS="false")

    def handled(self) -> float:
        """Messages this process committed (its /metrics, from this machine)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/metrics", timeout=5) as response:
            text = response.read().decode()
        return sum(float(m) for m in re.findall(r"^mamori_ingest_batch_size_sum (\S+)$", text, re.M))


def _plan(rng: random.Random, end: datetime) -> list[tuple[str, Message]]:
    """Each reader's scans and events in its own order, merged as the readers would send them together."""
    serial = itertools.count()
    days = {reader: _entrance_day(rng, round(SCANS * share)) for reader, share in SHARE.items()
            if reader not in ITEMS}
    days |= {cabinet: _cabinet_day(rng, cabinet, round(SCANS * SHARE[cabinet])) for cabinet in ITEMS}
    queues: dict[str, list[Message]] = {}
    for reader, day in days.items():
        last = day[-1][0]
        queues[reader] = []
        for t, kind, what in day:
            at, msg_id = end - timedelta(seconds=last - t), f"multi-{reader}-{next(serial):06d}"
            queues[reader].append(
                protocol.Scan(v=1, id=msg_id, uid=what, at=at, tech="iso14443a" if what.startswith("04") else "felica")
                if kind == "scan" else protocol.Event(v=1, id=msg_id, type=what, at=at))
    return merge_streams(rng, queues)


def _broker(kind: str, workdir) -> Mosquitto | NatsCluster:
    if kind == "mosquitto":
        return Mosquitto(workdir).start()
    if nats_binary() is None:
        pytest.skip("nats-server is not installed (apt-get install nats-server; deploy/test.sh does it as root)")
    return NatsCluster(workdir).start()


@pytest.mark.timeout(600 if FULL else 240)
@pytest.mark.parametrize("broker_kind", ["mosquitto", "nats"])
def test_three_servers_one_killed_lose_nothing_double_nothing_and_build_the_one_process_ledger(
        database_kind, database_url, broker_kind, tmp_path):
    if database_kind != "postgresql":
        pytest.skip("several servers need PostgreSQL; on SQLite a second `mamori serve` is refused (test_cluster.py)")
    rng = random.Random(20261203)
    arrival = _plan(rng, end=datetime.now(UTC) - timedelta(minutes=5))
    _stock(database_url)
    broker = _broker(broker_kind, tmp_path / "broker")
    urls = broker.urls if isinstance(broker, NatsCluster) else [broker.url]
    nodes = [Node(database_url, broker, tmp_path / f"serve-{n}.log", n) for n in range(3)]
    readers: dict[str, SimulatedReader] = {}
    started = time.monotonic()
    try:
        starting = [threading.Thread(target=node.start) for node in nodes]  # together, as systemd would
        for thread in starting:
            thread.start()
        for thread in starting:
            thread.join(90)
        assert all(node.proc and node.proc.poll() is None for node in nodes), "a process did not start"
        for n, reader in enumerate(SHARE):
            readers[reader] = SimulatedReader(urls[n % len(urls)], SITE, reader, resend_after=3.0).start()
        up = time.monotonic()
        for n, (reader, message) in enumerate(arrival):
            if n == len(arrival) // 10:  # heard by one process or, on NATS, by all three: kept once
                readers[reader].client.publish(protocol.topic(SITE, reader, "scan"), b"{not json", qos=1)
            if n == int(KILLED_AT * len(arrival)):
                shares = [node.handled() for node in nodes]
                assert all(shares), f"a process was given no messages: {shares}"
                nodes[0].kill()  # mid-stream, with batches in flight; not brought back
            _send(readers[reader], message)
            time.sleep(PUBLISH_S / len(arrival))
        sent = time.monotonic()
        for reader in SHARE:
            ids = [m.id for r, m in arrival if r == reader]
            assert readers[reader].wait_acked(ids, timeout=120), \
                f"{reader}: {readers[reader].queued} scans and events never acknowledged"
        print(f"\n{broker_kind}: {len(arrival)} scans and events through 3 processes (one killed after {shares}): all "
              f"acknowledged: {up - started:.0f} s to start, {sent - up:.0f} s to send, "
              f"{time.monotonic() - sent:.0f} s more to the last ack")
    finally:
        for sim in readers.values():
            sim.stop()
        for node in nodes:
            node.stop()
        broker.stop()

    engine = make_engine(database_url)
    with engine.connect() as conn:
        dead_letters = conn.execute(text("SELECT reason, count FROM dead_letters")).all()
    ledger = snapshot(make_session_factory(engine))
    chain = snapshot_verify(engine, ZoneInfo("Asia/Tokyo"))
    engine.dispose()
    assert chain.ok, [str(p) for p in chain.problems]
    assert [tuple(row) for row in dead_letters] == [("invalid_json", 1)]

    produced = {m.id for _reader, m in arrival}
    stored = set(ledger["scans"]) | set(ledger["events"])
    assert produced - stored == set(), "lost"
    assert stored - produced == set(), "a scan from nowhere"
    assert len(ledger["scans"]) + len(ledger["events"]) == len(produced)
    assert _counted_twice(ledger) == {}
    with throwaway_postgres() as replay_url:
        expected = _in_order(replay_url, arrival)
    differences = _differences(ledger, expected)
    assert not differences, pprint.pformat(differences, width=150)
