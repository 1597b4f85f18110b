"""Webhook notices: the notice's JSON POSTed with an HMAC-SHA256 signature over the time and the body.

X-Mamori-Signature is `sha256=` + hex HMAC-SHA256(key=MAMORI_WEBHOOK_SECRET, msg=f"{timestamp}." + body)
where timestamp is X-Mamori-Timestamp (unix seconds); a receiver recomputes it, compares in constant
time, and refuses an old timestamp so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime
from typing import Any

import httpx

TIMEOUT_S = 5.0


class WebhookRefused(Exception):
    pass


def signature(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_request(notice_id: int, payload: dict[str, Any], secret: str,
                    now: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and headers of one delivery."""
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    timestamp = int(now.timestamp())
    return body, {
        "Content-Type": "application/json",
        "X-Mamori-Delivery": str(notice_id),  # the same on every attempt: a receiver drops a repeat
        "X-Mamori-Timestamp": str(timestamp),
        "X-Mamori-Signature": signature(secret, timestamp, body),
    }


def post_webhook(url: str, notice_id: int, payload: dict[str, Any], secret: str | None, now: datetime) -> None:
    """POST one notice; anything but a 2xx answer raises, so the notice is retried."""
    if not secret:
        raise RuntimeError("MAMORI_WEBHOOK_SECRET is not set; webhook notices wait until it is")
    body, headers = webhook_request(notice_id, payload, secret, now)
    response = httpx.post(url, content=body, headers=headers, timeout=TIMEOUT_S)
    if not response.is_success:
        raise WebhookRefused(f"{url} answered {response.status_code}: {response.text[:200]}")
