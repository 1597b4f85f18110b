"""A real Mosquitto on a free port, started from a temp config, that tests can stop and restart."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

# Ports for the servers tests start, below Linux's ephemeral range (32768–60999): a port the kernel
# hands out for bind(0) or to an outgoing connection (a client of PostgreSQL, of a broker) can be taken
# again by the next connection before the server binds it, or while a test restarts its broker. Each
# xdist worker draws from its own slice, so two workers of one run never draw the same port.
PORTS = range(20000, 32000)


def _worker_slice() -> range:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    count = max(int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")), 1)
    index = int(worker.removeprefix("gw")) % count if worker.startswith("gw") else 0
    size = len(PORTS) // count
    return range(PORTS.start + index * size, PORTS.start + (index + 1) * size)


def bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port(*, also: int | None = None) -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (and, with `also=n`, neither does port + n)."""
    ports = _worker_slice()
    for _ in range(1000):
        port = random.randrange(ports.start, ports.stop)
        if bindable(port) and (also is None or bindable(port + also)):
            return port
    raise RuntimeError(f"no free port in {ports.start}–{ports.stop - 1}")


def wait_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


class Mosquitto:
    def __init__(self, workdir: Path, *, persistence: bool = True, port: int | None = None,
                 extra_config: str = ""):
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise RuntimeError("mosquitto is not installed: apt-get install mosquitto mosquitto-clients")
        self.binary = binary
        self.workdir = workdir
        self.port = port or free_port()
        self.persistence = persistence
        self.extra_config = extra_config
        self.proc: subprocess.Popen | None = None
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def write_config(self) -> Path:
        conf = self.workdir / "mosquitto.conf"
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            f"persistence {'true' if self.persistence else 'false'}",
            f"persistence_location {self.workdir}/",
            "max_inflight_messages 1000",
            "max_queued_messages 100000",
            "set_tcp_nodelay true",
            # Started as root, Mosquitto would switch to the mosquitto user, which cannot write
            # its persistence file in the test's temp folder; ignored when not root.
            "user root",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            self.extra_config,
        ]
        conf.write_text("\n".join(lines) + "\n")
        return conf

    def start(self) -> Mosquitto:
        conf = self.write_config()
        with open(self.workdir / "mosquitto.log", "ab") as log:  # the child keeps its own copy of the handle
            self.proc = subprocess.Popen([self.binary, "-c", str(conf)], stdout=log, stderr=log)
        wait_port(self.port)
        return self

    def stop(self) -> None:
        """Graceful stop: Mosquitto writes its persistence file on SIGTERM."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        self.proc = None

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def restart(self, *, persistence: bool | None = None) -> None:
        self.stop()
        if persistence is not None:
            self.persistence = persistence
            if not persistence:
                for db in self.workdir.glob("mosquitto.db"):
                    db.unlink()
        self.start()


DEPLOY_CONF = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto" / "mamori.conf"


class ShippedMosquitto(Mosquitto):
    """deploy/mosquitto/mamori.conf itself: its TLS listener on a free loopback port, its files from `files`
    (what `mamori ca init` and `mamori readers provision` wrote) instead of /etc/mosquitto/mamori/."""

    def __init__(self, workdir: Path, files: Path, *, extra_config: str = ""):
        super().__init__(workdir, persistence=True, extra_config=extra_config)
        self.files = files

    @property
    def url(self) -> str:
        return f"mqtts://127.0.0.1:{self.port}"

    def write_config(self) -> Path:
        text = DEPLOY_CONF.read_text()
        text, n = re.subn(r"(?m)^listener 8883$", f"listener {self.port} 127.0.0.1", text)
        assert n == 1, "mamori.conf no longer has its TLS listener on 8883"
        text = text.replace("/etc/mosquitto/mamori/", f"{self.files}/")
        # Started as root, Mosquitto would drop to the mosquitto user, which cannot enter pytest's temp dirs.
        text += (f"persistence_location {self.workdir}/\nlog_dest stderr\nlog_type error\nlog_type warning\n"
                 f"log_type notice\nlog_type information\nuser root\n{self.extra_config}\n")
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(text)
        return conf

    def reload(self) -> None:
        """What `systemctl reload mosquitto` does: SIGHUP to this broker's own process."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGHUP)

    def log(self) -> str:
        return (self.workdir / "mosquitto.log").read_text(errors="replace")
