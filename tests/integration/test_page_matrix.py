"""Role × route for the pages: every page route the app registers has a role guard, and the guard holds.

A new page without `require_page(...)` fails here; so does a guard that lets a role through that
it names as refused. The API has its own matrix (test_api.py).
"""

from __future__ import annotations

import re

import pytest

from server.accounts.models import ROLES
from tests.support.routes import WalkedRoute, role_guards, walk_routes
from tests.support.web import PASSWORDS, Site, logged_in, page_client

pytestmark = pytest.mark.integration

# Pages anyone may open: the public status page, logging in, the lock screen and the language switch
# (the lock screen, /unlock and /logout check the session and its token themselves: they must work
# while the screen is locked).
PUBLIC = {("GET", "/"), ("GET", "/login"), ("POST", "/login"), ("GET", "/lock"), ("POST", "/unlock"),
          ("POST", "/logout"), ("GET", "/language/{lang}")}


def page_routes(app) -> list[tuple[str, str, WalkedRoute]]:
    return [(method, route.path, route) for route in walk_routes(app) if not route.path.startswith("/api/")
            for method in sorted(route.methods)]


def guard_roles(route: WalkedRoute) -> tuple[str, ...] | None:
    guards = role_guards(route)
    return tuple(guards[0].roles) if guards else None


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = Site(f"sqlite:///{tmp_path_factory.mktemp('matrix') / 'mamori.db'}")
    with page_client(site.app):
        site.sessions = {role: logged_in(site.app, role, PASSWORDS[role]) for role in ROLES}
        yield site


def test_every_page_route_has_a_role_guard(site):
    unguarded = [f"{m} {p}" for m, p, route in page_routes(site.app)
                 if (m, p) not in PUBLIC and guard_roles(route) is None]
    assert unguarded == [], f"page routes without require_page(...): {unguarded}"


def test_the_public_pages_are_only_the_ones_meant_to_be(site):
    registered = {(m, p) for m, p, _ in page_routes(site.app)}
    assert PUBLIC <= registered
    assert {("GET", "/dashboard"), ("GET", "/admin/accounts"), ("POST", "/admin/accounts")} <= registered


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_each_role_gets_exactly_the_pages_its_guard_allows(site):
    wrong = []
    for method, path, route in page_routes(site.app):
        roles = guard_roles(route)
        if roles is None or (method, path) == ("POST", "/logout"):  # logging out would end the test's sessions
            continue
        for role in ROLES:
            client, csrf = site.sessions[role]
            response = client.request(method, concrete(path), headers={"X-CSRF-Token": csrf}, data={"csrf": csrf}
                                      if method != "GET" else None)
            refused = response.status_code == 403 and "権限がありません" in response.text
            if (role in roles) == refused:
                wrong.append(f"{method} {path} as {role}: {response.status_code}")
            if response.status_code == 303 and response.headers["location"].startswith(("/login", "/lock")):
                wrong.append(f"{method} {path} as {role}: sent to {response.headers['location']}")
    assert wrong == []


def test_without_a_login_every_guarded_page_sends_to_the_login_page(site):
    client = page_client(site.app)
    for method, path, route in page_routes(site.app):
        if guard_roles(route) is None:
            continue
        response = client.request(method, concrete(path))
        assert response.status_code == 303 and response.headers["location"].startswith("/login"), f"{method} {path}"


def test_the_auditor_may_change_nothing(site):
    changes = [(m, p) for m, p, route in page_routes(site.app)
               if m != "GET" and (roles := guard_roles(route)) is not None and "auditor" in roles]
    # Logging out, the activity heartbeat, one's own password and one's own notices are the person's own business.
    assert set(changes) <= {("POST", "/logout"), ("POST", "/activity"), ("POST", "/account/password"),
                            ("POST", "/account/notices")}
