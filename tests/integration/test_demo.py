"""README command one: the demo comes up with its own broker, and its readers' taps reach the ledger."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request

import pytest
from sqlalchemy import func, select

from server.db import make_engine
from server.ledger.models import ScanRecord
from tests.support.broker import free_port

pytestmark = pytest.mark.integration


def test_demo_serves_the_page_and_its_simulated_readers_fill_the_ledger(tmp_path):
    port = free_port(also=1000)  # the demo's broker takes the web port + 1000
    demo = subprocess.Popen([sys.executable, "-m", "server.cli", "demo", "--port", str(port),
                             "--data-dir", str(tmp_path / "demo")],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        banner = ""
        deadline = time.monotonic() + 60
        while "demo is up" not in banner and time.monotonic() < deadline:
            banner = demo.stdout.readline()
        assert f"http://127.0.0.1:{port}/" in banner
        engine = make_engine(f"sqlite:///{tmp_path / 'demo' / 'mamori.db'}")
        page = ""
        while time.monotonic() < deadline:
            try:
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read().decode()
            except OSError:
                time.sleep(0.2)
                continue
            with engine.connect() as conn:
                fresh = conn.scalar(select(func.count()).select_from(ScanRecord).where(ScanRecord.fresh.is_(True)))
            if fresh >= 1 and "オンライン 2 / 2" in page:
                break
            time.sleep(0.5)
        engine.dispose()
        assert "入退室・持ち出し管理" in page and "オンライン 2 / 2" in page
        assert fresh >= 1, "no live tap reached the ledger"
    finally:
        demo.terminate()
        demo.wait(15)
