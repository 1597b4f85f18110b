"""Does every QoS 1 message reach every subscriber of a NATS cluster's MQTT listener?

    .venv/bin/python -m bench.nats_delivery [--runs 8] [--nodes 3 1] [--readers 12] [--scans 3000]

For each run, a fresh NATS cluster (tests/support/nats.py), two bare paho subscribers (QoS 1, clean
sessions, on nodes 0 and 1) to every reader's scans, and `--readers` simulated readers spread over the
nodes publishing `--scans` taps between them, nothing re-sent. After 10 s it prints, per subscriber,
how many arrived and which reader's which messages never did. mamori on NATS depends on the readers
re-sending what no server acknowledged (docs/scale-out.md); this shows how often that is needed.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from bench.common import SITE
from bench.multi import _publish_all
from gateway import protocol
from gateway.net import broker_address
from gateway.simulator import SimulatedReader
from tests.support.nats import NatsCluster


def run(nodes: int, readers: int, scans: int) -> list[dict[str, list[int]]]:
    """For each subscriber: reader → positions of its messages that never arrived."""
    cluster = NatsCluster(Path(tempfile.mkdtemp(prefix="mamori-nats-")), nodes=nodes).start()
    urls = cluster.urls
    heard: list[set[str]] = [set(), set()]
    lock = threading.Lock()
    subscribers, sims = [], []
    try:
        for n in range(2):
            client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"listener-{n}", clean_session=True,
                                 userdata=n)

            def received(_c, who, msg) -> None:
                with lock:
                    heard[who].add(json.loads(msg.payload)["id"])

            subscribed = threading.Event()
            client.on_message = received
            client.on_subscribe = lambda _c, _u, _m, _codes, _p, event=subscribed: event.set()
            host, port, _tls = broker_address(urls[n % len(urls)])
            client.connect(host, port)
            client.loop_start()
            client.subscribe(protocol.subscription("scan"), qos=1)
            if not subscribed.wait(30):
                raise SystemExit(f"listener {n} was not subscribed within 30 s")
            subscribers.append(client)
        sims = [SimulatedReader(urls[r % len(urls)], SITE, f"entrance-{r}", resend_after=3600).start()
                for r in range(readers)]
        ids = _publish_all(sims, scans // readers)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(len(h) < sum(map(len, ids)) for h in heard):
            time.sleep(0.2)
        with lock:
            return [{f"entrance-{r}": [i for i, x in enumerate(sent) if x not in h]
                     for r, sent in enumerate(ids) if any(x not in h for x in sent)} for h in heard]
    finally:
        for sim in sims:
            sim.stop()
        for client in subscribers:
            client.disconnect()
            client.loop_stop()
        cluster.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=8)
    parser.add_argument("--nodes", type=int, nargs="+", default=[3, 1])
    parser.add_argument("--readers", type=int, default=12)
    parser.add_argument("--scans", type=int, default=3000)
    args = parser.parse_args()
    for nodes in args.nodes:
        lost = 0
        for n in range(args.runs):
            missing = run(nodes, args.readers, args.scans)
            lost += sum(len(p) for m in missing for p in m.values())
            print(f"{nodes} node(s), run {n + 1}: " + "; ".join(
                f"listener {i}: " + (", ".join(f"{r} #{p}" for r, p in m.items()) or "all arrived")
                for i, m in enumerate(missing)), flush=True)
        total = 2 * args.runs * (args.scans // args.readers) * args.readers
        print(f"{nodes} node(s): {lost} of {total:,} deliveries never arrived")


if __name__ == "__main__":
    main()
