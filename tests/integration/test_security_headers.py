"""Every answer says: not in a cache (but static files), not in a frame, only our own scripts and styles."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from server.accounts.service import create_token
from server.db import unit_of_work
from tests.support.web import PASSWORDS, Site, logged_in, page_client

pytestmark = pytest.mark.integration
TEMPLATES = Path(__file__).resolve().parents[2] / "server" / "web" / "templates"


@pytest.fixture
def site(database_url):
    site = Site(database_url)
    with page_client(site.app):
        yield site


def _assert_guarded(response, *, cached: bool = False) -> None:
    headers = response.headers
    assert headers["content-security-policy"].startswith("default-src 'self'; script-src 'self'; style-src 'self'")
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff" and headers["referrer-policy"] == "same-origin"
    assert headers["x-frame-options"] == "DENY"
    assert (headers.get("cache-control") != "no-store") if cached else headers["cache-control"] == "no-store"


def test_api_answers_pages_and_refusals_are_never_cached(site):
    with unit_of_work(site.factory) as db:
        token = create_token(db, "auditor", site.clock())
    client = page_client(site.app)
    _assert_guarded(client.get("/api/v1/people", headers={"Authorization": f"Bearer {token}"}))
    _assert_guarded(client.post("/api/v1/people", json={}))  # refused before the body: headers all the same
    _assert_guarded(client.get("/login"))
    manager, _ = logged_in(site.app, "manager", PASSWORDS["manager"])
    _assert_guarded(manager.get("/dashboard"))
    _assert_guarded(manager.get("/admin/people"))


def test_static_files_may_be_cached(site):
    _assert_guarded(page_client(site.app).get("/static/mamori.css"), cached=True)


@pytest.mark.parametrize("template", sorted(p.relative_to(TEMPLATES).as_posix() for p in TEMPLATES.rglob("*.html")))
def test_no_template_needs_inline_script_or_style(template):
    text = (TEMPLATES / template).read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), "inline <script>: move it to server/web/static/"
    assert "<style" not in text, "inline <style>: move it to a file in server/web/static/"
    assert not re.search(r'\son[a-z]+=["\']', text), "inline event handler: bind it in a static script"
    assert not re.search(r"\sstyle\s*=", text), "style attribute: use a class from a static stylesheet"
