"""After an outage: how long a gateway takes to hand 10,000 kept scans to the server, and its memory.

The gateway runs as deployed (`python -m gateway --config …`, its own process; a pty stands in
for the RDM6300 and gpiozero's mock pins for the relay); `mamori serve` and Mosquitto are real.
The backlog is written into the gateway's outbox before it starts, as a long outage leaves it.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from ulid import ULID

from bench.common import bench_env, database, seed, server
from gateway import protocol
from gateway.outbox import Outbox
from tests.support.gateway import derived_yaml, rdm6300
from tests.support.rdm6300 import FobField

ROOT = Path(__file__).resolve().parents[1]
BACKLOG = 10_000


def fill_outbox(path: Path, count: int) -> None:
    """`count` scans as taps during an outage leave them (one transaction here, to set up fast)."""
    Outbox(path).close()  # the schema
    start = datetime.now().astimezone() - timedelta(hours=2)
    rows = []
    for n in range(count):
        scan = protocol.Scan(v=1, id=str(ULID()), uid=f"C0{n:08X}", tech="em4100", at=start + timedelta(seconds=n / 2))
        rows.append((scan.id, "scan", protocol.encode(scan), time.time()))
    with sqlite3.connect(path) as db:
        db.executemany("INSERT INTO pending (id, channel, payload, put_at) VALUES (?, ?, ?, ?)", rows)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def pending(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT count(*) FROM pending").fetchone()[0]


def run(kind: str = "sqlite") -> dict[str, float]:
    with bench_env() as (workdir, broker), database(kind, workdir) as url:
        seed(url, [("entrance", "entrance")], cards=1)
        fobs = FobField()
        config = derived_yaml("entrance.yaml", workdir, broker_url=broker.url, card_reader=rdm6300(fobs.port))
        outbox = workdir / "entrance-outbox.sqlite3"
        fill_outbox(outbox, BACKLOG)
        log = workdir / "gateway.log"
        with server(url, broker.url, workdir):
            broker.stop()  # the outage: the server waits for the broker, the gateway starts without it
            gateway = subprocess.Popen([sys.executable, "-m", "gateway", "--config", str(config)], cwd=ROOT,
                                       stdout=subprocess.DEVNULL, stderr=open(log, "wb"))
            try:
                time.sleep(3)
                idle_mb = rss_mb(gateway.pid)
                broker.start()
                back = time.monotonic()
                while "connected to" not in log.read_text():
                    time.sleep(0.01)
                connected = time.monotonic()
                peak = idle_mb
                while pending(outbox):
                    peak = max(peak, rss_mb(gateway.pid))
                    if time.monotonic() - back > 300:
                        raise RuntimeError(f"{pending(outbox)} scans still waiting after 300 s")
                    time.sleep(0.02)
                done = time.monotonic()
                after_mb = rss_mb(gateway.pid)
            finally:
                gateway.terminate()
                gateway.wait(10)
                fobs.close()
        return {"reconnect_s": connected - back, "drain_s": done - connected, "total_s": done - back,
                "idle_mb": idle_mb, "peak_mb": peak, "after_mb": after_mb}


def main() -> None:
    print(f"gateway outbox drain: {BACKLOG:,} scans kept during an outage, broker back at t=0")
    for kind in ("sqlite", "postgresql"):
        r = run(kind)
        print(f"  server on {kind:<10}  reconnect {r['reconnect_s']:5.2f} s  drain {r['drain_s']:5.2f} s  "
              f"(total {r['total_s']:5.2f} s)   gateway RSS idle {r['idle_mb']:.1f} MB, "
              f"peak {r['peak_mb']:.1f} MB, after {r['after_mb']:.1f} MB")


if __name__ == "__main__":
    main()
