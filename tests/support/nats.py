"""A real NATS cluster with JetStream and its MQTT listener, on free ports from a temp config: the
clustered broker mamori supports beside Mosquitto (docs/scale-out.md)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from tests.support.broker import free_port


def nats_binary() -> str | None:
    found = shutil.which("nats-server") or "/usr/sbin/nats-server"
    return found if Path(found).exists() else None


class NatsCluster:
    """`nodes` nats-server processes routed to one another, each with JetStream and MQTT: broker
    machines in miniature. A reader or server may connect to any node and hear the others."""

    def __init__(self, workdir: Path, nodes: int = 3, *, provisioned: Path | None = None):
        """`provisioned`: a folder written by `mamori ca init` (MAMORI_BROKER_DIR): MQTT over TLS only, each
        client's certificate mapped to its user in the folder's nats-users.conf, as the shipped sample does."""
        binary = nats_binary()
        if binary is None:
            raise RuntimeError("nats-server is not installed: apt-get install nats-server")
        self.binary = binary
        self.workdir = workdir
        self.mqtt_ports = [free_port() for _ in range(nodes)]
        self.route_ports = [free_port() for _ in range(nodes)]
        self.client_ports = [free_port() for _ in range(nodes)]
        self.provisioned = provisioned
        self.procs: list[subprocess.Popen] = []
        workdir.mkdir(parents=True, exist_ok=True)

    @property
    def urls(self) -> list[str]:
        scheme = "mqtts" if self.provisioned else "mqtt"
        return [f"{scheme}://127.0.0.1:{port}" for port in self.mqtt_ports]

    @property
    def url(self) -> str:
        return self.urls[0]

    def _config(self, n: int) -> Path:
        routes = ", ".join(f"nats://127.0.0.1:{port}" for port in self.route_ports)
        conf = self.workdir / f"nats-{n}.conf"
        tls, users = "", ""
        if self.provisioned:
            folder = self.provisioned
            tls = (f', tls {{ cert_file: "{folder}/broker.crt", key_file: "{folder}/broker.key", '
                   f'ca_file: "{folder}/ca.crt", verify_and_map: true }}')
            # nats-server reads an include relative to the config's own folder, even an absolute path.
            users = f'include "{os.path.relpath(folder / "nats-users.conf", self.workdir)}"\n'
        conf.write_text(
            f'server_name: "mamori-{n}"\n'
            f"listen: 127.0.0.1:{self.client_ports[n]}\n"
            f'jetstream {{ store_dir: "{self.workdir}/js-{n}" }}\n'
            f"mqtt {{ listen: 127.0.0.1:{self.mqtt_ports[n]}{tls} }}\n"
            + (f"cluster {{ name: mamori, listen: 127.0.0.1:{self.route_ports[n]}, routes: [{routes}] }}\n"
               if len(self.mqtt_ports) > 1 else "")
            + users)
        return conf

    def start(self, timeout: float = 30) -> NatsCluster:
        for n in range(len(self.mqtt_ports)):
            with open(self.workdir / f"nats-{n}.log", "ab") as log:
                self.procs.append(subprocess.Popen([self.binary, "-c", str(self._config(n))], stdout=log, stderr=log))
        deadline = time.monotonic() + timeout
        for n, port in enumerate(self.mqtt_ports):
            if self.procs[n].poll() is not None or not _listening(port, deadline, self.procs[n]):
                log = (self.workdir / f"nats-{n}.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"nats-server node {n} did not start:\n{log}")
            if self.provisioned:  # no anonymous probe gets in: the first clients wait for JetStream themselves
                continue
            # The MQTT listener is up before the cluster has elected its JetStream leader, without
            # which a connection is refused: wait for a real CONNACK on every node.
            while not _accepts(port):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"NATS's MQTT on {port} never accepted a client: see {self.workdir}")
                time.sleep(0.2)
        return self

    def restart(self) -> None:
        """`systemctl restart nats-server` on every node, as after provisioning (docs/scale-out.md): the
        JetStream folder keeps the MQTT sessions and retained messages."""
        self.stop()
        self.start()

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


def _listening(port: int, deadline: float, proc: subprocess.Popen) -> bool:
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False
