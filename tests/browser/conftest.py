"""Browser tests: Debian's Chromium, driven by Playwright, against mamori served by uvicorn on a free port.

`live_office` is a real server (ingest on a real Mosquitto, a SQLite file, one account per role) on
http://127.0.0.1:<port>; `page` is a fresh browser context (Japanese, Tokyo time) per test. For other
settings, parametrize `live_office` indirectly with a dict of Settings overrides, or call `start_office`.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy.orm import Session

from server.accounts.service import add_user
from server.clock import Clock, system_clock
from server.config import Settings
from server.db import make_engine, make_session_factory, unit_of_work
from server.main import create_app
from server.migrate import upgrade
from tests.support.broker import Mosquitto

# Without the background-networking flags Chromium keeps dialling Google on this closed network and
# can hang; --no-sandbox because the tests may run as root (Chromium refuses its sandbox then).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
CONTEXT = {"locale": "ja-JP", "timezone_id": "Asia/Tokyo", "viewport": {"width": 1280, "height": 900}}


@dataclass(frozen=True)
class Account:
    role: str
    name: str
    password: str


# One account per role; the passwords meet the rule (≥ 10 characters, 3 of 4 kinds).
ACCOUNTS = {a.role: a for a in (
    Account("admin", "kanri", "Kanri-2026-pass"),
    Account("manager", "佐藤花子", "Sato-Hanako-2026"),
    Account("receptionist", "uketsuke", "Uketsuke-2026!"),
    Account("surveyor", "suzuki", "Suzuki-Chosa-2026"),
    Account("auditor", "kansa", "Kansa-Etsuran-2026"),
)}


def chromium_executable() -> str:
    """The system Chromium (MAMORI_CHROMIUM overrides); Playwright never downloads one of its own here."""
    for candidate in (os.environ.get("MAMORI_CHROMIUM"), shutil.which("chromium"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("Chromium is needed for the browser tests: sudo apt-get install -y chromium "
                "(deploy/test.sh installs it when run as root), or set MAMORI_CHROMIUM")


class LiveServer:
    """uvicorn in a background thread on a socket bound here (no race for the port); stops gracefully."""

    def __init__(self, app) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan="on", timeout_graceful_shutdown=3,
                                timeout_keep_alive=5)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True,
                                       name=f"uvicorn:{self.port}")

    def start(self, timeout: float = 20) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("uvicorn stopped while starting (see the log above)")
            if time.monotonic() > deadline:
                raise TimeoutError("uvicorn did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(15)
        self.sock.close()
        if self.thread.is_alive():
            raise RuntimeError("uvicorn did not stop within 15 s")


class LiveOffice:
    """A running mamori reachable from the browser, with an account per role."""

    def __init__(self, settings: Settings, app, server: LiveServer, factory) -> None:
        self.settings, self.app, self.server, self.factory = settings, app, server, factory
        self.base_url = f"http://127.0.0.1:{server.port}"
        self.users = ACCOUNTS

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    @contextmanager
    def db(self) -> Iterator[Session]:
        """A unit of work on the office's database, to arrange or check what the pages cannot."""
        with unit_of_work(self.factory) as session:
            yield session

    def wait_connected(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while not self.app.state.ingest.link.connected:
            if time.monotonic() > deadline:
                raise TimeoutError("the server did not connect to the broker")
            time.sleep(0.02)

    def login(self, page: Page, role: str = "manager", *, next: str | None = None,
              password: str | None = None) -> None:
        """Through the real login form; fails with the page's message unless the browser left /login."""
        account = self.users[role]
        page.goto(self.url("/login" + (f"?next={next}" if next else "")))
        self.submit_login(page, account.name, password or account.password)
        if urlsplit(page.url).path == "/login":
            alert = page.get_by_role("alert")
            raise AssertionError(f"{account.name} ({role}) could not log in: "
                                 f"{alert.inner_text() if alert.count() else 'no message'}")

    @staticmethod
    def submit_login(page: Page, name: str, password: str) -> None:
        """Fill and send the login form already on the page (whatever the outcome)."""
        page.fill("#name", name)
        page.fill("#password", password)
        with page.expect_navigation():
            page.click("form[action='/login'] button[type=submit]")


@pytest.fixture(scope="session")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_executable(), headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def seed(database_url: str) -> None:
    """Migrate, and add one account per role."""
    upgrade(database_url)
    engine = make_engine(database_url)
    with unit_of_work(make_session_factory(engine)) as db:
        for account in ACCOUNTS.values():
            add_user(db, account.name, account.role, account.password, datetime.now(UTC))
    engine.dispose()


@pytest.fixture(scope="session")
def seeded_sqlite(tmp_path_factory) -> Path:
    """Migrated with the accounts in it, once: each office starts from a copy (argon2 is slow on purpose)."""
    path = tmp_path_factory.mktemp("template") / "mamori.db"
    seed(f"sqlite:///{path}")
    return path


@pytest.fixture
def start_office(tmp_path, seeded_sqlite) -> Iterator[Callable[..., LiveOffice]]:
    """`start_office(idle_lock_min=0.05, clock=...)`: a live office with these Settings overrides.

    A `database_url` override (e.g. a throwaway PostgreSQL) is migrated and seeded; by default each
    office has its own SQLite file.
    """
    started: list[tuple[LiveServer, Mosquitto]] = []

    def start(*, clock: Clock = system_clock, **overrides) -> LiveOffice:
        n = len(started)
        if "database_url" in overrides:
            seed(overrides["database_url"])
        else:
            path = tmp_path / f"mamori{n}.db"
            with closing(sqlite3.connect(seeded_sqlite)) as source, closing(sqlite3.connect(path)) as copy:
                source.backup(copy)
            overrides["database_url"] = f"sqlite:///{path}"
        broker = Mosquitto(tmp_path / f"broker{n}", persistence=False).start()
        settings = Settings(**{"mqtt_url": broker.url, "mqtt_client_id": f"mamori-browser-{uuid.uuid4().hex[:8]}",
                               **overrides})
        app = create_app(settings, clock=clock)
        try:
            server = LiveServer(app).start()
        except Exception:
            broker.kill()
            raise
        started.append((server, broker))
        return LiveOffice(settings, app, server, app.state.session_factory)

    yield start
    for server, broker in reversed(started):
        try:
            server.stop()
        finally:
            broker.kill()


@pytest.fixture
def live_office(request, start_office) -> LiveOffice:
    """A live office with the default settings, or `@pytest.mark.parametrize("live_office", [{...}], indirect=True)`."""
    return start_office(**getattr(request, "param", {}))


@pytest.fixture
def new_context(chromium):
    """`new_context(locale="en-US")`: another browser context (closed after the test), ja-JP by default."""
    contexts = []

    def make(**options):
        context = chromium.new_context(**{**CONTEXT, **options})
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_context) -> Page:
    return new_context().new_page()
