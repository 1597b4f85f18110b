"""A guesser can neither tell real names from unknown ones, nor keep the real person out, nor hide behind a
forged X-Forwarded-For."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from server.accounts import login as login_module
from server.audit.models import AuditEvent
from server.db import make_engine, make_session_factory
from tests.support.broker import free_port, wait_port
from tests.support.web import PASSWORDS, Site, csrf_of, hidden, log_in

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
WRONG = "Wrong-Pass-2026"


@pytest.fixture
def site(database_url):
    site = Site(database_url)
    with TestClient(site.app, base_url="https://testserver"):
        yield site


def client_at(site: Site, address: str) -> TestClient:
    return TestClient(site.app, base_url="https://testserver", follow_redirects=False, client=(address, 40000))


def addresses(factory) -> list[str | None]:
    with factory() as db:
        return [a for a in db.scalars(select(AuditEvent.address).order_by(AuditEvent.id))]


def test_a_guesser_elsewhere_cannot_keep_the_real_person_out(site):
    guesser = client_at(site, "203.0.113.9")
    statuses = [log_in(guesser, "surveyor", WRONG).status_code for _ in range(4)]
    assert statuses == [401, 401, 403, 403]
    assert log_in(guesser, "surveyor", PASSWORDS["surveyor"]).status_code == 403  # locked from there
    assert log_in(client_at(site, "192.0.2.10"), "surveyor", PASSWORDS["surveyor"]).status_code == 303


def _answers(site: Site, name: str, address: str) -> list[tuple[int, str]]:
    client = client_at(site, address)
    answers = []
    for _ in range(4):
        response = log_in(client, name, WRONG)
        error = re.search(r'role="alert"[^>]*>(.*?)<', response.text, re.S)
        answers.append((response.status_code, re.sub(r"\d", "0", error.group(1)) if error else ""))
    return answers


def test_an_unknown_name_answers_and_locks_exactly_like_a_real_one(site, monkeypatch):
    checks: list[str] = []
    real_verify = login_module.verify_password
    monkeypatch.setattr(login_module, "verify_password", lambda h, p: checks.append("argon2") or real_verify(h, p))
    known = _answers(site, "auditor", "198.51.100.1")
    known_checks, checks[:] = len(checks), []
    unknown = _answers(site, "no-such-person", "198.51.100.2")
    assert known == unknown
    assert [status for status, _ in known] == [401, 401, 403, 403] and known[0][1] and known[2][1]
    assert len(checks) == known_checks == 3  # one argon2 check per guess until locked, known or not


def test_many_failures_from_one_address_never_refuse_the_right_password(site):
    office_pc = client_at(site, "192.0.2.20")
    for n in range(25):
        assert log_in(office_pc, f"typo-{n}", WRONG).status_code == 401
    assert log_in(office_pc, "receptionist", PASSWORDS["receptionist"]).status_code == 303


def test_the_admin_lifts_the_lock_from_every_address(site):
    guesser = client_at(site, "203.0.113.9")
    for _ in range(3):
        log_in(guesser, "manager", WRONG)
    admin = client_at(site, "192.0.2.30")
    assert log_in(admin, "admin", PASSWORDS["admin"]).status_code == 303
    page = admin.get("/admin/accounts").text
    assert 'action="/admin/accounts/' in page and "/unlock" in page
    user_id = re.search(r'/admin/accounts/(\d+)/unlock', page).group(1)
    assert admin.post(f"/admin/accounts/{user_id}/unlock", data={"csrf": csrf_of(page)}).status_code == 303
    assert log_in(guesser, "manager", PASSWORDS["manager"]).status_code == 303


def test_a_forged_x_forwarded_for_neither_escapes_the_lock_nor_forges_the_audit(site):
    client = client_at(site, "127.0.0.1")
    statuses = []
    for n in range(4):
        client.headers["X-Forwarded-For"] = f"10.9.8.{n}"
        statuses.append(log_in(client, "surveyor", WRONG).status_code)
    assert statuses == [401, 401, 403, 403]
    assert set(addresses(site.factory)) == {"127.0.0.1"}


def test_a_configured_proxy_is_believed_and_nobody_else(database_url):
    site = Site(database_url, trusted_proxies="127.0.0.1, 10.0.0.0/8")
    with TestClient(site.app, base_url="https://testserver"):
        proxied = client_at(site, "10.1.2.3")
        proxied.headers["X-Forwarded-For"] = "198.51.100.7"
        log_in(proxied, "surveyor", WRONG)
        stranger = client_at(site, "203.0.113.50")
        stranger.headers["X-Forwarded-For"] = "198.51.100.8"
        log_in(stranger, "surveyor", WRONG)
    assert addresses(site.factory) == ["198.51.100.7", "203.0.113.50"]


def test_mamori_serve_does_not_believe_x_forwarded_for_from_loopback(database_url, broker):
    """The real server (uvicorn trusts loopback's X-Forwarded-For by default; mamori turns that off)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env.update(MAMORI_DATABASE_URL=database_url, MAMORI_MQTT_URL=broker.url, MAMORI_COOKIE_SECURE="false",
               MAMORI_MQTT_CLIENT_ID=f"mamori-xff-{os.getpid()}")
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port)], env=env, cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, timeout=60)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            form = client.get("/login")
            response = client.post("/login", headers={"X-Forwarded-For": "10.9.8.7"},
                                   data={"name": "nobody", "password": WRONG, "csrf": hidden(form.text, "csrf")})
            assert response.status_code == 401
    finally:
        server.terminate()
        server.wait(timeout=30)
    engine = make_engine(database_url)
    try:
        assert addresses(make_session_factory(engine)) == ["127.0.0.1"]
    finally:
        engine.dispose()
