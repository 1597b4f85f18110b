"""Exports: how soon a long CSV starts, how long it takes, and what it costs the server's memory.

    .venv/bin/python -m bench.exports (--sqlite PATH | --pg-database NAME) [--now ISO] [--repeat 3] [--skip WORD ...]

Runs on a database seeded by bench.scale (reuse the file or the kept PostgreSQL database, with the
same --now). Starts the real app (uvicorn, no ingest) in a process of its own, logs in through the
login form as an admin it adds, and downloads the 入退室記録簿 and the 持ち出し管理簿 (every
take-out) for the last full month and the last 12 months before it over a socket, reading the body
as it arrives: the first byte (target ≤ 200 ms), the whole, the size, and the server's resident
memory (VmRSS, sampled every 5 ms) above what it held just before the request (target ≤ 20 MB).
Beside them, in the same run, the yardstick: the round trip of /api/v1/health.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from bench.common import percentiles
from bench.scale import ZONE, last_full_month, office_now
from tests.support.broker import free_port, wait_port
from tests.support.databases import PG_ADMIN_URL

USER, PASSWORD = "bench-exports", "bench-exports-長いパスワード-2026"
FIRST_BYTE_MS, GROWTH_MB = 200.0, 20.0


def serve(url: str, port: int, now: datetime) -> None:
    """The child: the app as `mamori serve` runs it, with the office clock stopped at `now`."""
    import gc

    import uvicorn

    from server.config import Settings
    from server.main import create_app

    app = create_app(Settings(database_url=url, cookie_secure=False), clock=lambda: now, with_ingest=False)
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def add_admin(url: str, now: datetime) -> None:
    from sqlalchemy import select

    from server.accounts.models import User
    from server.accounts.service import add_user
    from server.db import make_engine, make_session_factory, unit_of_work

    engine = make_engine(url)
    with unit_of_work(make_session_factory(engine)) as db:
        if db.scalar(select(User.id).where(User.name == USER)) is None:
            add_user(db, USER, "admin", PASSWORD, now)
    engine.dispose()


def rss_kb(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1))


class Peak(threading.Thread):
    """The highest VmRSS of `pid` while it runs."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, rss_kb(pid), True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_kb(self.pid))
            time.sleep(0.005)

    def stop(self) -> int:
        self.running = False
        self.join()
        return max(self.peak, rss_kb(self.pid))


def log_in(client: httpx.Client) -> None:
    form = client.get("/login?next=/dashboard")
    csrf = re.search(r'name="csrf" value="([^"]*)"', form.text).group(1)
    done = client.post("/login", data={"name": USER, "password": PASSWORD, "csrf": csrf, "next": "/dashboard"})
    if done.status_code != 303:
        raise SystemExit(f"login failed: {done.status_code}")


def download(client: httpx.Client, pid: int, path: str) -> dict[str, float]:
    before = rss_kb(pid)
    peak = Peak(pid)
    peak.start()
    size = lines = 0
    first = None
    t0 = time.perf_counter()
    with client.stream("GET", path) as response:
        if response.status_code != 200:
            peak.stop()
            raise SystemExit(f"{path}: {response.status_code}")
        for chunk in response.iter_raw():
            if first is None:
                first = time.perf_counter() - t0
            size += len(chunk)
            lines += chunk.count(b"\r\n")
    total = time.perf_counter() - t0
    return {"first_ms": first * 1000, "total_s": total, "mib": size / 2**20, "lines": lines - 1,
            "growth_mb": (peak.stop() - before) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sqlite", help="a SQLite file seeded by bench.scale")
    parser.add_argument("--pg-database", help="a PostgreSQL database seeded by bench.scale --keep")
    parser.add_argument("--pg", default=PG_ADMIN_URL)
    parser.add_argument("--now", type=datetime.fromisoformat)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip", nargs="+", default=[], metavar="WORD",
                        help="leave out the exports whose label holds a word (e.g. 12: the year, minutes at full size)")
    parser.add_argument("--serve", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), datetime.fromisoformat(args.serve[2]))
        return
    if bool(args.sqlite) == bool(args.pg_database):
        raise SystemExit("give --sqlite PATH or --pg-database NAME")
    url = (f"sqlite:///{args.sqlite}" if args.sqlite else
           args.pg.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1) + f"/{args.pg_database}")
    now = args.now.astimezone(UTC) if args.now else office_now(datetime.now(UTC))
    add_admin(url, now)
    month_start, month_end = (d.date() for d in last_full_month(now))
    last = month_end - timedelta(days=1)
    year_start = date(last.year - 1, last.month, 1) + timedelta(days=31)
    year_start = year_start.replace(day=1)  # the 12 months ending with the last full one
    exports = [
        ("入退室記録簿, 1 day", f"/entry-log.csv?from={last}&to={last}"),
        ("入退室記録簿, 1 month", f"/entry-log.csv?from={month_start}&to={last}"),
        ("入退室記録簿, 12 months", f"/entry-log.csv?from={year_start}&to={last}"),
        ("持ち出し管理簿, 1 month", f"/register.csv?report=transactions&from={month_start}&to={last}"),
        ("持ち出し管理簿, 12 months", f"/register.csv?report=transactions&from={year_start}&to={last}"),
    ]
    port = free_port()
    child = subprocess.Popen([sys.executable, "-m", "bench.exports", "--serve", url, str(port), now.isoformat()])
    try:
        wait_port(port, timeout=60)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600) as client:
            log_in(client)
            print(f"{url.rsplit('/', 1)[-1]}; office clock {now.astimezone(ZONE):%Y-%m-%d %H:%M}; "
                  f"server RSS {rss_kb(child.pid) / 1024:.0f} MB after start", flush=True)
            health = []
            for _ in range(50):
                t0 = time.perf_counter()
                client.get("/api/v1/health").raise_for_status()
                health.append((time.perf_counter() - t0) * 1000)
            stats = percentiles(health)
            print(f"  yardstick GET /api/v1/health: p50 {stats['p50']:.1f} / p95 {stats['p95']:.1f} ms", flush=True)
            download(client, child.pid, exports[0][1])  # warm-up: the code paths loaded, the pools filled
            print("| export | lines | MiB | first byte ms (max) | whole s (median) | RSS growth MB (max) |")
            print("|---|---|---|---|---|---|")
            for label, path in exports:
                if any(word in label for word in args.skip):
                    continue
                runs = [download(client, child.pid, path) for _ in range(args.repeat)]
                first = max(r["first_ms"] for r in runs)
                growth = max(r["growth_mb"] for r in runs)
                whole = sorted(r["total_s"] for r in runs)[len(runs) // 2]
                print(f"| {label} | {runs[0]['lines']:,} | {runs[0]['mib']:.1f} | {first:.0f} "
                      f"{'✔' if first <= FIRST_BYTE_MS else '✘'} | {whole:.1f} | {growth:.1f} "
                      f"{'✔' if growth <= GROWTH_MB else '✘'} |", flush=True)
            print(f"  server RSS {rss_kb(child.pid) / 1024:.0f} MB at the end")
    finally:
        child.terminate()
        child.wait(timeout=30)


if __name__ == "__main__":
    main()
