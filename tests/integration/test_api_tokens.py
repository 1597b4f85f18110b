"""API tokens end: on their expiry, when revoked (command line or /admin/accounts), and for good when the
account is deactivated or its password reset."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from server.accounts.models import ApiToken, User
from server.accounts.service import create_token
from server.db import unit_of_work
from tests.support.web import PASSWORDS, Site, logged_in, page_client

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def site(database_url):
    site = Site(database_url)
    with page_client(site.app) as client:
        site.api = client
        yield site


def _token(site: Site, name: str = "surveyor", **kwargs) -> str:
    with unit_of_work(site.factory) as db:
        return create_token(db, name, site.clock(), **kwargs)


def _status(site: Site, token: str) -> int:
    return site.api.get("/api/v1/readers", headers={"Authorization": f"Bearer {token}"}).status_code


def _mamori(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env["MAMORI_DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=60)


def test_a_token_stops_working_when_its_days_are_over(site):
    token = _token(site, days=2)
    assert _status(site, token) == 200
    site.clock.advance(days=1, hours=23)
    assert _status(site, token) == 200
    site.clock.advance(hours=2)
    assert _status(site, token) == 401


def test_a_token_lasts_90_days_unless_told_otherwise(site):
    token = _token(site)
    site.clock.advance(days=89)
    assert _status(site, token) == 200
    site.clock.advance(days=2)
    assert _status(site, token) == 401


def test_last_use_is_written_at_most_once_a_minute(site):
    token = _token(site)
    assert _status(site, token) == 200
    with site.factory() as db:
        first = db.scalars(select(ApiToken.last_used_at)).one()
    site.clock.advance(seconds=30)
    assert _status(site, token) == 200
    with site.factory() as db:
        assert db.scalars(select(ApiToken.last_used_at)).one() == first
    site.clock.advance(seconds=40)
    assert _status(site, token) == 200
    with site.factory() as db:
        assert db.scalars(select(ApiToken.last_used_at)).one() == first + timedelta(seconds=70)


def test_the_command_line_creates_lists_and_revokes_tokens(site, database_url):
    made = _mamori(database_url, "tokens", "create", "--user", "auditor", "--days", "7")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip()
    assert "7 days" in made.stderr
    listed = _mamori(database_url, "tokens", "list", "--user", "auditor")
    assert listed.returncode == 0, listed.stderr
    [header, row] = listed.stdout.splitlines()
    assert header.split("\t")[-1] == "state"
    token_id, name, prefix, *_times, state = row.split("\t")
    assert (name, prefix, state) == ("auditor", token[:12] + "…", "live")
    assert token[12:] not in listed.stdout
    assert _mamori(database_url, "tokens", "revoke", token_id).returncode == 0
    with page_client(site.app) as client:
        assert client.get("/api/v1/readers", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    again = _mamori(database_url, "tokens", "revoke", token_id)
    assert again.returncode == 1 and "no live token" in again.stderr
    assert _mamori(database_url, "tokens", "list").stdout.splitlines()[1].endswith("\trevoked")
    assert [a for a, _who in site.audit() if a.startswith("token_")] == ["token_created", "token_revoked"]


def test_a_token_of_more_days_than_allowed_is_refused(database_url, site):
    run = _mamori(database_url, "tokens", "create", "--user", "auditor", "--days", "0")
    assert run.returncode == 1 and "1 to 3650 days" in run.stderr and run.stdout == ""


def _account_id(site: Site, name: str) -> int:
    with site.factory() as db:
        return db.scalars(select(User.id).where(User.name == name)).one()


def test_deactivating_an_account_ends_its_tokens_for_good(site):
    token = _token(site, "receptionist")
    client, csrf = logged_in(site.app, "admin", PASSWORDS["admin"])
    user_id = _account_id(site, "receptionist")
    for active in ("false", "true"):
        response = client.post(f"/admin/accounts/{user_id}/active", data={"csrf": csrf, "active": active})
        assert response.status_code == 303
    assert _status(site, token) == 401


@pytest.mark.parametrize("who", ["admin_reset", "own_change"])
def test_a_new_password_ends_the_accounts_tokens(site, who):
    token = _token(site, "surveyor")
    new = "Neue-Pass-2026!"
    if who == "admin_reset":
        client, csrf = logged_in(site.app, "admin", PASSWORDS["admin"])
        response = client.post(f"/admin/accounts/{_account_id(site, 'surveyor')}/password",
                                data={"csrf": csrf, "password": new})
    else:
        client, csrf = logged_in(site.app, "surveyor", PASSWORDS["surveyor"])
        response = client.post("/account/password", data={"csrf": csrf, "current": PASSWORDS["surveyor"],
                                                          "password": new, "password_again": new})
    assert response.status_code == 303
    assert _status(site, token) == 401


def test_an_admin_sees_the_tokens_and_revokes_one_with_the_pages_token(site):
    token = _token(site, "manager")
    site.clock.advance(minutes=2)
    assert _status(site, token) == 200
    client, csrf = logged_in(site.app, "admin", PASSWORDS["admin"])
    page = client.get("/admin/accounts").text
    assert token[:12] in page and token[12:] not in page
    assert "APIトークン" in page and "2026/11/27(金) 09:32" in page and "2027/02/25(木) 09:30" in page
    with site.factory() as db:
        token_id = db.scalars(select(ApiToken.id)).one()
    assert client.post(f"/admin/accounts/tokens/{token_id}/revoke", data={}).status_code == 403  # no CSRF token
    assert _status(site, token) == 200
    response = client.post(f"/admin/accounts/tokens/{token_id}/revoke", data={"csrf": csrf})
    assert response.status_code == 303
    assert _status(site, token) == 401
    assert ("token_revoked", "admin") in site.audit()
    assert "失効済み" in client.get("/admin/accounts").text


def test_only_an_admin_revokes_a_token(site):
    token = _token(site, "manager")
    with site.factory() as db:
        token_id = db.scalars(select(ApiToken.id)).one()
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    page = client.get("/admin/accounts")
    assert token[:12] in page.text and f"/admin/accounts/tokens/{token_id}/revoke" not in page.text
    assert client.post(f"/admin/accounts/tokens/{token_id}/revoke", data={"csrf": csrf}).status_code == 403
    assert _status(site, token) == 200
