"""The HTTP API as a client sees it: who may call what, and the status codes of every refusal.

One running office (real app, real Mosquitto, real database) per database for the whole module:
starting one costs a database, a migration and a broker, and these tests only add rows with
fresh ids, so they can share it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from server.accounts.models import ApiToken, User
from server.accounts.service import add_user, create_token
from server.alerts.models import Alert
from server.db import unit_of_work
from server.main import create_app
from server.people.models import VisitorBadge
from tests.conftest import DATABASES
from tests.support.broker import Mosquitto
from tests.support.databases import throwaway_database
from tests.support.office import SITE, Office
from tests.support.routes import WalkedRoute, role_guards, walk_routes

pytestmark = pytest.mark.integration

ROLES = ("admin", "manager", "receptionist", "surveyor", "auditor")
EVERYONE = frozenset(ROLES)
MANAGERS = frozenset({"admin", "manager"})
RECEPTION = frozenset({"admin", "manager", "receptionist"})
HOSTS = frozenset({"admin", "manager", "receptionist", "surveyor"})
OVERSIGHT = frozenset({"admin", "manager", "auditor"})
CASE_READERS = frozenset({"admin", "manager", "surveyor", "auditor"})  # the 受付簿: never reception
SURVEYORS = frozenset({"admin", "manager", "surveyor"})

# Every guarded route and the roles it admits. A route added to the app without a row here fails
# `test_each_route_admits_exactly_the_roles_in_the_matrix`, so whoever adds it decides who may call it.
MATRIX: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/api/v1/readers"): EVERYONE,
    ("POST", "/api/v1/readers"): MANAGERS,
    ("GET", "/api/v1/readers/{reader_id}"): EVERYONE,
    ("POST", "/api/v1/readers/{reader_id}/unlock"): MANAGERS,
    ("PUT", "/api/v1/card-auth/cards/{uid}"): MANAGERS,
    ("PUT", "/api/v1/card-auth/readers/{reader_id}"): MANAGERS,
    ("PUT", "/api/v1/card-auth/people/{person_id}"): MANAGERS,
    ("GET", "/api/v1/people"): EVERYONE,
    ("POST", "/api/v1/people"): MANAGERS,
    ("GET", "/api/v1/people/{person_id}"): EVERYONE,
    ("PATCH", "/api/v1/people/{person_id}"): MANAGERS,
    ("GET", "/api/v1/visitor-badges"): EVERYONE,
    ("POST", "/api/v1/visitor-badges"): RECEPTION,
    ("GET", "/api/v1/items"): EVERYONE,
    ("POST", "/api/v1/items"): MANAGERS,
    ("GET", "/api/v1/items/{item_id}"): EVERYONE,
    ("PATCH", "/api/v1/items/{item_id}"): MANAGERS,
    ("POST", "/api/v1/items/{item_id}/lost"): MANAGERS,
    ("GET", "/api/v1/lost-items"): EVERYONE,
    ("GET", "/api/v1/lost-items/{lost_id}"): EVERYONE,
    ("POST", "/api/v1/lost-items/{lost_id}/found"): MANAGERS,
    ("GET", "/api/v1/stocktakes"): EVERYONE,
    ("POST", "/api/v1/stocktakes"): MANAGERS,
    ("GET", "/api/v1/stocktakes/{stocktake_id}"): EVERYONE,
    ("POST", "/api/v1/stocktakes/{stocktake_id}/finish"): MANAGERS,
    ("POST", "/api/v1/stocktakes/{stocktake_id}/cancel"): MANAGERS,
    ("GET", "/api/v1/loan-rules"): EVERYONE,
    ("PUT", "/api/v1/loan-rules/{kind}"): MANAGERS,
    ("GET", "/api/v1/visits"): EVERYONE,
    ("GET", "/api/v1/visits/{visit_id}"): EVERYONE,
    ("POST", "/api/v1/visits"): HOSTS,
    ("GET", "/api/v1/presence"): EVERYONE,
    ("GET", "/api/v1/checkouts"): EVERYONE,
    ("POST", "/api/v1/checkouts/{checkout_id}/erased"): HOSTS,  # the holder's own or, for managers, any
    ("PUT", "/api/v1/checkouts/{checkout_id}/purpose"): HOSTS,
    ("GET", "/api/v1/alerts"): EVERYONE,
    ("GET", "/api/v1/alerts/{alert_id}/occurrences"): EVERYONE,
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): MANAGERS,
    ("POST", "/api/v1/alerts/{alert_id}/resolve"): MANAGERS,
    ("GET", "/api/v1/scans"): EVERYONE,
    ("GET", "/api/v1/reader-events"): EVERYONE,
    ("GET", "/api/v1/dead-letters"): OVERSIGHT,
    ("GET", "/api/v1/cases"): CASE_READERS,
    ("POST", "/api/v1/cases"): MANAGERS,
    ("GET", "/api/v1/cases/{case_id}"): CASE_READERS,
    ("GET", "/api/v1/cases/{case_id}/events"): CASE_READERS,
    ("POST", "/api/v1/cases/{case_id}/survey"): SURVEYORS,  # the surveyor in charge, or a manager
    ("POST", "/api/v1/cases/{case_id}/submit"): SURVEYORS,
    ("POST", "/api/v1/cases/{case_id}/note"): SURVEYORS,
    ("POST", "/api/v1/cases/{case_id}/withdraw"): MANAGERS,
    ("POST", "/api/v1/cases/{case_id}/destroy"): MANAGERS,
    ("POST", "/api/v1/cases/{case_id}/corrections"): MANAGERS,
}

LISTS = ["/readers", "/people", "/visitor-badges", "/items", "/visits", "/presence", "/checkouts",
         "/alerts", "/scans", "/reader-events", "/dead-letters", "/lost-items", "/stocktakes", "/cases"]
PAGED_LISTS = [path for path in LISTS if path != "/presence"]  # the roll call is never cut short


def fresh_uid() -> str:
    return uuid.uuid4().hex[:16].upper()


def fresh_reader_id() -> str:
    return f"r-{uuid.uuid4().hex[:10]}"


# ---------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module", params=DATABASES)
def office(request, tmp_path_factory):
    """A running office with one API user (and token) per role, shared by the module."""
    tmp = tmp_path_factory.mktemp(f"api-{request.param}")
    broker = Mosquitto(tmp / "broker").start()
    try:
        with throwaway_database(request.param, tmp) as url:
            yield from _run_office(url, broker)
    finally:
        broker.kill()


def _run_office(database_url: str, broker: Mosquitto):
    with Office(database_url, broker.url) as office:
        office.role_headers = {}
        now = datetime.now(UTC)
        with unit_of_work(office.factory) as db:
            for role in ROLES:
                add_user(db, f"api-{role}", role, f"Role-{role}-2026!", now)
                office.role_headers[role] = {"Authorization": f"Bearer {create_token(db, f'api-{role}', now)}"}
        yield office


@pytest.fixture(scope="module")
def stock(office):
    """One of each thing, for routes that need an existing id."""
    cabinet = fresh_reader_id()
    office.post("/readers", {"id": cabinet, "site": SITE, "role": "cabinet", "name": "書庫 1"})
    entrance = fresh_reader_id()
    office.post("/readers", {"id": entrance, "site": SITE, "role": "entrance", "name": "入口"})
    person = office.post("/people", {"name": "佐藤 花子", "card_uid": fresh_uid(), "key_holder": True,
                                     "training_on": "2026-04-01", "roles": ["surveyor"]})
    item = office.post("/items", {"label": "調査ファイル", "kind": "folder", "tag_uid": fresh_uid(),
                                  "cabinet": cabinet, "encrypted": False, "case": "R8-00001"})
    badge = fresh_uid()
    office.post("/visitor-badges", {"uid": badge, "label": f"来所者 {badge[:4]}"})
    visit = office.post("/visits", {"visitor_name": "山田 太郎", "badge_uid": badge})
    lost_phone = office.post("/items", {"label": "調査用スマートフォン", "kind": "phone", "tag_uid": fresh_uid(),
                                        "cabinet": cabinet, "encrypted": True})
    lost = office.post(f"/items/{lost_phone['id']}/lost", {"note": "訪問先で紛失"})
    stocktake = office.post("/stocktakes", {"cabinet": cabinet})
    with unit_of_work(office.factory) as db:
        alert = Alert(type="tamper", severity="high", opened_at=datetime.now(UTC), subject="入口: tamper",
                      reader_id=entrance)
        db.add(alert)
        db.flush()
        alert_id = alert.id
    case = office.post("/cases", {"number": f"R8-{fresh_uid()[:8]}", "received_on": "2026-04-01", "kind": "new"})
    return {"cabinet": cabinet, "entrance": entrance, "person": person, "item": item, "visit": visit,
            "lost": lost, "stocktake": stocktake, "alert": alert_id, "case": case}


# The probes a supervisor or load balancer asks without credentials (docs/monitoring.md): liveness and readiness.
PROBES = {"/api/v1/health", "/api/v1/ready"}


def api_routes(app) -> list[WalkedRoute]:
    """Every route under /api/v1 but the probes."""
    return [r for r in walk_routes(app) if r.path.startswith("/api/v1/") and r.path not in PROBES]


def route_keys(app) -> set[tuple[str, str]]:
    return {(method, r.path) for r in api_routes(app) for method in r.methods}


def guards_of(route: WalkedRoute) -> list:
    return role_guards(route)


def concrete(path: str, stock: dict, method: str = "GET") -> str:
    path = (path.replace("{reader_id}", stock["cabinet"])
            .replace("{person_id}", str(stock["person"]["id"]))
            .replace("{item_id}", str(stock["item"]["id"]))
            .replace("{visit_id}", str(stock["visit"]["id"]))
            .replace("{case_id}", str(stock["case"]["id"]))
            .replace("{kind}", "key"))
    if method != "GET":
        return path  # finishing a stock-take or closing a lost record has no body to refuse: the bad id is refused instead
    return (path.replace("{lost_id}", str(stock["lost"]["id"])).replace("{stocktake_id}", str(stock["stocktake"]["id"]))
            .replace("{alert_id}", str(stock["alert"])))


def call(office, method: str, path: str, headers: dict | None = None, **kwargs):
    """`path` is the full path, with /api/v1."""
    return office.client.request(method, path, headers=headers or {}, **kwargs)


def assert_detail(response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail"} and body["detail"], body


# ------------------------------------------------------------------------------------ authentication


def test_health_answers_without_a_token(office):
    response = office.client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


BAD_CREDENTIALS = {
    "no token": {},
    "bogus token": {"Authorization": "Bearer mamori_this-token-was-never-issued"},
    "empty bearer": {"Authorization": "Bearer "},
    "basic auth instead of a bearer token": {"Authorization": "Basic a2Fucmk6S2FucmktMjAyNi1wYXNz"},
}


@pytest.mark.parametrize("headers", BAD_CREDENTIALS.values(), ids=BAD_CREDENTIALS.keys())
def test_every_route_but_health_refuses_a_caller_without_a_valid_token(office, stock, headers):
    keys = route_keys(office.app)
    assert len(keys) >= len(MATRIX)
    for method, path in sorted(keys):
        kwargs = {"json": {}} if method != "GET" else {}
        response = call(office, method, concrete(path, stock), headers, **kwargs)
        assert response.status_code == 401, (method, path, response.text)
        assert_detail(response, 401)
        assert response.headers.get("www-authenticate", "").startswith("Bearer"), (method, path)


def test_a_refused_post_without_a_token_creates_nothing(office):
    reader_id = fresh_reader_id()
    response = office.client.post("/api/v1/readers", json={"id": reader_id, "site": SITE, "role": "entrance",
                                                           "name": "x"})
    assert_detail(response, 401)
    assert_detail(office.client.get(f"/api/v1/readers/{reader_id}", headers=office.headers), 404)


def test_revoked_token_and_token_of_an_inactive_user_are_refused(office):
    now = datetime.now(UTC)
    with unit_of_work(office.factory) as db:
        revoked_user = add_user(db, f"revoked-{uuid.uuid4().hex[:6]}", "manager", "Revoked-2026!", now)
        revoked = create_token(db, revoked_user.name, now)
        leaver = add_user(db, f"leaver-{uuid.uuid4().hex[:6]}", "manager", "Leaver-2026!x", now)
        leaver_token = create_token(db, leaver.name, now)
    for token in (revoked, leaver_token):
        assert office.client.get("/api/v1/readers", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with unit_of_work(office.factory) as db:
        db.query(ApiToken).filter(ApiToken.user_id == revoked_user.id).update({ApiToken.revoked_at: now})
        db.query(User).filter(User.id == leaver.id).update({User.active: False})
    for token in (revoked, leaver_token):
        assert_detail(office.client.get("/api/v1/readers", headers={"Authorization": f"Bearer {token}"}), 401)


# ------------------------------------------------------------------------------------ authorisation


def test_every_api_route_but_health_has_a_role_guard(office):
    routes = api_routes(office.app)
    assert routes, "no /api/v1 routes found: the walk is broken"
    unguarded = sorted(f"{sorted(r.methods)} {r.path}" for r in routes if not guards_of(r))
    assert unguarded == [], f"routes without Depends(require(...)): {unguarded}"


def test_each_route_admits_exactly_the_roles_in_the_matrix(office):
    assert route_keys(office.app) == set(MATRIX), "a route was added or removed: give it a row in MATRIX"
    for route in api_routes(office.app):
        for method in route.methods:
            [guard] = guards_of(route)
            assert frozenset(guard.roles) == MATRIX[(method, route.path)], (method, route.path)


@pytest.mark.parametrize("role", ROLES)
def test_a_role_gets_through_exactly_the_routes_the_matrix_gives_it(office, stock, role):
    """Denied: 403 before anything else. Allowed: a GET answers 200; a POST with an empty body gets as
    far as validating it (422), which only happens after the guard let the caller in; a PATCH that
    changes nothing answers 200."""
    headers = office.role_headers[role]
    allowed_status = {"GET": 200, "POST": 422, "PUT": 422, "PATCH": 200}
    for (method, path), allowed in sorted(MATRIX.items()):
        kwargs = {"json": {}} if method != "GET" else {}
        response = call(office, method, concrete(path, stock, method), headers, **kwargs)
        if role not in allowed:
            assert_detail(response, 403)
        else:
            assert response.status_code == allowed_status[method], (role, method, path, response.text)


def _valid_bodies(office, stock) -> dict[str, dict]:
    badge_for_visit = fresh_uid()
    office.post("/visitor-badges", {"uid": badge_for_visit, "label": f"来所者 {badge_for_visit[:4]}"})
    return {
        "/readers": {"id": fresh_reader_id(), "site": SITE, "role": "entrance", "name": "裏口"},
        "/people": {"name": "田中 一郎", "card_uid": fresh_uid(), "key_holder": False, "training_on": None,
                    "roles": ["surveyor"]},
        "/visitor-badges": {"uid": (uid := fresh_uid()), "label": f"来所者 {uid}"},
        "/items": {"label": "USB メモリ", "kind": "media", "tag_uid": fresh_uid(), "cabinet": stock["cabinet"],
                   "encrypted": True, "case": None},
        "/visits": {"visitor_name": "山田 太郎", "organisation": "練馬区", "purpose": "立入検査",
                    "host": "管理責任者", "badge_uid": badge_for_visit},
    }


@pytest.mark.parametrize("role, may_post", [
    ("admin", {"/readers", "/people", "/visitor-badges", "/items", "/visits"}),
    ("manager", {"/readers", "/people", "/visitor-badges", "/items", "/visits"}),
    ("receptionist", {"/visitor-badges", "/visits"}),
    ("surveyor", {"/visits"}),
    ("auditor", set()),
])
def test_a_role_creates_exactly_what_it_may_with_a_valid_body(office, stock, role, may_post):
    headers = office.role_headers[role]
    for path, body in _valid_bodies(office, stock).items():
        response = office.client.post(f"/api/v1{path}", json=body, headers=headers)
        if path in may_post:
            assert response.status_code == 201, (role, path, response.text)
        else:
            assert_detail(response, 403)


def test_a_refused_post_creates_nothing(office, stock):
    bodies = _valid_bodies(office, stock)
    for path in ("/readers", "/people", "/items"):
        assert_detail(office.client.post(f"/api/v1{path}", json=bodies[path],
                                         headers=office.role_headers["receptionist"]), 403)
    assert_detail(office.client.post("/api/v1/visits", json=bodies["/visits"],
                                     headers=office.role_headers["auditor"]), 403)
    assert_detail(office.client.get(f"/api/v1/readers/{bodies['/readers']['id']}", headers=office.headers), 404)
    people = office.get("/people", limit=1000)
    assert bodies["/people"]["card_uid"] not in {uid for p in people for uid in p["card_uids"]}
    assert bodies["/items"]["tag_uid"] not in {i["tag_uid"] for i in office.get("/items", limit=1000)}
    assert bodies["/visits"]["badge_uid"] not in {v["badge_uid"] for v in office.get("/visits", limit=1000)}


@pytest.mark.parametrize("path", LISTS)
def test_auditor_reads_every_list(office, path):
    response = office.client.get(f"/api/v1{path}", headers=office.role_headers["auditor"])
    assert response.status_code == 200, response.text
    assert isinstance(response.json(), list)


# ----------------------------------------------------------------------------------------- conflicts


def _register_uid(office, kind: str, uid: str, stock: dict, expect: int = 201) -> dict:
    if kind == "person":
        return office.post("/people", {"name": "重複 確認", "card_uid": uid}, expect=expect)
    if kind == "badge":
        return office.post("/visitor-badges", {"uid": uid, "label": f"来所者 {uid}"}, expect=expect)
    return office.post("/items", {"label": "鍵", "kind": "key", "tag_uid": uid, "cabinet": stock["cabinet"]},
                       expect=expect)


UID_KINDS = ["person", "badge", "item"]


@pytest.mark.parametrize("second", UID_KINDS)
@pytest.mark.parametrize("first", UID_KINDS)
def test_a_uid_already_in_use_as_a_card_badge_or_tag_is_a_conflict(office, stock, first, second):
    uid = fresh_uid()
    _register_uid(office, first, uid, stock)
    # Given in lower case the second time: the check compares normalised uids.
    body = _register_uid(office, second, uid.lower(), stock, expect=409)
    assert body["detail"]


def test_registering_a_reader_id_twice_is_a_conflict(office):
    reader_id = fresh_reader_id()
    office.post("/readers", {"id": reader_id, "site": SITE, "role": "entrance", "name": "入口"})
    body = office.post("/readers", {"id": reader_id, "site": SITE, "role": "cabinet", "name": "書庫"}, expect=409)
    assert reader_id in body["detail"]
    assert office.get(f"/readers/{reader_id}")["role"] == "entrance"


def test_a_visit_for_a_badge_already_lent_is_a_conflict(office):
    uid = fresh_uid()
    office.post("/visitor-badges", {"uid": uid, "label": f"来所者 {uid}"})
    office.post("/visits", {"visitor_name": "山田 太郎", "badge_uid": uid})
    body = office.post("/visits", {"visitor_name": "鈴木 次郎", "badge_uid": uid.lower()}, expect=409)
    assert body["detail"]
    assert [v["visitor_name"] for v in office.get("/visits", limit=1000) if v["badge_uid"] == uid] == ["山田 太郎"]


# -------------------------------------------------------------------------------------- bad input


BAD_UID = "XYZ"


def _unprocessable(office, path: str, body: dict) -> None:
    response = office.client.post(f"/api/v1{path}", json=body, headers=office.headers)
    assert_detail(response, 422)


@pytest.mark.parametrize("path, body", [
    ("/people", {"name": "佐藤", "card_uid": BAD_UID}),
    ("/visitor-badges", {"uid": BAD_UID, "label": "来所者"}),
    ("/visits", {"visitor_name": "山田", "badge_uid": BAD_UID}),
    ("/people", {"name": "佐藤", "card_uid": "0123456"}),  # 7 hex digits: too short
    ("/people", {"name": "佐藤", "card_uid": "0" * 21}),  # 21 hex digits: too long
    ("/people", {"name": "佐藤", "card_uid": "0123 4567"}),
], ids=["person card", "badge", "visit badge", "too short", "too long", "inner space"])
def test_a_uid_that_is_not_8_to_20_hex_digits_is_refused(office, path, body):
    _unprocessable(office, path, body)


def test_an_item_tag_that_is_not_hex_is_refused(office, stock):
    _unprocessable(office, "/items", {"label": "鍵", "kind": "key", "tag_uid": BAD_UID, "cabinet": stock["cabinet"]})


def test_an_unknown_item_kind_is_refused(office, stock):
    _unprocessable(office, "/items", {"label": "傘", "kind": "umbrella", "tag_uid": fresh_uid(),
                                      "cabinet": stock["cabinet"]})


@pytest.mark.parametrize("which", ["entrance", "unregistered"])
def test_an_item_whose_cabinet_is_not_a_cabinet_reader_is_refused(office, stock, which):
    cabinet = stock["entrance"] if which == "entrance" else fresh_reader_id()
    tag = fresh_uid()
    _unprocessable(office, "/items", {"label": "鍵", "kind": "key", "tag_uid": tag, "cabinet": cabinet})
    assert tag not in {i["tag_uid"] for i in office.get("/items", limit=1000)}


def test_a_visit_for_a_badge_not_in_the_pool_is_refused(office, stock):
    _unprocessable(office, "/visits", {"visitor_name": "山田", "badge_uid": fresh_uid()})
    # A staff card is not a visitor badge either.
    _unprocessable(office, "/visits", {"visitor_name": "山田", "badge_uid": stock["person"]["card_uids"][0]})


@pytest.mark.parametrize("body", [
    {"id": "Entrance", "site": SITE, "role": "entrance", "name": "x"},  # upper case: not a topic level
    {"id": "a/b", "site": SITE, "role": "entrance", "name": "x"},
    {"id": "ok-id", "site": SITE, "role": "door", "name": "x"},
    {"id": "ok-id", "site": SITE, "role": "entrance", "name": "x", "colour": "red"},  # unknown field
    {"id": "ok-id", "site": SITE, "role": "entrance"},  # no name
], ids=["upper-case id", "slash in id", "unknown role", "unknown field", "missing name"])
def test_a_bad_reader_registration_is_refused(office, body):
    _unprocessable(office, "/readers", body)


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 5000}, {"limit": -1}, {"offset": -1},
                                    {"limit": "ten"}], ids=["limit=0", "limit=5000", "limit=-1", "offset=-1",
                                                            "limit=ten"])
@pytest.mark.parametrize("path", PAGED_LISTS)
def test_a_limit_or_offset_out_of_range_is_refused(office, path, params):
    assert_detail(office.client.get(f"/api/v1{path}", params=params, headers=office.headers), 422)


@pytest.mark.parametrize("path", ["/visits", "/checkouts", "/alerts"])
def test_an_unknown_state_filter_is_refused(office, path):
    assert_detail(office.client.get(f"/api/v1{path}", params={"state": "lost"}, headers=office.headers), 422)


@pytest.mark.parametrize("path", ["/items/999999", "/people/999999", "/readers/nope"])
def test_a_missing_record_is_404(office, path):
    assert_detail(office.client.get(f"/api/v1{path}", headers=office.headers), 404)


@pytest.mark.parametrize("path", ["/items/999999", "/people/999999"])
def test_changing_a_missing_record_is_404(office, path):
    assert_detail(office.client.patch(f"/api/v1{path}", json={"active": False} if "people" in path
                                      else {"status": "lost"}, headers=office.headers), 404)


def test_a_non_numeric_item_or_person_id_is_refused(office):
    for path in ("/items/abc", "/people/abc"):
        assert_detail(office.client.get(f"/api/v1{path}", headers=office.headers), 422)


# ----------------------------------------------------------------------------------- what is stored


def test_lower_case_uids_are_stored_upper_case(office, stock):
    card, badge, tag = (fresh_uid() for _ in range(3))
    person = office.post("/people", {"name": "佐藤 次郎", "card_uid": f" {card.lower()} "})
    assert person["card_uids"] == [card]
    assert office.get(f"/people/{person['id']}")["card_uids"] == [card]
    assert office.post("/visitor-badges", {"uid": badge.lower(), "label": f"来所者 {badge}"})["uid"] == badge
    assert badge in {b["uid"] for b in office.get("/visitor-badges", limit=1000)}
    item = office.post("/items", {"label": "鍵", "kind": "key", "tag_uid": tag.lower(), "cabinet": stock["cabinet"]})
    assert item["tag_uid"] == tag
    assert office.get(f"/items/{item['id']}")["tag_uid"] == tag
    visit = office.post("/visits", {"visitor_name": "山田", "badge_uid": badge.lower()})
    assert visit["badge_uid"] == badge


def test_created_records_read_back_as_sent(office, stock):
    person = office.get(f"/people/{stock['person']['id']}")
    assert person["name"] == "佐藤 花子" and person["key_holder"] is True
    assert person["training_on"] == "2026-04-01" and person["roles"] == ["surveyor"] and person["active"] is True
    item = office.get(f"/items/{stock['item']['id']}")
    assert item["cabinet"] == stock["cabinet"] and item["kind"] == "folder" and item["case"] == "R8-00001"
    assert item["status"] == "active" and item["encrypted"] is False
    reader = office.get(f"/readers/{stock['cabinet']}")
    assert reader["role"] == "cabinet" and reader["site"] == SITE and reader["online"] is None


def test_times_are_in_office_time_with_a_plus_nine_offset(office, stock):
    uid = fresh_uid()
    badge = office.post("/visitor-badges", {"uid": uid, "label": f"来所者 {uid}"})
    visit = office.post("/visits", {"visitor_name": "山田", "badge_uid": uid})
    times = [
        office.get(f"/readers/{stock['cabinet']}")["created_at"],
        office.get(f"/people/{stock['person']['id']}")["created_at"],
        office.get(f"/items/{stock['item']['id']}")["created_at"],
        badge["created_at"],
        visit["registered_at"],
    ]
    for value in times:
        assert value.endswith("+09:00"), value
        assert abs(datetime.fromisoformat(value) - datetime.now(UTC)).total_seconds() < 120


# ------------------------------------------------------------------------------------------- paging


@pytest.fixture(scope="module")
def plenty(office, stock):
    """At least three of everything that can be created through the API."""
    for n in range(3):
        uid = fresh_uid()
        office.post("/visitor-badges", {"uid": uid, "label": f"頁 {uid}"})
        office.post("/visits", {"visitor_name": f"来所者 {n}", "badge_uid": uid})
        office.post("/readers", {"id": fresh_reader_id(), "site": SITE, "role": "entrance", "name": "x"})
        office.post("/people", {"name": f"職員 {n}", "card_uid": fresh_uid()})
        office.post("/items", {"label": f"鍵 {n}", "kind": "key", "tag_uid": fresh_uid(),
                               "cabinet": stock["cabinet"]})


@pytest.mark.parametrize("path", ["/readers", "/people", "/visitor-badges", "/items", "/visits"])
def test_lists_honour_limit_and_offset(office, plenty, path):
    everything = office.get(path, limit=1000)
    assert len(everything) >= 3
    assert office.get(path, limit=1) == everything[:1]
    assert office.get(path, limit=2, offset=1) == everything[1:3]
    assert office.get(path, offset=len(everything)) == []
    # Walking the pages gives every row exactly once, in order.
    walked = [row for offset in range(0, len(everything), 3) for row in office.get(path, limit=3, offset=offset)]
    assert walked == everything


def test_the_default_page_is_at_most_100_rows(office):
    for _ in range(101 - len(office.get("/readers", limit=1000))):
        office.post("/readers", {"id": fresh_reader_id(), "site": SITE, "role": "entrance", "name": "x"})
    assert len(office.get("/readers")) == 100
    assert len(office.get("/readers", limit=1000)) >= 101


def test_visitor_badges_with_the_same_label_page_without_repeats_or_gaps(office):
    """Badge labels are not unique (a second pool may have its own "来所者 1"), so paging by label alone
    is not stable.

    GET /visitor-badges orders by (label, uid): by label alone, PostgreSQL's top-N heap sort returns
    ties in whatever order the heap leaves them, and a walk a page at a time repeats some badges and
    never shows others.
    """
    label = f"000 同名 {uuid.uuid4().hex[:6]}"  # sorts before every other label in this module
    uids = {fresh_uid() for _ in range(8)}
    for uid in uids:
        office.post("/visitor-badges", {"uid": uid, "label": label})
    try:
        for size in (1, 2, 3):
            walked = [row["uid"] for offset in range(0, len(uids), size)
                      for row in office.get("/visitor-badges", limit=size, offset=offset)][:len(uids)]
            assert sorted(walked) == sorted(uids), f"pages of {size}"
    finally:
        # Every other badge label in this module is unique; keep it so for the tests that share the office.
        with unit_of_work(office.factory) as db:
            db.query(VisitorBadge).filter(VisitorBadge.label == label).delete()


# ------------------------------------------------------------------------------------ documentation


def test_openapi_lists_the_api_paths_and_the_docs_page_answers(office):
    schema = office.client.get("/openapi.json")
    assert schema.status_code == 200
    paths = set(schema.json()["paths"])
    documented = {path for (_method, path) in MATRIX} | PROBES
    assert documented <= paths, documented - paths
    assert all(p.startswith("/api/v1/") for p in paths), paths  # the web pages are not in the API schema
    assert office.client.get("/docs").status_code == 200


# ------------------------------------------------------------ bad input never reaches the database as a 409 or 500


@pytest.fixture(scope="module")
def lenient(office):
    """A client on the running app that turns a server error into the 500 a caller would see, not a
    traceback in the test (no lifespan: the office's client already started the app)."""
    return TestClient(office.app, raise_server_exceptions=False)


REQUIRED_FIELDS = {"/people": ["name", "active", "key_holder", "roles"], "/items": ["label", "status", "encrypted"]}


@pytest.mark.parametrize("path", REQUIRED_FIELDS)
def test_clearing_a_required_field_with_null_is_bad_input(lenient, office, stock, path):
    """PATCH {"name": null} (likewise active, key_holder, roles; on /items label, status, encrypted) is
    422 and changes nothing; only `case` and `training_on` may be set to null."""
    record = stock["person"] if path == "/people" else stock["item"]
    before = office.get(f"{path}/{record['id']}")
    answers = {field: lenient.patch(f"/api/v1{path}/{record['id']}", json={field: None},
                                    headers=office.headers).status_code
               for field in REQUIRED_FIELDS[path]}
    assert answers == dict.fromkeys(REQUIRED_FIELDS[path], 422)
    assert office.get(f"{path}/{record['id']}") == before


def test_an_id_beyond_the_integer_column_is_not_found_rather_than_a_crash(lenient, office):
    """GET /items/2147483648 or /people/9223372036854775808 is 404 or 422 on both databases, never a
    500 from an integer the column cannot hold."""
    answers = {f"{path}/{record_id}": lenient.get(f"/api/v1{path}/{record_id}", headers=office.headers).status_code
               for path in ("/items", "/people") for record_id in (2**31, 2**63)}
    assert {path: status for path, status in answers.items() if status not in (404, 422)} == {}


def test_an_offset_beyond_any_table_is_bad_input_or_an_empty_page_not_a_crash(lenient, office):
    """GET /readers?offset=10000000000000000000 (any list) is 422 or an empty page, never an OFFSET
    overflow in the database."""
    for path in ("/readers", "/scans"):
        response = lenient.get(f"/api/v1{path}", params={"offset": 10**19}, headers=office.headers)
        assert response.status_code in (200, 422), (path, response.status_code, response.text)
        if response.status_code == 200:
            assert response.json() == []


def test_text_with_a_nul_character_is_bad_input_on_every_database(lenient, office):
    """PostgreSQL cannot store U+0000 in text, so a NUL in any text field is 422 on both databases,
    decided before the database sees it (the same request means the same thing everywhere)."""
    office.client.post("/api/v1/visitor-badges", json={"uid": "00000000", "label": "NUL 確認"},
                       headers=office.headers)
    requests = {
        "/people": {"name": "佐藤\x00花子"},
        "/readers": {"id": "nul-test", "site": SITE, "role": "entrance", "name": "入口\x00"},
        "/visits": {"visitor_name": "山田\x00", "badge_uid": "00000000"},
    }
    answers = {path: lenient.post(f"/api/v1{path}", json=body, headers=office.headers).status_code
               for path, body in requests.items()}
    assert answers == dict.fromkeys(requests, 422)


def test_times_follow_the_time_zone_the_app_was_configured_with(office, stock):
    """Responses show times in the zone of the Settings given to create_app (as due times are
    computed), not in whatever the process environment says."""
    utc_app = create_app(office.settings.model_copy(update={"tz": "UTC"}), with_ingest=False)
    with TestClient(utc_app) as client:
        reader = client.get(f"/api/v1/readers/{stock['cabinet']}", headers=office.headers).json()
    assert reader["created_at"].endswith("+00:00"), reader["created_at"]
