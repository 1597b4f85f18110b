"""Several `mamori serve` processes on one PostgreSQL: sustained scans/s and decision latency with 1, 2 and 3.

    .venv/bin/python -m bench.multi [--processes 1 2 3] [--readers 12] [--scans 3000]

For each count, a fresh database, that many `mamori serve` processes sharing the readers' messages
(MAMORI_NODE_ID, `$share/mamori/...`), and `--readers` simulated entrance readers publishing their share
of `--scans` distinct staff taps (QoS 1, no pause). Scans/s runs from the first publish to the last ack.
Then a steady load well below that (`--steady` scans/s for 10 s), during which a probe reader taps every
50 ms and times tap → decision (what a person at the door waits).
Beside each, the yardstick: the same number of bare paho subscribers in the same shared group taking
the same messages and doing nothing with them: what the broker and this machine allow at all.
"""

from __future__ import annotations

import argparse
import itertools
import threading
import time
from contextlib import ExitStack

import paho.mqtt.client as mqtt

from bench.common import SITE, bench_env, card_uid, database, fmt, percentiles, seed, server
from gateway import protocol
from gateway.simulator import SimulatedReader

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


def servers(processes: int, readers: int, scans: int, steady: float) -> tuple[float, list[float]]:
    per_reader = scans // readers
    burst = per_reader * readers
    with bench_env() as (workdir, broker), database("postgresql", workdir) as url:
        # the burst's cards, then 1,000 per reader for the steady load, then the probe's
        seed(url, [(f"entrance-{r}", "entrance") for r in range(readers)] + [(PROBE, "entrance")],
             burst + 1_000 * readers + 1_000)
        with ExitStack() as stack:
            for n in range(processes):
                stack.enter_context(server(url, broker.url, workdir, node=f"n{n}"))
            sims = [SimulatedReader(broker.url, SITE, f"entrance-{r}", resend_after=120).start()
                    for r in range(readers)]
            start = time.perf_counter()
            ids = _publish_all(sims, per_reader)
            acked = all(sim.wait_acked(ids[r], timeout=600) for r, sim in enumerate(sims))
            elapsed = time.perf_counter() - start
            probe = SimulatedReader(broker.url, SITE, PROBE, resend_after=120).start()
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


def yardstick(processes: int, readers: int, scans: int) -> float:
    """Bare paho subscribers in a shared group: messages/s the broker hands out, and nothing else."""
    per_reader = scans // readers
    with bench_env() as (_workdir, broker):
        got, done = [0], threading.Event()
        lock = threading.Lock()

        def received(_c, _u, _m) -> None:
            with lock:
                got[0] += 1
                if got[0] >= per_reader * readers:
                    done.set()

        subscribers = []
        for n in range(processes):
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"yardstick-{n}", clean_session=True)
            client.on_message = received
            client.connect("127.0.0.1", broker.port)
            client.subscribe(f"$share/mamori/{protocol.subscription('scan')}", qos=1)
            client.loop_start()
            subscribers.append(client)
        time.sleep(0.5)
        sims = [SimulatedReader(broker.url, SITE, f"entrance-{r}", resend_after=600).start() for r in range(readers)]
        start = time.perf_counter()
        _publish_all(sims, per_reader)
        done.wait(120)
        elapsed = time.perf_counter() - start
        for client in subscribers:
            client.disconnect()
            client.loop_stop()
        for sim in sims:
            sim.stop()
    return got[0] / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--readers", type=int, default=12)
    parser.add_argument("--scans", type=int, default=3000)
    parser.add_argument("--steady", type=float, default=50, help="scans/s beside the probe")
    args = parser.parse_args()
    for processes in args.processes:
        rate, latencies = servers(processes, args.readers, args.scans, args.steady)
        bare = yardstick(processes, args.readers, args.scans)
        print(f"{processes} process(es): {rate:,.0f} scans/s sustained (bare paho fan-in: {bare:,.0f} msg/s)")
        if len(latencies) >= 10:
            print("  " + fmt(f"tap → decision at {args.steady:g}/s", percentiles(latencies)))
        else:
            print(f"  only {len(latencies)} probe decisions came back in time")


if __name__ == "__main__":
    main()
