"""The FastAPI application: API, pages and, in `mamori serve`, the MQTT ingest."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import IntegrityError
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from server import __version__
from server.alerts.routes import router as alerts_router
from server.api.body_limit import BodyLimit
from server.api.early_auth import EarlyAuth
from server.api.schemas import OfficeZone
from server.card_keys.routes import router as card_auth_router
from server.cases.routes import router as cases_router
from server.checkouts.routes import router as checkouts_router
from server.clock import Clock, system_clock
from server.config import Settings
from server.db import make_engine, make_session_factory
from server.ingest.runner import Ingest
from server.items.routes import router as items_router
from server.items.rule_routes import router as loan_rules_router
from server.ledger.routes import router as ledger_router
from server.lost.routes import router as lost_router
from server.metrics import make_registry, metrics_router
from server.people.routes import router as people_router
from server.readers.routes import router as readers_router
from server.readiness import readiness_problems
from server.stocktakes.routes import router as stocktakes_router
from server.visits.routes import router as visits_router
from server.web.access_review import router as access_review_router
from server.web.accounts import router as accounts_router
from server.web.admin import router as admin_router
from server.web.auth_routes import router as auth_router
from server.web.cases import router as case_pages_router
from server.web.chain import router as chain_pages_router
from server.web.dashboard import router as dashboard_router
from server.web.devices import router as devices_router
from server.web.errors import install_page_errors
from server.web.headers import SecurityHeaders
from server.web.incident_report import router as incident_report_router
from server.web.incidents import router as incident_pages_router
from server.web.inspection import router as inspection_router
from server.web.lost import router as lost_pages_router
from server.web.my import router as my_router
from server.web.reception import router as reception_router
from server.web.register import router as register_router
from server.web.routes import router as web_router
from server.web.stocktakes import router as stocktake_pages_router
from server.web.training import router as training_pages_router

log = logging.getLogger("mamori")
LOGIN_BODY_MAX = 16 * 1024  # a name, a password and two tokens: anyone may send it, so it stays small


def create_app(settings: Settings, *, clock: Clock = system_clock, with_ingest: bool = True) -> FastAPI:
    engine = make_engine(settings.database_url)
    factory = make_session_factory(engine)

    registry, ingest_metrics = make_registry(factory, lambda: getattr(app.state, "ingest", None))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if with_ingest:
            app.state.ingest = Ingest(settings, clock, metrics=ingest_metrics)
            app.state.ingest.start()
        try:
            yield
        finally:
            if with_ingest:
                app.state.ingest.stop()
            engine.dispose()

    app = FastAPI(title="mamori", version=__version__, lifespan=lifespan,
                  description="Visitor log, cabinet checkout ledger and alerts from NFC/RFID taps.")
    app.add_middleware(OfficeZone, zone=settings.zone)
    app.add_middleware(EarlyAuth)
    app.add_middleware(BodyLimit, default=settings.max_body_kb * 1024,
                       caps=(("/login", LOGIN_BODY_MAX), ("/admin/import/", settings.import_max_body_kb * 1024)))
    if settings.trusted_proxies.strip():  # otherwise X-Forwarded-For is a header like any other, never an address
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.add_middleware(SecurityHeaders)  # outermost: the refusals above carry the headers too
    app.state.settings = settings
    app.state.clock = clock
    app.state.session_factory = factory
    app.state.engine = engine

    api = APIRouter(prefix="/api/v1")

    @api.get("/health", tags=["health"])
    def health(request: Request) -> dict:
        ingest = getattr(request.app.state, "ingest", None)
        broker = bool(ingest and ingest.link.connected)
        worker = bool(ingest and ingest.worker.alive)
        return {"status": "ok" if (broker and worker) or not ingest else "degraded", "version": __version__,
                "broker_connected": broker, "ingest_running": worker}

    @api.get("/ready", tags=["health"])
    def ready(request: Request) -> JSONResponse:
        """Readiness (unlike /health, liveness): 503 with the reasons unless the database answers at the
        newest schema, the broker is connected and the ingest worker runs."""
        reasons = readiness_problems(engine, getattr(request.app.state, "ingest", None))
        return JSONResponse({"ready": not reasons, "reasons": reasons}, status_code=503 if reasons else 200)

    for router in (readers_router, people_router, items_router, loan_rules_router, visits_router, checkouts_router,
                   alerts_router, ledger_router):
        api.include_router(router)
    api.include_router(lost_router)
    api.include_router(stocktakes_router)
    api.include_router(cases_router)
    api.include_router(card_auth_router)
    app.include_router(api)
    for router in (web_router, auth_router, dashboard_router, admin_router, accounts_router, reception_router,
                   register_router):
        app.include_router(router)
    app.include_router(devices_router)
    app.include_router(my_router)
    app.include_router(lost_pages_router)
    app.include_router(stocktake_pages_router)
    app.include_router(chain_pages_router)
    app.include_router(case_pages_router)
    app.include_router(inspection_router)
    app.include_router(access_review_router)
    app.include_router(training_pages_router)
    app.include_router(incident_pages_router)
    app.include_router(incident_report_router)
    app.include_router(metrics_router(registry, settings.metrics_token))

    app.mount("/static", StaticFiles(directory=Path(__file__).parent / "web" / "static"), name="static")
    install_page_errors(app)

    @app.exception_handler(IntegrityError)
    async def _conflict(_request: Request, exc: IntegrityError) -> JSONResponse:
        log.info("conflict: %s", exc.orig)
        return JSONResponse({"detail": "this conflicts with a record that already exists"}, status_code=409)

    return app


def serve_web(app: FastAPI, settings: Settings, *, host: str, port: int, log_level: str,
              json_logs: bool = False) -> None:
    """uvicorn, with its own proxy-header handling off (create_app trusts only MAMORI_TRUSTED_PROXIES);
    with JSON logs, uvicorn's loggers go through the root handler instead of its own format."""
    import uvicorn

    extra = {"log_config": None} if json_logs else {}
    uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=False, **extra,
                limit_concurrency=settings.web_max_connections)
