"""Broker URLs and socket tuning shared by readers and the server."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from urllib.parse import urlsplit


def broker_address(url: str) -> tuple[str, int, bool]:
    """`mqtt://host:port` or `mqtts://host:port` → (host, port, tls)."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ValueError(f"MQTT URL {url!r} must look like mqtt://host:1883 or mqtts://host:8883")
    tls = parts.scheme == "mqtts"
    return parts.hostname, parts.port or (8883 if tls else 1883), tls


def set_nodelay(sock: socket.socket) -> None:
    """paho leaves Nagle on; on loopback that turns a 0.4 ms round trip into ~40 ms."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):  # not a TCP socket (websockets, unix): nothing to tune
        pass


def tls_context(ca_file: str | Path | None, client_cert: str | Path | None = None,
                client_key: str | Path | None = None) -> ssl.SSLContext:
    """The broker's certificate checked against `ca_file` (or the system's CAs) and its name; ours sent if given."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if client_cert:
        context.load_cert_chain(str(client_cert), str(client_key) if client_key else None)
    return context


def why_unreachable(host: str, port: int, tls: ssl.SSLContext | None) -> str:
    """paho keeps the reason a connection failed to itself; a connection of our own, with the same TLS
    context, tells it (e.g. "certificate revoked", "certificate required", a wrong CA)."""
    try:
        sock = socket.create_connection((host, port), timeout=3)
    except OSError as exc:
        return str(exc) or type(exc).__name__
    with sock:
        if tls is None:
            return "the port answers: the MQTT login failed"
        try:
            with tls.wrap_socket(sock, server_hostname=host) as conn:
                conn.settimeout(1)
                if conn.recv(1) == b"":  # the broker waits for our CONNECT: a closed line means it refused us
                    return "the broker closed the TLS connection"
        except ssl.SSLError as exc:
            words = (exc.reason or "").lower().removeprefix("sslv3_alert_").removeprefix("tlsv13_alert_")
            return f"TLS refused: {words.replace('_', ' ') or exc}"
        except TimeoutError:
            return "TLS works: the MQTT login failed"
        except OSError as exc:
            return f"TLS failed: {exc}"
    return "the port answers: the MQTT login failed"
