"""`mamori gateway` / `python -m gateway`: checks a config file, and stays free of server code."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def gateway_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gateway", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def test_check_takes_the_shipped_cabinet_config_to_the_hardware_it_names():
    # The file itself is valid (test_gateway_config); here there is no RC-S380 and no Raspberry Pi.
    done = gateway_cli("--config", "firmware_config/cabinet.yaml", "--check")
    assert done.returncode == 2
    line = next(n for n, text in enumerate((ROOT / "firmware_config" / "cabinet.yaml").read_text().splitlines(), 1)
                if text.strip().startswith("device:"))
    assert f"firmware_config/cabinet.yaml:{line}: card_reader.device: " in done.stderr
    assert re.search(r"firmware_config/cabinet.yaml:\d+: pin_factory: no pin library works here", done.stderr)
    assert "Traceback" not in done.stderr


def test_check_refuses_a_bad_file_naming_the_line(tmp_path):
    bad = tmp_path / "entrance.yaml"
    bad.write_text("site: nerima\nreader: entrance\nrole: entrance\ncard_reader:\n  type: nfc\n  devise: usb\n")
    done = gateway_cli("--config", str(bad), "--check")
    assert done.returncode == 2
    assert f"{bad}:6: card_reader.devise: unknown key" in done.stderr


def test_the_gateway_loads_no_server_database_or_web_code():
    probe = ("import sys, gateway.app, gateway.cli, gateway.readers.serial, gateway.readers.nfc; "
             "print(sorted({m.split('.')[0] for m in sys.modules} & {'server', 'sqlalchemy', 'fastapi', 'alembic'}))")
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_a_gateway_that_cannot_start_names_the_key_to_change(tmp_path):
    config = tmp_path / "cabinet.yaml"
    config.write_text("site: nerima\nreader: cabinet-1\nrole: cabinet\ncard_reader: {type: rdm6300}\n"
                      "outbox: {path: /proc/mamori-no-such-folder/outbox.sqlite3}\nlock: {pin: 17}\n"
                      "pin_factory: mock\n")
    done = gateway_cli("--config", str(config))
    assert done.returncode == 1
    assert done.stderr.startswith("error: outbox.path /proc/mamori-no-such-folder/outbox.sqlite3: cannot open")
    assert "Traceback" not in done.stderr
