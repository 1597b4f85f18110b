"""A browser-like client for the pages: HTTPS base URL (the session cookie is Secure), real login form."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from server.accounts.models import ROLES
from server.accounts.service import add_user
from server.audit.models import AuditEvent
from server.config import Settings
from server.db import make_engine, make_session_factory, unit_of_work
from server.main import create_app
from server.migrate import upgrade

PASSWORDS = {role: f"{role.capitalize()}-Pass-2026" for role in ("admin", "manager", "receptionist", "surveyor",
                                                                  "auditor")}


def page_client(app) -> TestClient:
    return TestClient(app, base_url="https://testserver", follow_redirects=False)


def hidden(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no hidden field {name!r} on the page"
    return match.group(1)


def csrf_of(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "the page carries no CSRF token"
    return match.group(1)


def log_in(client: TestClient, name: str, password: str, next_url: str = "/dashboard"):
    """Through the real login form; returns the response to the POST."""
    form = client.get(f"/login?next={next_url}")
    return client.post("/login", data={"name": name, "password": password, "csrf": hidden(form.text, "csrf"),
                                       "next": next_url})


def logged_in(app, name: str, password: str) -> tuple[TestClient, str]:
    """A client with a live session, and the session's CSRF token."""
    client = page_client(app)
    response = log_in(client, name, password)
    assert response.status_code == 303, response.text
    return client, csrf_of(client.get("/dashboard").text)


class Clock:
    """A clock a test can move forward."""
    def __init__(self):
        self.now = datetime(2026, 11, 27, 0, 30, tzinfo=UTC)  # 09:30 in Tokyo

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


class Site:
    """The pages without the MQTT half, one account per role, and a clock the test moves."""

    def __init__(self, database_url: str, **settings):
        upgrade(database_url)
        engine = make_engine(database_url)
        self.factory = make_session_factory(engine)
        with unit_of_work(self.factory) as db:
            for role in ROLES:
                add_user(db, role, role, PASSWORDS[role], datetime.now(UTC))
        self.clock = Clock()
        self.app = create_app(Settings(database_url=database_url, login_max_failures=3, lockout_min=15,
                                       idle_lock_min=10, **settings), clock=self.clock, with_ingest=False)

    def audit(self) -> list[tuple[str, str | None]]:
        with self.factory() as db:
            return [(e.action, e.actor) for e in db.scalars(select(AuditEvent).order_by(AuditEvent.id))]
