"""Bodies: an unknown caller's is never read, and nobody's is read past its cap (413)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import anyio
import pytest

from server.accounts.service import create_token
from server.db import unit_of_work
from tests.support.web import PASSWORDS, Site, logged_in, page_client

pytestmark = pytest.mark.integration
MIB = 1024 * 1024


@pytest.fixture
def site(database_url):
    site = Site(database_url)
    with page_client(site.app):
        with unit_of_work(site.factory) as db:
            site.token = create_token(db, "manager", site.clock())
        yield site


def send(app, method: str, path: str, headers: dict[str, str], chunks: list[bytes]) -> tuple[int, list[int], dict]:
    """One request straight into the ASGI app; returns the status, the sizes of the chunks the app read, and headers."""
    pending, read, sent = list(chunks), [], []

    async def receive():
        if pending:
            chunk = pending.pop(0)
            read.append(len(chunk))
            return {"type": "http.request", "body": chunk, "more_body": bool(pending)}
        return {"type": "http.disconnect"}

    async def capture(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "https",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "app": app,
             "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()],
             "client": ("127.0.0.1", 50000), "server": ("testserver", 443)}
    # A thread of its own: a browser test's Playwright may keep an event loop running in this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(anyio.run, app, scope, receive, capture).result()
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], read, {k.decode(): v.decode() for k, v in start["headers"]}


def test_an_anonymous_post_is_refused_before_its_body_is_read(site):
    status, read, headers = send(site.app, "POST", "/api/v1/people", {"content-type": "application/json"},
                                 [b"x" * MIB] * 20)
    assert status == 401 and read == [] and headers["www-authenticate"] == "Bearer"


def test_a_wrong_token_is_refused_before_its_body_is_read(site):
    status, read, _ = send(site.app, "POST", "/api/v1/people", {"authorization": "Bearer mamori_nope"}, [b"{}"] * 5)
    assert status == 401 and read == []


def test_an_anonymous_form_post_to_a_page_goes_to_the_login_with_its_body_unread(site):
    status, read, headers = send(site.app, "POST", "/admin/accounts",
                                 {"content-type": "application/x-www-form-urlencoded"}, [b"name=x&" * 1000] * 10)
    assert status == 303 and read == [] and headers["location"] == "/login?next=/admin/accounts"


def test_a_declared_length_over_the_cap_is_refused_unread(site):
    status, read, _ = send(site.app, "POST", "/api/v1/people",
                           {"authorization": f"Bearer {site.token}", "content-length": str(100 * MIB)}, [b"x" * MIB])
    assert status == 413 and read == []


def test_a_streamed_body_stops_being_read_at_the_cap(site):
    chunk = b" " * (64 * 1024)
    status, read, _ = send(site.app, "POST", "/api/v1/people", {"authorization": f"Bearer {site.token}",
                                                                "content-type": "application/json"}, [chunk] * 40)
    assert status == 413
    assert sum(read) <= site.app.state.settings.max_body_kb * 1024 + len(chunk)


def test_the_login_form_takes_only_a_small_body(site):
    status, read, headers = send(site.app, "POST", "/login", {"content-type": "application/x-www-form-urlencoded",
                                                              "accept-language": "ja"}, [b"a" * 1024] * 40)
    assert status == 413 and sum(read) <= 17 * 1024 and headers["content-type"].startswith("text/html")


def test_a_page_that_is_too_large_says_so_in_the_persons_language(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    response = client.post("/admin/accounts/1/contact", data={"csrf": csrf, "email": "a" * 300 * 1024})
    assert response.status_code == 413 and "送信内容が大きすぎます" in response.text and "256 KB" in response.text


def test_the_csv_import_keeps_its_larger_cap_and_explains_a_file_too_big(site):
    client, csrf = logged_in(site.app, "manager", PASSWORDS["manager"])
    data = ("氏名,カードID\r\n" + "山田 太郎,0A0B0C0D\r\n" * 40_000).encode()  # ~800 KB: over the import's own limit
    response = client.post("/admin/import/preview", data={"csrf": csrf, "kind": "people"},
                           files={"file": ("staff.csv", data, "text/csv")})
    assert response.status_code != 413, response.text[:300]
    assert "ファイルが大きすぎます" in response.text


def test_a_known_caller_with_a_normal_body_still_gets_through(site):
    status, read, _ = send(site.app, "POST", "/api/v1/people", {"authorization": f"Bearer {site.token}",
                                                                "content-type": "application/json"},
                           [b'{"name": "\xe4\xbd\x90\xe8\x97\xa4 \xe8\x8a\xb1\xe5\xad\x90"}'])
    assert status == 201 and read
