"""Scan → decision latency at a steady rate, on SQLite and PostgreSQL, against a bare echo floor.

    .venv/bin/python -m bench.latency [--scans 2000] [--rate 100] [--db sqlite postgresql]
        [--year SCALE] [--key-holder TAPS]

A reader (paho, TCP_NODELAY) publishes scans at a steady rate to a real Mosquitto; `mamori
serve` runs in its own process. The bare echo responder answers each scan with a decision the
moment it arrives, on the same broker: the floor any server must stand on; beside it, each database's own floor (one row inserted and
committed, durably, through the app's engine), which no tap can beat either. Target (issue 19):
mamori's p99 at most 3 × the echo's p99 measured in the same run, and the same with a year of
history in the database (`--year 1.0`: a million scans, 50,000 cabinet sessions, 200,000
checkouts; bench/year.py) as with an empty one. `--key-holder 1500` then has one key holder tap
the same cabinet that many times (each tap a new cabinet session), printed per 200 taps: a
decision that grows with history shows here first.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from sqlalchemy import text

from bench.common import SITE, bench_env, card_uid, database, fmt, percentiles, seed, server
from bench.year import seed_year
from gateway import protocol
from gateway.net import set_nodelay
from gateway.simulator import new_id
from server.db import make_engine


def _client(name: str, url_port: int) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv311)
    client.on_socket_open = lambda _c, _u, sock: set_nodelay(sock)
    client.connect("127.0.0.1", url_port)
    client.loop_start()
    return client


def measure(port: int, reader: str, scans: int, rate: float, uid_for) -> list[float]:
    """Publish `scans` at `rate` per second; return each decision's round trip in ms."""
    sent: dict[str, float] = {}
    got: dict[str, float] = {}
    done = threading.Event()

    def on_message(_c, _u, msg):
        now = time.perf_counter()
        scan_id = json.loads(msg.payload)["scan"]
        got[scan_id] = now
        if len(got) >= scans:
            done.set()

    client = _client(f"bench-{reader}-{new_id()[-6:]}", port)
    client.on_message = on_message
    client.subscribe(protocol.topic(SITE, reader, "decision"), qos=1)
    time.sleep(0.3)
    interval = 1.0 / rate
    start = time.perf_counter()
    for n in range(scans):
        target = start + n * interval
        while (delay := target - time.perf_counter()) > 0:
            time.sleep(delay)
        scan = protocol.Scan(v=1, id=new_id(), uid=uid_for(n), tech="felica", at=datetime.now(UTC))
        sent[scan.id] = time.perf_counter()
        client.publish(protocol.topic(SITE, reader, "scan"), protocol.encode(scan), qos=1)
    done.wait(30)
    client.disconnect()
    client.loop_stop()
    missing = len(sent) - len(got)
    if missing:
        print(f"  warning: {missing} scans got no decision")
    return [(got[i] - sent[i]) * 1000 for i in sent if i in got]


def echo_floor(port: int, scans: int, rate: float) -> dict[str, float]:
    """A responder that decodes nothing it need not and answers at once."""
    echo = _client("bench-echo", port)

    def answer(_c, _u, msg):
        scan_id = json.loads(msg.payload)["id"]
        decision = protocol.Decision(v=1, scan=scan_id, result="accept", action="entry", at=datetime.now(UTC))
        echo.publish(msg.topic.rsplit("/", 1)[0] + "/decision", protocol.encode(decision), qos=1)

    echo.on_message = answer
    echo.subscribe(protocol.topic(SITE, "echo", "scan"), qos=1)
    time.sleep(0.3)
    try:
        return percentiles(measure(port, "echo", scans, rate, card_uid))
    finally:
        echo.disconnect()
        echo.loop_stop()


def commit_floor(url: str, commits: int = 1000) -> dict[str, float]:
    """The database's own floor for a tap: one row inserted and committed (durably, as the app's
    settings do), `commits` times, on a table of its own, through the app's engine."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, at VARCHAR(40))"))
        times = []
        for n in range(commits):
            start = time.perf_counter()
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO bench_floor (id, at) VALUES (:id, :at)"),
                             {"id": n, "at": datetime.now(UTC).isoformat()})
            times.append((time.perf_counter() - start) * 1000)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE bench_floor"))
        return percentiles(times)
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scans", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0, help="scans per second")
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--year", type=float, default=None, help="seed a year of history first (1.0: 1M scans)")
    parser.add_argument("--key-holder", type=int, default=0, help="then one key holder taps one cabinet N times")
    args = parser.parse_args()
    print(f"scan → decision, {args.scans} scans at {args.rate:.0f}/s, QoS 1, loopback Mosquitto"
          + (f", a year of history (scale {args.year})" if args.year else ", empty database"))
    with bench_env() as (workdir, broker):
        floor = echo_floor(broker.port, args.scans, args.rate)
        print(fmt("bare echo", floor))
        for kind in args.db:
            with database(kind, workdir) as url:
                # Half the taps open the cabinet, half pass the entrance: both decision paths.
                seed(url, [("entrance", "entrance"), ("cabinet-1", "cabinet")], args.scans)
                floor_db = commit_floor(url)
                if args.year:
                    seed_year(url, ["cabinet-1"], "entrance", args.scans, args.year)
                with server(url, broker.url, workdir):
                    half = args.scans // 2
                    cab = measure(broker.port, "cabinet-1", half, args.rate, card_uid)
                    ent = measure(broker.port, "entrance", args.scans - half, args.rate,
                                  lambda n: card_uid(half + n))
                    one = (measure(broker.port, "cabinet-1", args.key_holder, args.rate, lambda _n: card_uid(0))
                           if args.key_holder else [])
            stats = percentiles(cab + ent)
            print(fmt(f"mamori {kind}", stats) + f"   p99 − echo p99 = {stats['p99'] - floor['p99']:+.2f} ms"
                  f"   p99 / echo p99 = {stats['p99'] / floor['p99']:.2f}")
            print(fmt(f"  {kind}: insert + commit", floor_db)
                  + f"   (the database's floor; echo p99 + this p99 = {floor['p99'] + floor_db['p99']:.2f} ms)")
            print(fmt("  cabinet taps", percentiles(cab)))
            print(fmt("  entrance taps", percentiles(ent)))
            for start in range(0, len(one) - 199, 200):
                window = percentiles(one[start:start + 200])
                print(fmt(f"  one key holder {start + 1}–{start + 200}", window)
                      + f"   p99 / echo p99 = {window['p99'] / floor['p99']:.2f}")


if __name__ == "__main__":
    main()
