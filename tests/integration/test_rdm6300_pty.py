"""The real Rdm6300Reader on a pseudo-terminal: pyserial reads what the test writes on the master side."""

from __future__ import annotations

import os
import pty
import queue
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from gateway.config import Rdm6300ReaderConfig
from gateway.readers import ReaderError, Tap
from gateway.readers.serial import Rdm6300Reader
from tests.support.rdm6300 import FobField, frame

pytestmark = pytest.mark.integration

GONE_AFTER_S = 0.3
A = "0A00B1C2D3"
B = "1F2E3D4C5B"


class Running:
    """An Rdm6300Reader running in a thread on a pty; taps land in a queue."""

    def __init__(self) -> None:
        self.field = FobField()
        self.port = self.field.port
        self.reader = Rdm6300Reader(Rdm6300ReaderConfig(type="rdm6300", port=self.port, gone_after_s=GONE_AFTER_S))
        self.stop = threading.Event()
        self.taps: queue.Queue[Tap] = queue.Queue()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self.reader.run(self.taps.put, self.stop)
        except BaseException as exc:  # handed to the test
            self.error = exc

    def start(self) -> Running:
        self.thread.start()
        # pyserial empties the input buffer when it opens the port: write only after that.
        deadline = time.monotonic() + 5
        while self.reader._port is None:
            assert self.thread.is_alive(), f"reader stopped: {self.error!r}"
            assert time.monotonic() < deadline, "the reader did not open the pty"
            time.sleep(0.005)
        return self

    def write(self, data: bytes) -> None:
        self.field.write(data)

    def next_tap(self, timeout: float = 2.0) -> Tap:
        return self.taps.get(timeout=timeout)

    def no_tap(self, within: float) -> None:
        with pytest.raises(queue.Empty):
            self.taps.get(timeout=within)

    def sync(self) -> None:
        """Return once the reader has read everything written so far (a marker frame's tap)."""
        self.write(frame("FFFFFFFFFF"))
        assert self.next_tap() == Tap("FFFFFFFFFF", "em4100")

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)
        self.field.close()


@pytest.fixture
def running():
    run = Running().start()
    yield run
    run.finish()


def test_good_frames_are_taps(running):
    running.write(frame(A) + frame(B))
    assert running.next_tap() == Tap(A, "em4100")
    assert running.next_tap() == Tap(B, "em4100")


def test_a_frame_split_across_writes(running):
    whole = frame(A)
    running.write(whole[:5])
    time.sleep(0.02)
    running.write(whole[5:])
    assert running.next_tap() == Tap(A, "em4100")


def test_a_bad_checksum_is_no_tap(running):
    running.write(frame(A, checksum=0x5A))  # the right one is 0xAA
    running.sync()
    assert running.taps.empty()
    assert running.reader.parser.reasons["bad checksum"] == 1


def test_a_torn_frame_gives_only_the_good_one_after_it(running):
    running.write(frame(A)[:8] + frame(B))
    assert running.next_tap() == Tap(B, "em4100")
    running.sync()
    assert running.taps.empty()
    assert running.reader.parser.rejected == 1


def test_a_fob_held_for_a_second_is_one_tap_and_back_after_a_pause_is_another(running):
    started = time.monotonic()
    while time.monotonic() - started < 1.0:
        running.write(frame(A))
        time.sleep(0.06)
    assert running.next_tap() == Tap(A, "em4100")
    running.no_tap(within=0.1)

    time.sleep(GONE_AFTER_S + 0.2)
    for _ in range(5):
        running.write(frame(A))
        time.sleep(0.06)
    assert running.next_tap() == Tap(A, "em4100")
    running.no_tap(within=0.1)
    assert running.reader.parser.accepted >= 20


def test_stop_returns_quickly(running):
    running.write(frame(A))
    running.next_tap()
    asked = time.monotonic()
    running.stop.set()
    running.thread.join(timeout=2)
    assert not running.thread.is_alive()
    assert time.monotonic() - asked < 0.5
    assert running.error is None


def test_close_from_another_thread_ends_run(running):
    asked = time.monotonic()
    running.reader.close()
    running.thread.join(timeout=2)
    assert not running.thread.is_alive()
    assert time.monotonic() - asked < 0.5
    assert running.error is None
    assert running.reader._port is None


def test_a_vanished_port_is_a_reader_error():
    run = Running().start()
    try:
        os.close(run.field.master)  # the slave side now reads EIO, as a pulled USB-serial adapter does
        run.thread.join(timeout=3)
        assert not run.thread.is_alive()
        assert isinstance(run.error, ReaderError)
        assert run.port in str(run.error)
        assert "stopped working" in str(run.error)
    finally:
        run.finish()


def test_a_nonexistent_port_is_a_reader_error():
    reader = Rdm6300Reader(Rdm6300ReaderConfig(type="rdm6300", port="/dev/ttyUSB-mamori-missing"))
    with pytest.raises(ReaderError, match="no such device.*USB-serial adapter"):
        reader.run(lambda tap: None, threading.Event())


def test_a_missing_uart_points_at_raspi_config():
    reader = Rdm6300Reader(Rdm6300ReaderConfig(type="rdm6300", port="/dev/serial-mamori-missing"))
    with pytest.raises(ReaderError, match="raspi-config"):
        reader.run(lambda tap: None, threading.Event())


_OPEN_AS_USER = """
import sys, threading
from gateway.config import Rdm6300ReaderConfig
from gateway.readers import ReaderError
from gateway.readers.serial import Rdm6300Reader
from tests.support.rdm6300 import FobField, frame
try:
    Rdm6300Reader(Rdm6300ReaderConfig(type="rdm6300", port=sys.argv[1])).run(lambda tap: None, threading.Event())
except ReaderError as exc:
    print(exc)
"""


def test_a_port_without_permission_names_the_dialout_group():
    master, slave = pty.openpty()
    try:
        port = os.ttyname(slave)
        os.chmod(port, 0o600)
        if os.geteuid() != 0:
            os.chmod(port, 0o000)
            with pytest.raises(ReaderError, match="permission denied.*dialout"):
                Rdm6300Reader(Rdm6300ReaderConfig(type="rdm6300", port=port)).run(lambda tap: None, threading.Event())
            return
        # root opens any device node: open it as nobody instead.
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv to drop to an unprivileged user")
        root = Path(__file__).resolve().parents[2]
        result = subprocess.run(
            [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", _OPEN_AS_USER, port],
            cwd=root, env={**os.environ, "PYTHONPATH": str(root)}, capture_output=True, text=True, timeout=20)
        if result.returncode != 0:  # e.g. the checkout or the venv is not readable by nobody
            pytest.skip(f"could not run Python as nobody: {result.stderr.strip()[-300:]}")
        assert "permission denied" in result.stdout and "dialout" in result.stdout, result.stdout + result.stderr
    finally:
        os.close(master)
        os.close(slave)
