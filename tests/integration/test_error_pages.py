"""A missing record, a wrong address or a failure answers a page in the person's language with a way back;
the API keeps JSON, with a sentence."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from server.accounts.service import create_token
from server.db import unit_of_work
from tests.support.web import PASSWORDS, Site, logged_in, page_client
from tests.support.words import SNAKE_CODE, visible_text

pytestmark = pytest.mark.integration


@pytest.fixture
def site(database_url):
    site = Site(database_url)
    with page_client(site.app):
        yield site


def test_a_missing_visit_answers_a_japanese_page_with_404_and_a_way_back(site):
    client, _ = logged_in(site.app, "receptionist", PASSWORDS["receptionist"])
    response = client.get("/reception/visits/99999", headers={"referer": "https://testserver/reception"})
    assert response.status_code == 404 and response.headers["content-type"].startswith("text/html")
    text = visible_text(response.text)
    assert "見つかりません" in text and "一覧から探し直してください" in text
    assert 'href="/reception"' in response.text and "前のページに戻る" in text
    assert "no visit" not in text and "detail" not in text  # no JSON error shown (the menu's <details> is markup)


def test_the_error_page_follows_the_persons_language(site):
    client, _ = logged_in(site.app, "manager", PASSWORDS["manager"])
    client.get("/language/en")
    response = client.get("/admin/people/99999")
    assert response.status_code == 404
    assert "There is no such page or record" in response.text and 'href="/dashboard"' in response.text


def test_an_unknown_address_is_a_page_too_with_the_menu_for_a_logged_in_person(site):
    client, _ = logged_in(site.app, "surveyor", PASSWORDS["surveyor"])
    response = client.get("/no/such/page")
    assert response.status_code == 404 and "見つかりません" in response.text
    assert "ログアウト" in response.text  # the person's own menu, from their session
    anonymous = page_client(site.app).get("/no/such/page", headers={"accept-language": "en-GB,en;q=0.9"})
    assert anonymous.status_code == 404 and "Not found" in anonymous.text


def test_a_wrong_method_and_an_unreadable_form_answer_pages(site):
    client, _ = logged_in(site.app, "manager", PASSWORDS["manager"])
    wrong_method = client.delete("/dashboard")
    assert wrong_method.status_code == 405 and "この操作はできません" in wrong_method.text
    unreadable = client.get("/admin/people/not-a-number")
    assert unreadable.status_code == 422 and "送信内容を読み取れませんでした" in unreadable.text
    assert set(SNAKE_CODE.findall(visible_text(unreadable.text))) == set()


def test_a_failure_answers_a_generic_page_without_a_traceback(site):
    def broken() -> None:
        raise RuntimeError("secret internals: /srv/mamori/db password=hunter2")

    site.app.add_api_route("/broken-page", broken)
    site.app.add_api_route("/api/v1/broken", broken)
    client = TestClient(site.app, base_url="https://testserver", raise_server_exceptions=False)
    page = client.get("/broken-page")
    assert page.status_code == 500 and "エラーが発生しました" in page.text
    assert "secret" not in page.text and "Traceback" not in page.text and "RuntimeError" not in page.text
    api = client.get("/api/v1/broken")
    assert api.status_code == 500 and "secret" not in api.text and "try again" in api.json()["detail"]


def test_the_api_keeps_json_with_sentences(site):
    client = page_client(site.app)
    unknown = client.get("/api/v1/no-such-thing")
    assert unknown.status_code == 404 and "/docs" in unknown.json()["detail"]
    anonymous = client.delete("/api/v1/health")  # a change without a token is refused before anything else
    assert anonymous.status_code == 401
    with unit_of_work(site.factory) as db:
        token = create_token(db, "admin", datetime.now(UTC))
    wrong = client.delete("/api/v1/health", headers={"Authorization": f"Bearer {token}"})
    assert wrong.status_code == 405 and "DELETE is not allowed" in wrong.json()["detail"]
