"""Gateway configs for tests, derived from the shipped firmware_config files."""

from __future__ import annotations

from pathlib import Path

import yaml

from gateway.config import GatewayConfig, parse_config

SHIPPED = Path(__file__).resolve().parents[2] / "firmware_config"
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
