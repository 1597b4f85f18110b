"""Gateway configs for tests, derived from the shipped firmware_config files."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import yaml

from gateway import protocol
from gateway.config import GatewayConfig, parse_config
from tests.support.office import SITE

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "firmware_config"
LOCK_PIN, GREEN_PIN, RED_PIN, BUZZER_PIN, DOOR_PIN, EXIT_PIN, TAMPER_PIN = 17, 22, 27, 18, 23, 24, 25


def derived_yaml(shipped: str, workdir: Path, *, broker_url: str, card_reader: dict, **changes) -> Path:
    """The shipped file with what cannot exist here replaced: broker, reader device, disk, pins."""
    data = yaml.safe_load((SHIPPED / shipped).read_text(encoding="utf-8"))
    data["broker"] = {"url": broker_url}
    data["card_reader"] = card_reader
    data["outbox"] = {"path": str(workdir / f"{data['reader']}-outbox.sqlite3"), "resend_after_s": 2}
    data["pin_factory"] = "mock"
    data.update(changes)
    path = workdir / shipped
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def config_for(shipped: str, workdir: Path, **kwargs) -> GatewayConfig:
    path = derived_yaml(shipped, workdir, **kwargs)
    return parse_config(path.read_text(encoding="utf-8"), str(path))


def rdm6300(port: str) -> dict:
    return {"type": "rdm6300", "port": port, "gone_after_s": 0.3}


STAFF = "0A00112233"  # 125 kHz staff fobs (EM4100: 10 hex digits)
OTHER_STAFF = "0A00445566"
FOLDER = "0B00000001"
CABINET_KEY = "5a" * 32  # cabinet-1's allowlist key, as `mamori readers key cabinet-1` would print one


def wait_for(predicate, timeout: float = 10.0, what: str = "condition"):
    """Poll until `predicate()` is truthy and return it, or fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def lock_open(gateway) -> bool:
    return bool(gateway.outputs.lock.is_active)


def lock_openings(gateway) -> int:
    """How many times the relay was switched on since the gateway started (gpiozero's mock pins keep
    their history), not only whether it is open now."""
    active = 1 if gateway.outputs.lock.active_high else 0
    states = [s.state for s in gateway.outputs.lock.pin.states]
    return sum(1 for before, after in zip(states, states[1:]) if before != active and after == active)


def rises(pin) -> int:
    """How many times a mock pin went high (gpiozero's MockPin keeps its history)."""
    states = [s.state for s in pin.states]
    return sum(1 for before, after in zip(states, states[1:]) if not before and after)


class ServerSide:
    """Publishes as the server would (the test broker has no ACL), on one connection."""

    def __init__(self, broker):
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="test-server-side")
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def publish(self, reader: str, channel: str, payload: bytes, *, retain: bool = False) -> None:
        self.client.publish(protocol.topic(SITE, reader, channel), payload, qos=1, retain=retain).wait_for_publish(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def server_publish(broker, reader: str, channel: str, payload: bytes, *, retain: bool = False) -> None:
    """One message as the server would publish it."""
    server = ServerSide(broker)
    try:
        server.publish(reader, channel, payload, retain=retain)
    finally:
        server.close()


class TopicWatcher:
    """Records what one reader's topic carries, as a reader or the server would receive it."""

    def __init__(self, broker, reader: str, channel: str, model):
        self.received: list = []
        self.model = model
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-watch-{reader}-{channel}")
        self.client.on_message = lambda _c, _u, msg: self.received.append(protocol.decode(msg.payload, model))
        self.client.connect("127.0.0.1", broker.port)
        self.client.subscribe(protocol.topic(SITE, reader, channel), qos=1)
        self.client.loop_start()

    def latest(self):
        return self.received[-1] if self.received else None

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def restart_ingest(office) -> None:
    """Start the server's MQTT half again after a test stopped it."""
    from server.ingest.runner import Ingest

    ingest = Ingest(office.settings)
    ingest.start()
    office.app.state.ingest = ingest
    office.wait_connected()


def outbox_size(path: Path) -> int:
    """Scans and events waiting in a gateway's outbox file, read from outside its process."""
    with sqlite3.connect(path) as db:
        return db.execute("SELECT count(*) FROM pending").fetchone()[0]


class GatewayProcess:
    """`python -m gateway --config …` in its own process, its log collected line by line."""

    def __init__(self, config: Path):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway", "--config", str(config), "-v"], cwd=ROOT,
            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._collect, daemon=True)
        self._reader.start()

    def _collect(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)

    def logged(self, pattern: str) -> list[str]:
        return [m.group(1) for line in list(self.lines) if (m := re.search(pattern, line))]

    def kept(self) -> list[str]:
        return self.logged(r"scan (\w+) kept and sent")

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self._reader.join(5)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self._reader.join(5)
