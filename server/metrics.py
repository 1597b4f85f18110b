"""`/metrics` in Prometheus's text format (prometheus_client): what an office's IT person watches.

Two kinds of figure. What the ingest counts as it goes (scans by result, the time from a scan's
arrival to its decision leaving, batch sizes, refused payloads by reason) is kept in memory and
updated once per committed batch, after the commit. What the office looks like now (the worker's
queue, readers online / offline / not working, notices waiting, alerts not resolved) is read at
scrape time with a few small counting queries, so nothing is stored twice.

Each app has its own registry: tests run several servers in one process. Who may read it: see
`allowed()` and docs/monitoring.md.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from server.alerts.models import Alert
from server.notify.models import Notice
from server.readers.models import Reader

log = logging.getLogger("mamori.metrics")
disable_created_metrics()  # the *_created series only say when the server started, which uptime tells better

SCAN_RESULTS = ("unlock", "accept", "deny", "stale", "repeat")
# A quiet office decides in ~3 ms; a replaying one may take a second; past 10 s a scan gets no decision.
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


class IngestMetrics:
    """The ingest's counters; the worker calls `batch_done` once per committed batch."""

    def __init__(self, registry: CollectorRegistry):
        self.scans = Counter("mamori_scans", "Scans recorded, by what they earned: unlock, accept, deny; stale "
                             "(recorded, too old for a decision) or repeat (already recorded)", ["result"],
                             registry=registry)
        self.latency = Histogram("mamori_decision_latency_seconds", "From a scan's arrival at the server to its "
                                 "decision being handed to the broker", buckets=LATENCY_BUCKETS, registry=registry)
        self.batch = Histogram("mamori_ingest_batch_size", "Messages committed in one unit of work",
                               buckets=BATCH_BUCKETS, registry=registry)
        self.dead_letters = Counter("mamori_dead_letters", "Payloads refused (kept as dead letters, or only "
                                    "counted past a reader's limit), by reason", ["reason"], registry=registry)
        for result in SCAN_RESULTS:
            self.scans.labels(result)  # every result shows from the start, at 0

    def batch_done(self, size: int, scans: Iterable[str], latencies: Iterable[float], refused: Iterable[str]) -> None:
        self.batch.observe(size)
        for result in scans:
            self.scans.labels(result).inc()
        for seconds in latencies:
            self.latency.observe(seconds)
        for reason in refused:
            self.dead_letters.labels(reason).inc()


class OfficeNow:
    """Gauges read at scrape time: the ingest's state from memory, the rest from the database."""

    def __init__(self, factory: sessionmaker[Session], ingest: Callable[[], Any]):
        self.factory = factory
        self.ingest = ingest  # the running Ingest, or None (a server started without it)

    def describe(self) -> list[Metric]:
        return []  # generated at each scrape; nothing to check at registration

    def collect(self) -> Iterable[Metric]:
        ingest = self.ingest()
        if ingest is not None:
            yield _gauge("mamori_ingest_queue_depth", "Messages received and waiting for the ingest worker",
                         ingest.worker.queue_depth)
            yield _gauge("mamori_ingest_worker_alive", "1 while the ingest worker thread runs", int(ingest.worker.alive))
            yield _gauge("mamori_broker_connected", "1 while the server is connected to the broker",
                         int(bool(ingest.link.connected)))
        try:
            with self.factory() as db:
                yield from _from_database(db)
            up = 1
        except Exception as exc:  # the scrape must still say what it knows, and that the database is away
            log.warning("metrics: the database did not answer (%s)", exc.__class__.__name__)
            up = 0
        yield _gauge("mamori_database_up", "1 when the database answered this scrape", up)


def _from_database(db: Session) -> Iterable[Metric]:
    readers = GaugeMetricFamily("mamori_readers", "Registered readers by state: online (working), degraded "
                                "(online, something not working), offline (Last Will), unknown (never heard)",
                                labels=["state"])
    state = {"online": 0, "degraded": 0, "offline": 0, "unknown": 0}
    for online, degraded, count in db.execute(
            select(Reader.online, Reader.degraded.is_not(None), func.count()).group_by(
                Reader.online, Reader.degraded.is_not(None))):
        key = "unknown" if online is None else "offline" if not online else "degraded" if degraded else "online"
        state[key] += count
    for name, count in state.items():
        readers.add_metric([name], count)
    yield readers
    yield _gauge("mamori_readers_online", "Readers online (working or not)", state["online"] + state["degraded"])
    waiting = db.scalar(select(func.count()).select_from(Notice).where(Notice.sent_at.is_(None),
                                                                       Notice.failed_at.is_(None)))
    yield _gauge("mamori_notices_waiting", "E-mail and webhook notices not yet sent (nor given up)", waiting or 0)
    alerts = GaugeMetricFamily("mamori_alerts_open", "Alerts not resolved, by kind and state (open, acknowledged)",
                               labels=["type", "state"])
    for type_, alert_state, count in db.execute(
            select(Alert.type, Alert.state, func.count()).where(Alert.state != "resolved")
            .group_by(Alert.type, Alert.state)):
        alerts.add_metric([type_, alert_state], count)
    yield alerts


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def make_registry(factory: sessionmaker[Session], ingest: Callable[[], Any]) -> tuple[CollectorRegistry,
                                                                                        IngestMetrics]:
    registry = CollectorRegistry()
    registry.register(OfficeNow(factory, ingest))
    return registry, IngestMetrics(registry)


def allowed(token: str | None, authorization: str | None, client: str | None) -> bool:
    """With MAMORI_METRICS_TOKEN set, a scraper sends `Authorization: Bearer <it>` from anywhere;
    without it, only a scraper on this machine (loopback) is answered."""
    if token:
        scheme, _, given = (authorization or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
    try:
        return client is not None and ipaddress.ip_address(client).is_loopback
    except ValueError:
        return False


def metrics_router(registry: CollectorRegistry, token: str | None) -> APIRouter:
    """`GET /metrics` for a scraper (not a page: no menu, no session)."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        if not allowed(token, request.headers.get("authorization"), request.client.host if request.client else None):
            return PlainTextResponse("forbidden: set MAMORI_METRICS_TOKEN and send it as a bearer token, or scrape "
                                     "from this machine (docs/monitoring.md)\n", status_code=403)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)

    return router
