"""A real NATS cluster with JetStream and its MQTT listener, on free ports from a temp config: the
clustered broker mamori supports beside Mosquitto (docs/scale-out.md)."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from tests.support.broker import free_port, wait_port


def nats_binary() -> str | None:
    found = shutil.which("nats-server") or "/usr/sbin/nats-server"
    return found if Path(found).exists() else None


class NatsCluster:
    """`nodes` nats-server processes routed to one another, each with JetStream and MQTT: broker
    machines in miniature. A reader or server may connect to any node and hear the others."""

    def __init__(self, workdir: Path, nodes: int = 3):
        binary = nats_binary()
        if binary is None:
            raise RuntimeError("nats-server is not installed: apt-get install nats-server")
        self.binary = binary
        self.workdir = workdir
        self.mqtt_ports = [free_port() for _ in range(nodes)]
        self.route_ports = [free_port() for _ in range(nodes)]
        self.client_ports = [free_port() for _ in range(nodes)]
        self.procs: list[subprocess.Popen] = []
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def urls(self) -> list[str]:
        return [f"mqtt://127.0.0.1:{port}" for port in self.mqtt_ports]

    @property
    def url(self) -> str:
        return self.urls[0]

    def _config(self, n: int) -> Path:
        routes = ", ".join(f"nats://127.0.0.1:{port}" for port in self.route_ports)
        conf = self.workdir / f"nats-{n}.conf"
        conf.write_text(
            f'server_name: "mamori-{n}"\n'
            f"listen: 127.0.0.1:{self.client_ports[n]}\n"
            f'jetstream {{ store_dir: "{self.workdir}/js-{n}" }}\n'
            f"mqtt {{ listen: 127.0.0.1:{self.mqtt_ports[n]} }}\n"
            f"cluster {{ name: mamori, listen: 127.0.0.1:{self.route_ports[n]}, routes: [{routes}] }}\n")
        return conf

    def start(self, timeout: float = 30) -> NatsCluster:
        for n in range(len(self.mqtt_ports)):
            with open(self.workdir / f"nats-{n}.log", "ab") as log:
                self.procs.append(subprocess.Popen([self.binary, "-c", str(self._config(n))], stdout=log, stderr=log))
        deadline = time.monotonic() + timeout
        for port in self.mqtt_ports:
            wait_port(port, timeout)
            # The MQTT listener is up before the cluster has elected its JetStream leader, without
            # which a connection is refused: wait for a real CONNACK on every node.
            while not _accepts(port):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"NATS's MQTT on {port} never accepted a client: see {self.workdir}")
                time.sleep(0.2)
        return self

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            proc.wait(10)
        self.procs = []


def _accepts(port: int) -> bool:
    accepted: list[bool] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"mamori-probe-{port}", clean_session=True,
                         protocol=mqtt.MQTTv311)
    client.on_connect = lambda _c, _u, _f, reason, _p: accepted.append(not reason.is_failure)
    try:
        client.connect("127.0.0.1", port, keepalive=5)
        deadline = time.monotonic() + 3
        while not accepted and time.monotonic() < deadline:
            client.loop(0.1)
        client.disconnect()
    except OSError:
        return False
    return accepted == [True]
