"""A reader's folder of credentials and its YAML, to be copied to the Pi's /etc/mamori/ as it is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from gateway.config import parse_config
from server.provision.files import write_file

# The wiring of firmware_config/*.yaml (docs/firmware_config.md); the person checks it against the Pi.
INDICATORS = {"green_led": 22, "red_led": 27, "buzzer": 18}
CABINET_HARDWARE = {
    "lock": {"pin": 17, "active_high": False, "local_unlock_s": 5},
    "inputs": {"door": {"pin": 23, "closed_when_pressed": True}, "tamper": {"pin": 25}},
}


@dataclass(frozen=True)
class ReaderFiles:
    """What one reader gets: the paths are as they will be on the Pi (`on_pi`), the bytes as made here."""

    reader: str
    site: str
    role: str
    broker_url: str
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes
    password: str
    allowlist_key: str | None


def reader_yaml(files: ReaderFiles, on_pi: Path) -> str:
    """The reader's config, checked by the gateway's own loader before it is written."""
    name = files.reader
    config: dict = {
        "site": files.site, "reader": name, "role": files.role,
        "broker": {"url": files.broker_url, "username": name,
                   "password_file": str(on_pi / f"{name}.password"), "ca_file": str(on_pi / "ca.crt"),
                   "client_cert": str(on_pi / f"{name}.crt"), "client_key": str(on_pi / f"{name}.key")},
        "card_reader": {"type": "nfc", "device": "usb", "technologies": ["felica", "iso14443a"]},
        "outbox": {"path": f"/var/lib/mamori-gateway/{name}.sqlite3"},
        "indicators": dict(INDICATORS),
    }
    if files.role == "cabinet":
        config.update(CABINET_HARDWARE)
        if files.allowlist_key:
            config["allowlist_key_file"] = str(on_pi / f"{name}.allowlist-key")
    text = (f"# {name}: made by `mamori readers provision {name}`. Copy this folder to the reader's {on_pi}/.\n"
            "# The broker section is complete; check card_reader, lock, indicators and inputs against the\n"
            "# wiring (docs/firmware_config.md), then: mamori gateway --config THIS_FILE --check\n"
            + yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    parse_config(text, f"{name}.yaml")
    return text


def write_bundle(files: ReaderFiles, folder: Path, on_pi: Path) -> list[Path]:
    """The reader's files in `folder` (secrets 0600); returns what was written."""
    name = files.reader
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    written = [
        write_file(folder / f"{name}.yaml", reader_yaml(files, on_pi)),
        write_file(folder / "ca.crt", files.ca_pem),
        write_file(folder / f"{name}.crt", files.cert_pem),
        write_file(folder / f"{name}.key", files.key_pem, mode=0o600),
        write_file(folder / f"{name}.password", files.password + "\n", mode=0o600),
    ]
    if files.allowlist_key:
        written.append(write_file(folder / f"{name}.allowlist-key", files.allowlist_key + "\n", mode=0o600))
    return written
