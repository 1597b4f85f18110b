"""`pip install mamori[server]` alone: the `mamori` command must work without the reader's libraries.

A fresh venv per test would need the network or a wheel cache; instead the subprocess blocks the
[gateway] extra's modules with a meta-path finder, as if they were not installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
GATEWAY_ONLY = ("yaml", "nfc", "serial", "gpiozero", "usb1")

_RUN_WITHOUT_GATEWAY_EXTRA = """
import sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {blocked!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
from server.cli import main
sys.exit(main(sys.argv[1:]))
"""


def server_only(database_url: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env["MAMORI_DATABASE_URL"] = database_url
    code = _RUN_WITHOUT_GATEWAY_EXTRA.format(blocked=set(GATEWAY_ONLY))
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          cwd=ROOT, timeout=60)


def test_help_works_without_the_gateway_extra(tmp_path):
    run = server_only(f"sqlite:///{tmp_path / 'x.db'}", "--help")
    assert run.returncode == 0, run.stderr
    assert "serve" in run.stdout and "gateway" in run.stdout


def test_db_upgrade_works_without_the_gateway_extra(database_url):
    run = server_only(database_url, "db", "upgrade")
    assert run.returncode == 0, run.stderr
    assert "newest schema" in run.stdout


def test_the_gateway_command_without_its_extra_says_what_to_install(tmp_path):
    config = tmp_path / "cabinet.yaml"
    config.write_text("reader: cabinet-1\n")
    run = server_only(f"sqlite:///{tmp_path / 'x.db'}", "gateway", "--config", str(config), "--check")
    assert run.returncode == 2
    assert "mamori[gateway]" in run.stderr
    assert "Traceback" not in run.stderr


def test_the_blocker_really_hides_the_gateway_libraries(tmp_path):
    """Guards the test itself: with the finder in place PyYAML is not importable."""
    code = _RUN_WITHOUT_GATEWAY_EXTRA.split("from server.cli")[0].format(blocked=set(GATEWAY_ONLY)) + "import yaml\n"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode != 0 and "No module named 'yaml'" in run.stderr


def test_the_web_server_and_ingest_import_without_the_gateway_extra():
    code = _RUN_WITHOUT_GATEWAY_EXTRA.split("from server.cli")[0].format(blocked=set(GATEWAY_ONLY)) + (
        "from server.main import create_app\nimport server.ingest.runner\nimport server.demo\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert run.returncode == 0, run.stderr
