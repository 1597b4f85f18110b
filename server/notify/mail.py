"""E-mail notices over SMTP (stdlib smtplib): smtp:// with STARTTLS when offered, or smtps://."""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import urlsplit

from server.config import Settings
from server.notify.models import Notice
from server.single_line import flatten

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
TIMEOUT_S = 10.0


def smtp_endpoint(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of MAMORI_SMTP_URL, or a ValueError saying what it should look like."""
    parts = urlsplit(url)
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"MAMORI_SMTP_URL must be smtp://host:port or smtps://host:port, not {url!r}")
    return parts.scheme, parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme]


def message_id(notice_id: int, public_url: str) -> str:
    """The same for every attempt at one notice, so a mail client shows a resent copy once."""
    return f"<notice-{notice_id}@{urlsplit(public_url).hostname or 'mamori.invalid'}>"


def build_email(notice: Notice, settings: Settings, now: datetime) -> EmailMessage:
    """The notice as a message; stored text (a name from before names were checked) goes into the
    headers flattened to one line, so it can neither inject a header nor make the message unsendable."""
    message = EmailMessage()  # encodes a Japanese subject (RFC 2047) and body (UTF-8) itself
    message["From"] = flatten(settings.mail_from)
    message["To"] = flatten(notice.address)
    message["Subject"] = flatten(notice.subject)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(notice.id, settings.public_url)
    # base64 keeps the message 7-bit: a relay without 8BITMIME cannot mangle the Japanese.
    message.set_content(notice.body, charset="utf-8", cte="base64")
    return message


def send_email(settings: Settings, message: EmailMessage) -> None:
    """Deliver one message to the SMTP server; raises on any refusal, so the notice is retried."""
    if not settings.smtp_url:
        raise RuntimeError("MAMORI_SMTP_URL is not set; e-mail notices wait until it is")
    scheme, host, port = smtp_endpoint(settings.smtp_url)
    context = ssl.create_default_context()
    if scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_S, context=context)
    else:
        client = smtplib.SMTP(host, port, timeout=TIMEOUT_S)
    with client:
        client.ehlo()
        if scheme == "smtp" and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        if settings.smtp_username:
            client.login(settings.smtp_username, settings.smtp_password or "")
        client.send_message(message)
