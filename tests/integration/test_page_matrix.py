"""Role × route for the pages: every page route the app registers has a role guard, and the guard holds.

A new page without `require_page(...)` fails here; so does a guard that lets a role through that
it names as refused. The API has its own matrix (test_api.py).
"""

from __future__ import annotations

import re

import pytest

from server.accounts.models import ROLES
from server.config import Settings
from tests.support.routes import WalkedRoute, role_guards, walk_routes
from tests.support.web import PASSWORDS, Site, logged_in, page_client

pytestmark = pytest.mark.integration

# Pages anyone may open: the public status page, logging in, the lock screen and the language switch
# (the lock screen, /unlock and /logout check the session and its token themselves: they must work
# while the screen is locked). /metrics is for a scraper, not a person: its own token or loopback check
# (tests/integration/test_metrics.py).
PUBLIC = {("GET", "/"), ("GET", "/login"), ("POST", "/login"), ("GET", "/lock"), ("POST", "/unlock"),
          ("POST", "/logout"), ("GET", "/language/{lang}"), ("GET", "/metrics")}


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


# The registers of cards, badges and tags show a uid as the thing registered; who may see it whole is
# the role's business (masking per role), not a word out of place.
UID_REGISTERS = {"/admin/people", "/admin/badges", "/admin/items", "/admin/people/{person_id}",
                 "/admin/badges/{uid}", "/admin/items/{item_id}"}
# A server setting's name or the plumbing's is for the IT person (README), not a page.
SETTING = re.compile(r"\bMAMORI_[A-Z_]+\b|\bMQTT\b")


def _seed_a_working_day(site) -> None:
    """Enough of an office that each page has rows: readers, a key holder with a card, items, a visitor in,
    an acknowledged alert with a note, and audit entries of several kinds."""
    from datetime import UTC, datetime

    from server.alerts import actions
    from server.alerts.models import Alert
    from server.audit.service import record
    from server.db import unit_of_work
    from server.items import service as items
    from server.lost import service as lost
    from server.people import service as people
    from server.readers import service as readers
    from server.stocktakes import service as stocktakes
    from server.visits import service as visits

    now = datetime(2026, 11, 27, 0, 30, tzinfo=UTC)
    with unit_of_work(site.factory) as db:
        readers.register_reader(db, now, Settings(), id="matrix-cabinet", site="nerima", role="cabinet", name="書庫 1")
        readers.register_reader(db, now, Settings(), id="matrix-entrance", site="nerima", role="entrance", name="入口")
        sato = people.add_person(db, now, name="佐藤 花子", card_uid="04A1B2C3D4E5F6", key_holder=True,
                                 training_on=now.date())
        items.add_item(db, now, label="調査書類 R8-00123", kind="folder", tag_uid="0A0B0C0D", cabinet="matrix-cabinet",
                       encrypted=False, screen_locked=False, case="R8-00123")
        phone = items.add_item(db, now, label="調査用携帯電話 1", kind="phone", tag_uid="0A0B0C0E",
                               cabinet="matrix-cabinet", encrypted=True, screen_locked=True, case=None)
        people.add_badge(db, now, uid="1122AABB", label="来所者 01")
        visit = visits.register(db, now, visitor_name="山田 太郎", organisation="練馬区", host_person=sato,
                                badge_uid="1122AABB", by="receptionist")
        visit.state, visit.entered_at = "in", now
        alert = Alert(type="overdue", severity="high", state="open", opened_at=now, subject="調査書類 R8-00123")
        db.add(alert)
        db.flush()
        actions.acknowledge(db, alert.id, by="manager", at=now, zone=site.app.state.settings.zone, note="本人に電話")
        lost.mark_lost(db, phone, by="manager", at=now, zone=site.app.state.settings.zone, note="訪問先で置き忘れ")
        stocktakes.finish(db, stocktakes.start(db, "matrix-cabinet", by="manager", at=now).id, by="manager", at=now)
        record(db, now, "checkout_register_printed", "manager", {"report": "overdue", "lines": 2})
        record(db, now, "visit_badge_back", "receptionist", {"visit": visit.id, "card": "1122AABB", "outcome": "returned"})


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_no_page_shows_a_code_or_a_raw_uid_to_any_role(site, lang):
    from tests.support.words import RAW_UID, SNAKE_CODE, visible_text

    if not getattr(site, "seeded", False):
        _seed_a_working_day(site)
        site.seeded = True
    wrong = []
    for role in ROLES:
        client, _ = site.sessions[role]
        client.get(f"/language/{lang}")
        for method, path, route in page_routes(site.app):
            if method != "GET" or (roles := guard_roles(route)) is None or role not in roles:
                continue
            response = client.get(concrete(path))  # record no. 1 of each kind is the seeded one
            if response.status_code != 200 or not response.headers["content-type"].startswith("text/html"):
                continue
            text = visible_text(response.text)
            wrong += [f"{role} {lang} {path}: code {code}" for code in sorted(set(SNAKE_CODE.findall(text)))]
            wrong += [f"{role} {lang} {path}: setting {name}" for name in sorted(set(SETTING.findall(text)))]
            if path not in UID_REGISTERS:
                wrong += [f"{role} {lang} {path}: uid {uid}" for uid in sorted(set(RAW_UID.findall(text)))]
        client.get("/language/ja")
    assert wrong == [], "\n".join(wrong)


# Pages a role may open that its menu leaves out on purpose: the desk registers visitors at /reception (the
# surveyor's /visits/new is the same form); /my and /devices are for people who carry items out, and the
# desk's staff rarely do (they may still open them, e.g. from a notice's link).
OFF_THE_MENU = {("admin", "/my"), ("manager", "/my"), ("receptionist", "/my"), ("receptionist", "/devices"),
                ("admin", "/visits/new"), ("manager", "/visits/new"), ("receptionist", "/visits/new")}


def test_the_menu_shows_each_link_exactly_to_the_roles_its_page_lets_in(site):
    """The header's menu (server/web/menu.py) against the guards: no link to a refusal, no page hidden
    but those left out on purpose."""
    from server.web.menu import NAV

    guards = {path: roles for method, path, route in page_routes(site.app)
              if method == "GET" and (roles := guard_roles(route)) is not None}
    assert {href for href, _, _ in NAV} <= set(guards), "a menu link to no guarded page"
    wrong = []
    for role in ROLES:
        client, _ = site.sessions[role]
        header = client.get("/dashboard").text.split("<main", 1)[0]
        menu = header.split('<nav class="menu"', 1)[1].split("</nav>", 1)[0]
        shown = set(re.findall(r'<a href="([^"?]+)"', menu)) - {"/dashboard"}
        meant = {href for href, _, _ in NAV if role in guards[href] and (role, href) not in OFF_THE_MENU}
        wrong += [f"{role} sees {href}, refused" for href in sorted(shown - meant)]
        wrong += [f"{role} misses {href}" for href in sorted(meant - shown)]
    assert wrong == [], "\n".join(wrong)
