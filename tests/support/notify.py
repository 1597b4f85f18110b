"""Real receivers for notices: an SMTP server (aiosmtpd) and a webhook endpoint that checks signatures."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.broker import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class SmtpServer:
    """Keeps every message it accepts; with `login`, accepts only that (user, password) over AUTH."""

    def __init__(self, login: tuple[str, str] | None = None):
        self.received: list[Received] = []
        self.port = free_port()
        options = {}
        if login:
            options = {"authenticator": self._authenticate, "auth_required": True, "auth_require_tls": False}
        self._login = login
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def _authenticate(self, _server, _session, _envelope, _mechanism, auth_data) -> AuthResult:
        given = (auth_data.login.decode(), auth_data.password.decode()) if isinstance(auth_data, LoginPassword) else None
        return AuthResult(success=given == self._login, handled=False)

    async def handle_DATA(self, _server, _session, envelope) -> str:  # aiosmtpd's handler hook
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 OK"

    def __enter__(self) -> SmtpServer:
        self._controller.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._controller.stop()


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    signed_right: bool
    answered: int

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """Answers `failures` first (e.g. [500, 500]), then 200 to each correctly signed POST, 401 to others.

    The signature is checked here from the documented scheme, not with mamori's own code.
    """

    secret: str
    failures: list[int] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)

    def __post_init__(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                message = f"{self.headers['X-Mamori-Timestamp']}.".encode() + body
                expected = "sha256=" + hmac.new(receiver.secret.encode(), message, hashlib.sha256).hexdigest()
                right = hmac.compare_digest(expected, self.headers.get("X-Mamori-Signature", ""))
                status = 401 if not right else receiver.failures.pop(0) if receiver.failures else 200
                receiver.deliveries.append(Delivery(dict(self.headers), body, right, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/mamori"

    def __enter__(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self._server.shutdown()
        self._server.server_close()
