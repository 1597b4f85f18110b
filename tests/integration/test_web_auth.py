"""Logging in, lockout, the idle lock, CSRF, accounts and the password rule — through the real pages."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from server.accounts.models import User
from server.audit.models import AuditEvent
from tests.support.web import PASSWORDS, Site, hidden, log_in, logged_in, page_client

pytestmark = pytest.mark.integration


@pytest.fixture
def site(database_url):
    site = Site(database_url)
    with page_client(site.app):  # runs the app's lifespan
        yield site


def test_a_page_without_login_goes_to_the_login_page_and_comes_back(site):
    client = page_client(site.app)
    response = client.get("/admin/accounts")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/admin/accounts"
    response = log_in(client, "manager", PASSWORDS["manager"], "/admin/accounts")
    assert response.headers["location"] == "/admin/accounts"
    assert client.get("/admin/accounts").status_code == 200


def test_the_session_cookie_is_httponly_secure_and_samesite(site):
    client = page_client(site.app)
    response = log_in(client, "manager", PASSWORDS["manager"])
    cookie = response.headers["set-cookie"].lower()
    assert "mamori_session=" in cookie and "httponly" in cookie and "secure" in cookie and "samesite=strict" in cookie


def test_a_wrong_password_is_refused_in_japanese_and_audited(site):
    client = page_client(site.app)
    response = log_in(client, "manager", "Wrong-Pass-2026")
    assert response.status_code == 401
    assert "ユーザー名またはパスワードが違います" in response.text
    assert ("login_failed", "manager") in site.audit()


def test_an_unknown_name_gets_the_same_answer_as_a_wrong_password(site):
    client = page_client(site.app)
    assert "ユーザー名またはパスワードが違います" in log_in(client, "nobody", "Wrong-Pass-2026").text


def test_repeated_failures_lock_the_account_for_a_while(site):
    client = page_client(site.app)
    for _ in range(3):
        response = log_in(client, "surveyor", "Wrong-Pass-2026")
    assert response.status_code == 403 and "ロックされています" in response.text
    assert log_in(client, "surveyor", PASSWORDS["surveyor"]).status_code == 403  # the right password too
    site.clock.advance(minutes=16)
    assert log_in(client, "surveyor", PASSWORDS["surveyor"]).status_code == 303
    actions = [a for a, who in site.audit() if who == "surveyor"]
    assert actions == ["login_failed", "login_failed", "lockout", "login_refused_locked", "login"]


def test_a_login_form_without_its_token_is_refused(site):
    client = page_client(site.app)
    client.get("/login")
    response = client.post("/login", data={"name": "manager", "password": PASSWORDS["manager"], "csrf": "forged"})
    assert response.status_code == 400
    assert "mamori_session" not in response.headers.get("set-cookie", "")


def test_a_form_without_the_session_token_is_refused(site):
    client, csrf = logged_in(site.app, "admin", PASSWORDS["admin"])
    response = client.post("/admin/accounts/1/unlock", data={})
    assert response.status_code == 403
    assert client.post("/admin/accounts/1/unlock", data={"csrf": csrf}).status_code == 303


def test_an_idle_session_is_locked_and_unlocks_back_to_the_same_page(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    site.clock.advance(minutes=11)
    response = client.get("/admin/accounts?x=1")
    assert response.status_code == 303 and response.headers["location"].startswith("/lock?next=/admin/accounts")
    lock = client.get(response.headers["location"])
    assert "画面ロック" in lock.text
    wrong = client.post("/unlock", data={"csrf": csrf, "password": "Wrong-Pass-2026", "next": "/admin/accounts?x=1"})
    assert wrong.status_code == 401
    right = client.post("/unlock", data={"csrf": csrf, "password": PASSWORDS["manager"],
                                         "next": "/admin/accounts?x=1"})
    assert right.status_code == 303 and right.headers["location"] == "/admin/accounts?x=1"
    assert client.get("/admin/accounts").status_code == 200


def test_the_dashboards_own_refreshes_do_not_keep_a_session_awake(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    for _ in range(6):  # an hour of refreshes with nobody at the screen
        site.clock.advance(minutes=2)
        response = client.get("/dashboard", headers={"X-Mamori-Poll": "1"})
    assert response.status_code == 401 and response.json()["locked"] is True


def test_activity_on_the_page_keeps_the_session_awake(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    for _ in range(6):
        site.clock.advance(minutes=2)
        assert client.post("/activity", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert client.get("/dashboard").status_code == 200


def test_the_api_takes_the_session_cookie_but_not_for_changes_without_the_token(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    assert client.get("/api/v1/alerts").status_code == 200
    body = {"id": "cabinet-9", "site": "nerima", "role": "cabinet", "name": "x"}
    assert client.post("/api/v1/readers", json=body).status_code == 403
    assert client.post("/api/v1/readers", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201
    site.clock.advance(minutes=11)
    assert client.get("/api/v1/alerts").status_code == 401  # locked screen, locked API


def test_logout_ends_the_session(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    assert client.get("/dashboard").status_code == 303
    assert ("logout", "manager") in site.audit()


def test_the_language_follows_the_browser_before_login_and_the_person_after(site):
    client = page_client(site.app)
    assert "Log in" in client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    assert "ログイン" in client.get("/login").text
    client, _csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    client.get("/language/en?next=/dashboard")
    other, _ = logged_in(site.app, "manager", PASSWORDS["manager"])  # another browser: the account remembers
    assert "Dashboard" in other.get("/dashboard").text


# ---------------------------------------------------------------- accounts


def test_an_admin_adds_an_account_and_a_weak_password_is_explained_next_to_the_field(site):
    client, csrf = logged_in(site.app, "admin", PASSWORDS["admin"])
    weak = client.post("/admin/accounts", data={"csrf": csrf, "name": "調査 花子", "role": "surveyor",
                                                "password": "hanako", "password_again": "hanako"})
    assert weak.status_code == 422
    assert "10文字以上にしてください（現在 6 文字）" in weak.text
    assert "大文字・数字・記号が含まれていません" in weak.text
    assert 'value="調査 花子"' in weak.text  # the form comes back filled in
    good = client.post("/admin/accounts", data={"csrf": csrf, "name": "調査 花子", "role": "surveyor",
                                                "password": "Hanako-2026x", "password_again": "Hanako-2026x"})
    assert good.status_code == 303
    assert log_in(page_client(site.app), "調査 花子", "Hanako-2026x").status_code == 303
    assert ("account_added", "admin") in site.audit()


def test_one_person_one_account(site):
    client, csrf = logged_in(site.app, "admin", PASSWORDS["admin"])
    again = client.post("/admin/accounts", data={"csrf": csrf, "name": "manager", "role": "manager",
                                                 "password": "Another-2026", "password_again": "Another-2026"})
    assert again.status_code == 422 and "1人1アカウント" in again.text


def _add_account(client, csrf: str, name: str, role: str):
    return client.post("/admin/accounts", data={"csrf": csrf, "name": name, "role": role,
                                                "password": "Shinjin-2026-pass", "password_again": "Shinjin-2026-pass"})


def test_a_manager_adds_accounts_below_admin_and_it_is_audited(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    page = client.get("/admin/accounts").text
    assert 'action="/admin/accounts"' in page and '<option value="admin"' not in page
    assert _add_account(client, csrf, "新人 受付", "receptionist").status_code == 303
    refused = _add_account(client, csrf, "新しい 管理者", "admin")
    assert refused.status_code == 403 and "システム管理者" in refused.text
    with site.factory() as db:
        assert db.scalars(select(User.role).where(User.name == "新人 受付")).one() == "receptionist"
        assert db.scalars(select(User).where(User.name == "新しい 管理者")).first() is None
        added = db.scalars(select(AuditEvent).where(AuditEvent.action == "account_added")).one()
        assert (added.actor, json.loads(added.detail)) == ("manager", {"account": "新人 受付", "role": "receptionist"})
    auditor, auditor_csrf = logged_in(site.app, "auditor", PASSWORDS["auditor"])
    assert _add_account(auditor, auditor_csrf, "誰か", "surveyor").status_code == 403


def test_a_deactivated_account_is_logged_out_everywhere(site):
    victim, _ = logged_in(site.app, "surveyor", PASSWORDS["surveyor"])
    admin, csrf = logged_in(site.app, "admin", PASSWORDS["admin"])
    with site.factory() as db:
        surveyor_id = db.scalar(select(User.id).where(User.name == "surveyor"))
    assert admin.post(f"/admin/accounts/{surveyor_id}/active", data={"csrf": csrf, "active": "false"}).status_code == 303
    assert victim.get("/dashboard").status_code == 303
    assert log_in(page_client(site.app), "surveyor", PASSWORDS["surveyor"]).status_code == 401


def test_everyone_changes_their_own_password_under_the_rule(site):
    client, csrf = logged_in(site.app, "receptionist", PASSWORDS["receptionist"])
    form = client.get("/account/password")
    assert form.status_code == 200
    weak = client.post("/account/password", data={"csrf": csrf, "current": PASSWORDS["receptionist"],
                                                   "password": "short", "password_again": "short"})
    assert weak.status_code == 422 and "10文字以上" in weak.text
    done = client.post("/account/password", data={"csrf": csrf, "current": PASSWORDS["receptionist"],
                                                  "password": "Uketsuke-2027!", "password_again": "Uketsuke-2027!"})
    assert done.status_code == 303
    assert client.get("/dashboard").status_code == 303  # sessions end with the old password
    assert log_in(page_client(site.app), "receptionist", "Uketsuke-2027!").status_code == 303


def test_the_login_page_keeps_next_on_this_site(site):
    client = page_client(site.app)
    form = client.get("/login?next=//evil.example/x")
    assert hidden(form.text, "next") == ""  # dropped: after login, the person's own landing page
    assert '<meta name="csrf-token" content="">' in form.text  # no session yet, no session token on the page


def test_parallel_wrong_passwords_all_count_toward_the_lockout(site):
    from concurrent.futures import ThreadPoolExecutor

    def guess(_n):
        return log_in(page_client(site.app), "auditor", "Wrong-Pass-2026").status_code

    with ThreadPoolExecutor(6) as pool:
        list(pool.map(guess, range(6)))
    assert log_in(page_client(site.app), "auditor", PASSWORDS["auditor"]).status_code == 403


def test_logging_out_works_from_the_lock_screen(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    site.clock.advance(minutes=11)
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    site.clock.advance(minutes=-11)
    assert client.get("/dashboard").status_code == 303  # the session ended, not only locked
    assert ("logout", "manager") in site.audit()


def test_a_second_person_logging_in_on_the_same_browser_ends_the_first_ones_session(site):
    client, _ = logged_in(site.app, "receptionist", PASSWORDS["receptionist"])
    old_cookie = client.cookies.get("mamori_session")
    log_in(client, "admin", PASSWORDS["admin"])
    stale = page_client(site.app)
    stale.cookies.set("mamori_session", old_cookie)
    assert stale.get("/dashboard").status_code == 303


def test_guessing_the_current_password_at_an_open_screen_counts_toward_the_lockout(site):
    client, csrf = logged_in(site.app, "surveyor", PASSWORDS["surveyor"])
    for _ in range(3):
        client.post("/account/password", data={"csrf": csrf, "current": "Guess-Pass-2026",
                                                "password": "Whatever-2027!", "password_again": "Whatever-2027!"})
    assert log_in(page_client(site.app), "surveyor", PASSWORDS["surveyor"]).status_code == 403


def test_pages_are_not_framed_by_other_sites(site):
    response = page_client(site.app).get("/login")
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
