"""Several `mamori serve` processes on one PostgreSQL: sustained scans/s and decision latency with 1, 2 and 3.

    .venv/bin/python -m bench.multi [--processes 1 2 3] [--readers 12] [--scans 3000] [--broker nats]

For each count, a fresh database, that many `mamori serve` processes sharing the readers' messages
(MAMORI_NODE_ID, `$share/mamori/...`), and `--readers` simulated entrance readers publishing their share
of `--scans` distinct staff taps (QoS 1, no pause). Scans/s runs from the first publish to the last ack.
Then a steady load well below that (`--steady` scans/s for 10 s), during which a probe reader taps every
50 ms and times tap → decision (what a person at the door waits).
Beside each, the yardstick: the same number of bare paho subscribers in the same shared group taking
the same messages and doing nothing with them: what the broker and this machine allow at all.

`--broker nats`: a three-node NATS cluster instead of one Mosquitto (docs/scale-out.md). It has no shared
subscriptions: each process, and each yardstick subscriber, connects to a node of its own and hears every
message (MAMORI_MQTT_SHARED_SUBSCRIPTIONS=false); the readers are spread over the nodes.
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt

from bench.common import SITE, bench_env, card_uid, database, fmt, percentiles, seed, server
from gateway import protocol
from gateway.net import broker_address
from gateway.simulator import SimulatedReader
from tests.support.nats import NatsCluster

PROBE = "probe"


def _publish_all(sims: list[SimulatedReader], per_reader: int) -> list[list[str]]:
    ids: list[list[str]] = [[] for _ in sims]

    def publish(r: int) -> None:
        for n in range(per_reader):
            ids[r].append(sims[r].tap(card_uid(r * per_reader + n)))

    threads = [threading.Thread(target=publish, args=(r,)) for r in range(len(sims))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return ids


def _probe(sim: SimulatedReader, first_card: int, stop: threading.Event, out: list[float]) -> None:
    for n in itertools.count(first_card):
        if stop.is_set():
            return
        started = time.perf_counter()
        scan = sim.tap(card_uid(n))
        if sim.wait_decision(scan, timeout=5) is not None:
            out.append((time.perf_counter() - started) * 1000)
        stop.wait(0.05)


def _steady(sims: list[SimulatedReader], first_card: int, rate: float, seconds: float) -> None:
    """`rate` taps a second spread over the readers, each tap a card not seen before."""
    def tap(r: int) -> None:
        every = len(sims) / rate
        for n in range(int(seconds / every)):
            sims[r].tap(card_uid(first_card + r * 1_000 + n))
            time.sleep(every)

    threads = [threading.Thread(target=tap, args=(r,)) for r in range(len(sims))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


@contextmanager
def brokers(kind: str):
    """A temp folder and the broker's URLs: one Mosquitto, or each node of a NATS cluster."""
    if kind == "mosquitto":
        with bench_env() as (workdir, broker):
            yield workdir, [broker.url]
        return
    workdir = Path(tempfile.mkdtemp(prefix="mamori-bench-"))
    cluster = NatsCluster(workdir / "nats").start()
    try:
        yield workdir, cluster.urls
    finally:
        cluster.stop()


def _subscribed(url: str, first_card: int) -> None:
    """A message sent before a process's subscription is in place reaches no one (a reader re-sends it
    later): wait until a tap is answered, then a moment for the other processes' subscriptions."""
    warm = SimulatedReader(url, SITE, PROBE, resend_after=1).start()
    try:
        if not warm.wait_acked(warm.tap(card_uid(first_card)), timeout=60):
            raise SystemExit("no process answered a tap within 60 s")
    finally:
        warm.stop()
    time.sleep(2)


def servers(kind: str, processes: int, readers: int, scans: int, steady: float) -> tuple[float, list[float]]:
    per_reader = scans // readers
    burst = per_reader * readers
    with brokers(kind) as (workdir, urls), database("postgresql", workdir) as url:
        # the burst's cards, then 1,000 per reader for the steady load, then the probe's
        seed(url, [(f"entrance-{r}", "entrance") for r in range(readers)] + [(PROBE, "entrance")],
             burst + 1_000 * readers + 1_000)
        shared = {} if kind == "mosquitto" else {"MAMORI_MQTT_SHARED_SUBSCRIPTIONS": "false"}
        with ExitStack() as stack:
            for n in range(processes):
                stack.enter_context(server(url, urls[n % len(urls)], workdir, node=f"n{n}", **shared))
            _subscribed(urls[0], first_card=burst + 1_000 * readers + 999)
            sims = [SimulatedReader(urls[r % len(urls)], SITE, f"entrance-{r}", resend_after=120).start()
                    for r in range(readers)]
            start = time.perf_counter()
            ids = _publish_all(sims, per_reader)
            acked = all(sim.wait_acked(ids[r], timeout=600) for r, sim in enumerate(sims))
            elapsed = time.perf_counter() - start
            probe = SimulatedReader(urls[0], SITE, PROBE, resend_after=120).start()
            stop, latencies = threading.Event(), []
            prober = threading.Thread(target=_probe, args=(probe, burst + 1_000 * readers, stop, latencies))
            prober.start()
            _steady(sims, burst, steady, 10)
            stop.set()
            prober.join()
            for sim in [*sims, probe]:
                sim.stop()
    if not acked:
        raise SystemExit("not every scan was acknowledged")
    return burst / elapsed, latencies


def yardstick(kind: str, processes: int, readers: int, scans: int) -> float:
    """Bare paho subscribers (in a shared group on Mosquitto; on NATS each hearing all): distinct
    messages/s the broker hands out, and nothing else."""
    per_reader = scans // readers
    with brokers(kind) as (_workdir, urls):
        heard: set[int] = set()
        done = threading.Event()
        lock = threading.Lock()
        # on NATS each subscriber hears every message: the clock stops when every one has heard all
        each = {n: 0 for n in range(processes)} if kind == "nats" else None

        def received(client, _u, msg) -> None:
            with lock:
                heard.add(hash(msg.payload))
                if each is not None:
                    each[client._userdata] += 1
                    finished = min(each.values()) >= per_reader * readers
                else:
                    finished = len(heard) >= per_reader * readers
                if finished:
                    done.set()

        subscribers = []
        for n in range(processes):
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"yardstick-{n}", clean_session=True,
                                 userdata=n)
            client.on_message = received
            host, port, _tls = broker_address(urls[n % len(urls)])
            client.connect(host, port)
            plain = protocol.subscription("scan")
            subscribed = threading.Event()
            client.on_subscribe = lambda _c, _u, _mid, _codes, _p, event=subscribed: event.set()
            client.loop_start()
            client.subscribe(f"$share/mamori/{plain}" if kind == "mosquitto" else plain, qos=1)
            if not subscribed.wait(30):
                raise SystemExit(f"yardstick subscriber {n} was not subscribed within 30 s")
            subscribers.append(client)
        sims = [SimulatedReader(urls[r % len(urls)], SITE, f"entrance-{r}", resend_after=600).start()
                for r in range(readers)]
        start = time.perf_counter()
        _publish_all(sims, per_reader)
        done.wait(120)
        elapsed = time.perf_counter() - start
        for client in subscribers:
            client.disconnect()
            client.loop_stop()
        for sim in sims:
            sim.stop()
    return len(heard) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--readers", type=int, default=12)
    parser.add_argument("--scans", type=int, default=3000)
    parser.add_argument("--steady", type=float, default=50, help="scans/s beside the probe")
    parser.add_argument("--broker", choices=["mosquitto", "nats"], default="mosquitto")
    args = parser.parse_args()
    for processes in args.processes:
        rate, latencies = servers(args.broker, processes, args.readers, args.scans, args.steady)
        bare = yardstick(args.broker, processes, args.readers, args.scans)
        print(f"{args.broker}, {processes} process(es): {rate:,.0f} scans/s sustained "
              f"(bare paho fan-in: {bare:,.0f} msg/s)")
        if len(latencies) >= 10:
            print("  " + fmt(f"tap → decision at {args.steady:g}/s", percentiles(latencies)))
        else:
            print(f"  only {len(latencies)} probe decisions came back in time")


if __name__ == "__main__":
    main()
