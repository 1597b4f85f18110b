"""Sustained ingest: many readers publishing as fast as the broker takes them, beside a bare paho yardstick.

    .venv/bin/python -m bench.throughput [--readers 20] [--procs 4] [--scans 20000] [--db sqlite postgresql]
        [--year SCALE]

`--readers` readers (one paho client each, QoS 1, TCP_NODELAY) in `--procs` processes publish their
share of `--scans` distinct staff taps at an entrance, payloads built beforehand. First the
yardstick: a bare paho subscriber (QoS 1, the same broker) takes every message from the same
publishers; its rate is what the broker and the publishers allow on this machine at this moment.
Then `mamori serve`: the clock runs from the first publish to the last `ack`, then the ledger is
counted (every scan exactly once); the server process's CPU time over the same span, per scan, is
printed beside (PostgreSQL's own work is not in it). Target (issue 19): ≥ 70 % of the yardstick measured in the same
run. `--year` seeds a year of history first (bench/year.py). Where the server's time goes:
`bench.ingest_profile`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import threading
import time
from datetime import UTC, datetime

import paho.mqtt.client as mqtt
from sqlalchemy import func, select

from bench.common import SITE, bench_env, card_uid, database, seed, server
from bench.year import seed_year
from gateway import protocol
from gateway.net import set_nodelay
from gateway.simulator import new_id
from server.db import make_engine
from server.ledger.models import ScanRecord

INFLIGHT = 100


def _client(name: str, port: int) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=name, protocol=mqtt.MQTTv311)
    client.on_socket_open = lambda _c, _u, sock: set_nodelay(sock)
    client.max_inflight_messages_set(INFLIGHT)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


def _publisher(port: int, readers: list[int], per_reader: int, wait_acks: bool, go, ready, out) -> None:
    """One process: its readers' payloads built first, then published round-robin; with `wait_acks`,
    returns (via `out`) the wall time its last ack arrived."""
    payloads = []
    for r in readers:
        for n in range(per_reader):
            scan = protocol.Scan(v=1, id=new_id(), uid=card_uid(r * per_reader + n), tech="felica",
                                 at=datetime.now(UTC))
            payloads.append((r, scan.id, protocol.encode(scan)))
    pending = {scan_id for _r, scan_id, _p in payloads}
    lock, done = threading.Lock(), threading.Event()

    def on_ack(_c, _u, msg) -> None:
        with lock:
            pending.difference_update(json.loads(msg.payload)["ids"])
            if not pending:
                done.set()

    clients = {}
    for r in readers:
        client = clients[r] = _client(f"bench-pub-{r}-{os.getpid()}", port)
        if wait_acks:
            client.on_message = on_ack
            client.subscribe(protocol.topic(SITE, f"entrance-{r}", "ack"), qos=1)
    time.sleep(0.5)
    ready.put(os.getpid())
    go.wait()
    infos = [clients[r].publish(protocol.topic(SITE, f"entrance-{r}", "scan"), payload, qos=1)
             for r, _id, payload in sorted(payloads, key=lambda p: (p[1], p[0]))]
    for info in infos:
        info.wait_for_publish(120)
    if wait_acks:
        done.wait(600)
    out.put((time.time(), len(pending) if wait_acks else 0))
    for client in clients.values():
        client.disconnect()
        client.loop_stop()


def _fan_in(port: int, readers: int, procs: int, per_reader: int, wait_acks: bool, until=None) -> tuple[float, int]:
    """Start the publishers, release them together; (seconds from release to the end, scans left unacked).
    The end is the last ack (`wait_acks`) or `until()` returning its finishing time."""
    ctx = mp.get_context("spawn")
    go, ready, out = ctx.Event(), ctx.Queue(), ctx.Queue()
    shares = [list(range(readers))[p::procs] for p in range(procs)]
    workers = [ctx.Process(target=_publisher, args=(port, share, per_reader, wait_acks, go, ready, out))
               for share in shares if share]
    for w in workers:
        w.start()
    for _ in workers:
        ready.get(timeout=120)
    start = time.time()
    go.set()
    results = [out.get(timeout=900) for _ in workers]
    for w in workers:
        w.join(30)
    end = until() if until is not None else max(t for t, _left in results)
    return end - start, sum(left for _t, left in results)


def yardstick(port: int, readers: int, procs: int, per_reader: int) -> float:
    """Messages per second a bare paho subscriber (QoS 1) takes from the same publishers."""
    total = readers * per_reader
    got, done, last = [0], threading.Event(), [0.0]
    sub = _client("bench-yardstick", port)

    def on_message(_c, _u, _msg) -> None:
        got[0] += 1
        if got[0] >= total:
            last[0] = time.time()
            done.set()

    sub.on_message = on_message
    sub.subscribe(protocol.topic(SITE, "entrance-0", "scan").replace("entrance-0", "+"), qos=1)
    time.sleep(0.3)
    try:
        elapsed, _ = _fan_in(port, readers, procs, per_reader, False,
                             until=lambda: last[0] if done.wait(300) else time.time())
    finally:
        sub.disconnect()
        sub.loop_stop()
    if got[0] < total:
        print(f"  yardstick: only {got[0]} of {total} messages arrived")
    return got[0] / elapsed


def _cpu_seconds(pid: int) -> float:
    """User and system time of a process, all its threads (Linux): the server's own cost per scan, which
    the other processes on a shared machine inflate less than its wall time."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(kind: str, args: argparse.Namespace) -> None:
    per_reader = args.scans // args.readers
    total = per_reader * args.readers
    with bench_env() as (workdir, broker), database(kind, workdir) as url:
        floor = yardstick(broker.port, args.readers, args.procs, per_reader)
        seed(url, [*((f"entrance-{r}", "entrance") for r in range(args.readers)), ("cabinet-1", "cabinet")], total)
        if args.year:
            seed_year(url, ["cabinet-1"], "entrance-0", total, args.year)
        with server(url, broker.url, workdir) as proc:
            cpu_before = _cpu_seconds(proc.pid)
            elapsed, left = _fan_in(broker.port, args.readers, args.procs, per_reader, True)
            cpu = _cpu_seconds(proc.pid) - cpu_before
        engine = make_engine(url)
        with engine.connect() as conn:
            new = select(func.count()).select_from(ScanRecord).where(ScanRecord.id.not_like("y-%"))
            stored = conn.scalar(new)
            distinct = conn.scalar(select(func.count(func.distinct(ScanRecord.id))).where(ScanRecord.id.not_like("y-%")))
        engine.dispose()
    rate = total / elapsed
    print(f"{kind:<11} {total} scans from {args.readers} readers in {args.procs} processes"
          f"{' over a year of history' if args.year else ''}: bare paho subscriber {floor:,.0f} msg/s; "
          f"mamori all acked in {elapsed:.2f} s → {rate:,.0f} scans/s = {rate / floor:.2f} of the yardstick "
          f"(server CPU {cpu * 1e6 / total:,.0f} µs a scan); "
          f"ledger holds {stored} ({distinct} distinct){'' if not left else f'  {left} NOT ACKED'}", flush=True)
    if stored != total or distinct != total:
        raise SystemExit(f"ledger count {stored} does not match {total} scans sent")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--readers", type=int, default=20)
    parser.add_argument("--procs", type=int, default=4)
    parser.add_argument("--scans", type=int, default=20000)
    parser.add_argument("--db", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--year", type=float, default=None, help="seed a year of history first (1.0: 1M scans)")
    args = parser.parse_args()
    for kind in args.db:
        run(kind, args)


if __name__ == "__main__":
    main()
