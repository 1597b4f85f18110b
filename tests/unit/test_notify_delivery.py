"""What goes on the wire: the e-mail as built, the webhook's body, headers and signature."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from server.config import Settings
from server.notify.mail import build_email, message_id, smtp_endpoint
from server.notify.models import Notice
from server.notify.webhook import signature, webhook_request

NOW = datetime(2026, 11, 27, 0, 30, tzinfo=UTC)


def test_a_japanese_email_survives_the_trip_through_bytes():
    notice = Notice(id=7, address="sato@example.jp", subject="返却期限超過: ノートPC 3号機", body="本日18:00が返却期限でした。")
    settings = Settings(public_url="https://mamori.example.jp/", mail_from="mamori@example.jp")
    raw = build_email(notice, settings, NOW).as_bytes()
    assert raw.isascii()  # headers encoded, body in a transfer encoding: any SMTP server takes it
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "返却期限超過: ノートPC 3号機"
    assert parsed.get_content().strip() == "本日18:00が返却期限でした。"
    assert parsed["Message-ID"] == "<notice-7@mamori.example.jp>"
    assert parsed["Date"].datetime == NOW


def test_the_message_id_is_the_same_for_every_attempt():
    assert message_id(7, "https://a.example") == message_id(7, "https://a.example") != message_id(8, "https://a.example")


@pytest.mark.parametrize(("url", "endpoint"), [
    ("smtp://mail.example.jp:587", ("smtp", "mail.example.jp", 587)),
    ("smtp://mail.example.jp", ("smtp", "mail.example.jp", 25)),
    ("smtps://mail.example.jp", ("smtps", "mail.example.jp", 465)),
])
def test_the_smtp_url_names_the_server(url, endpoint):
    assert smtp_endpoint(url) == endpoint


@pytest.mark.parametrize("url", ["mail.example.jp:25", "http://mail.example.jp", "smtp://"])
def test_a_malformed_smtp_url_says_what_it_should_be(url):
    with pytest.raises(ValueError, match="smtp://host:port or smtps://host:port"):
        smtp_endpoint(url)


def test_the_signature_is_an_hmac_of_the_timestamp_and_the_body():
    body = b'{"v":1}'
    expected = hmac.new(b"s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert signature("s3cret", 1700000000, body) == f"sha256={expected}"


def test_a_webhook_delivery_is_utf8_json_with_its_id_time_and_signature():
    body, headers = webhook_request(7, {"v": 1, "name": "山田"}, "s3cret", NOW)
    assert json.loads(body) == {"v": 1, "name": "山田"} and "山田".encode() in body
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Mamori-Delivery"] == "7"
    assert headers["X-Mamori-Timestamp"] == str(int(NOW.timestamp()))
    assert headers["X-Mamori-Signature"] == signature("s3cret", int(NOW.timestamp()), body)


def test_stored_text_with_line_breaks_cannot_inject_a_header():
    notice = Notice(id=8, address="sato@example.jp\r\nBcc: thief@example.com",
                    subject="【mamori】来訪者 山田\r\nBcc: thief@example.com\n様が到着しました", body="本文")
    settings = Settings(public_url="https://mamori.example.jp/", mail_from="mamori@example.jp")
    parsed = email.message_from_bytes(build_email(notice, settings, NOW).as_bytes(), policy=email.policy.default)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "【mamori】来訪者 山田 Bcc: thief@example.com 様が到着しました"
    assert set(parsed.keys()) == {"From", "To", "Subject", "Date", "Message-ID", "Content-Type",
                                  "Content-Transfer-Encoding", "MIME-Version"}
