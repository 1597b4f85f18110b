"""What the benchmarks share: a real Mosquitto, a seeded database, `mamori serve` in its own process."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from contextlib import ExitStack, contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from server.db import make_engine
from server.migrate import upgrade
from server.people.models import Card, Person
from server.readers.models import Reader
from tests.support.broker import Mosquitto, free_port, wait_port
from tests.support.databases import postgres_available, throwaway_postgres

SITE = "nerima"


@contextmanager
def database(kind: str, workdir: Path):
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    if problem := postgres_available():
        raise SystemExit(f"PostgreSQL did not answer ({problem}); set MAMORI_TEST_PG")
    with throwaway_postgres() as url:
        yield url


def card_uid(n: int) -> str:
    return f"{0x0100000000000000 + n:016X}"


def seed(url: str, readers: list[tuple[str, str]], cards: int) -> None:
    """Readers and `cards` key holders with current training, in bulk."""
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(insert(Reader), [{"id": rid, "site": SITE, "role": role, "name": rid, "created_at": now}
                                      for rid, role in readers])
        conn.execute(insert(Person), [{"id": n + 1, "name": f"職員 {n}", "active": True, "key_holder": True,
                                       "training_on": date.today() - timedelta(days=10), "roles": [],
                                       "created_at": now} for n in range(cards)])
        conn.execute(insert(Card), [{"uid": card_uid(n), "person_id": n + 1, "active": True, "created_at": now}
                                    for n in range(cards)])
    engine.dispose()


@contextmanager
def server(url: str, mqtt_url: str, workdir: Path, node: str | None = None, **settings: str):
    """`mamori serve` as deployed: its own process; returns once it is connected to the broker.
    `node`: one of several processes sharing the readers' messages (docs/scale-out.md); `settings`:
    more MAMORI_* variables."""
    port = free_port()
    # The nightly chain verification reads the whole chain: run at night in Tokyo (a bench at 18:00 UTC),
    # it took the measured taps from 4.7 to 52 ms p50 with a year loaded. A bench measures the taps.
    env = dict(os.environ, MAMORI_DATABASE_URL=url, MAMORI_MQTT_URL=mqtt_url,
               MAMORI_MQTT_CLIENT_ID=f"mamori-bench-{uuid.uuid4().hex[:6]}", **({"MAMORI_NODE_ID": node} if node else {}),
               **{"MAMORI_CHAIN_VERIFY_NIGHTLY": "false", **settings})
    log = open(workdir / f"serve{'-' + node if node else ''}.log", "ab")
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port)],
                            env=env, stdout=log, stderr=log)
    try:
        wait_port(port, timeout=60)
        deadline = time.monotonic() + 30
        while b'"broker_connected":true' not in urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health").read():
            if time.monotonic() > deadline:
                raise RuntimeError("mamori serve did not connect to the broker")
            time.sleep(0.05)
        yield proc
    finally:
        proc.terminate()
        proc.wait(20)


@contextmanager
def bench_env(keep: bool = False):
    """A temp folder and a Mosquitto in it."""
    with ExitStack() as stack:
        workdir = Path(tempfile.mkdtemp(prefix="mamori-bench-"))
        broker = Mosquitto(workdir / "broker", persistence=False).start()
        stack.callback(broker.kill)
        yield workdir, broker


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    qs = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return {"p50": qs[49], "p95": qs[94], "p99": qs[98], "max": max(samples_ms), "n": len(samples_ms)}


def fmt(label: str, stats: dict[str, float]) -> str:
    return (f"{label:<30} n={stats['n']:>6}  p50 {stats['p50']:7.2f} ms  p95 {stats['p95']:7.2f} ms  "
            f"p99 {stats['p99']:7.2f} ms  max {stats['max']:7.2f} ms")
