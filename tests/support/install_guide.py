"""docs/install-server.md followed command by command on one test machine.

Every `sh` block of the guide is read from the file and each command is matched to what this machine can
do without root: the same command with /etc, /var and /root moved under a folder (`Machine.moved`),
`mamori-admin` the shipped script with its two paths moved, systemd's units run from their own
`ExecStart` with their `EnvironmentFile`, Mosquitto started on Debian's main config plus the shipped
drop-in. A command the guide gains that nothing here matches fails the test, so the guide and this
test cannot drift apart silently. What is left out (packages, system users, the venv: the test runs in
one already) is skipped by name, in `SKIPPED`.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.broker import free_port, wait_port
from tests.support.gateway import wait_for

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "install-server.md"
MAMORI = str(Path(sys.executable).with_name("mamori"))
TLS_PORT = 8883


def clean_env() -> dict[str, str]:
    """This process's environment without MAMORI_*: a command sees only the settings the guide gives it."""
    return {key: value for key, value in os.environ.items() if not key.startswith("MAMORI_")}

WEB_PORT = 8000

# Commands with nothing to do here, and why.
SKIPPED = {
    r"apt-get (update|install .*)": "the test machine has its packages (deploy/test.sh installs them)",
    r"adduser .*": "no system users in a test: every process runs as the test's own user",
    r"git clone .*|python3 -m venv .*|/opt/mamori/\.venv/bin/pip install .*": "the test runs in the installed venv",
    r"systemctl daemon-reload": "no systemd: the units are run from their ExecStart",
    r"systemctl enable --now mamori-backup\.timer": "the timer's service is started by hand in the next command",
}


@dataclass
class Step:
    number: int
    title: str
    blocks: list[list[str]]

    @property
    def commands(self) -> list[tuple[str, str]]:
        """(command, its trailing comment) for each line of each block but the settings file's."""
        found = []
        for block in self.blocks:
            if _is_env_file(block):
                continue
            for line in block:
                command, comment = (re.split(r"(?:^|\s+)#\s?", line, maxsplit=1) + [""])[:2]
                if command.strip():
                    found.append((command.strip(), comment.strip()))
        return found

    @property
    def env_file(self) -> list[str]:
        return next((block for block in self.blocks if _is_env_file(block)), [])


def _is_env_file(block: list[str]) -> bool:
    lines = [line for line in block if line.strip() and not line.startswith("#")]
    return bool(lines) and all(re.match(r"MAMORI_[A-Z_]+=", line) for line in lines)


def read_guide(path: Path = GUIDE) -> dict[int, Step]:
    """The guide's numbered steps, each with its `sh` blocks (continuation lines joined)."""
    steps: dict[int, Step] = {}
    current: Step | None = None
    block: list[str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if block is not None:
            if line.startswith("```"):
                current.blocks.append(_joined(block))
                block = None
            else:
                block.append(line)
        elif heading := re.match(r"## (\d+)\. (.*)", line):
            current = steps.setdefault(int(heading[1]), Step(int(heading[1]), heading[2], []))
        elif line.startswith("```sh") and current is not None:
            block = []
    return steps


def _joined(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if out and out[-1].endswith("\\"):
            out[-1] = out[-1][:-1].rstrip() + " " + line.strip()
        else:
            out.append(line)
    return out


@dataclass
class Machine:
    """One machine of the guide: its /etc, /var, /root and /usr/local under `root`."""

    root: Path
    database_url: str | None  # None: SQLite, where the guide puts it
    tls_port: int = field(default_factory=free_port)
    web_port: int = field(default_factory=free_port)
    cwd: Path | None = None
    env_lines: list[str] = field(default_factory=list)
    units: dict[str, dict[str, str]] = field(default_factory=dict)
    broker: subprocess.Popen | None = None
    server: subprocess.Popen | None = None
    backups: list[Path] = field(default_factory=list)
    brought: list[Path] = field(default_factory=list)  # backups of another machine, on a USB stick
    done: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.cwd = self.path("/root")
        self.cwd.mkdir(parents=True, exist_ok=True)

    # ---- paths ----------------------------------------------------------------------------------
    def path(self, absolute: str) -> Path:
        return self.root / absolute.lstrip("/")

    def moved(self, text: str) -> str:
        """`text` with the guide's paths, ports and install folder moved to this machine's."""
        text = text.replace("/opt/mamori/.venv/bin/mamori", MAMORI).replace("/opt/mamori/src", str(ROOT))
        text = re.sub(r"(?<![\w.])/(etc|var|root|usr/local|media)(?=/|\b)", lambda m: f"{self.root}/{m[1]}", text)
        return (text.replace(f"localhost:{TLS_PORT}", f"localhost:{self.tls_port}")
                .replace(f"127.0.0.1:{WEB_PORT}", f"127.0.0.1:{self.web_port}")
                .replace(f"--port {WEB_PORT}", f"--port {self.web_port}"))

    @property
    def env_file(self) -> Path:
        return self.path("/etc/mamori/server.env")

    @property
    def web(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    # ---- following the guide ------------------------------------------------------------------------
    def follow(self, step: Step, *, skip: tuple[str, ...] = ()) -> None:
        if step.env_file:
            self.write_env(step.env_file)
        for command, comment in step.commands:
            if any(re.search(pattern, command) for pattern in skip):
                continue
            self.run(command, comment, step)

    def run(self, line: str, comment: str, step: Step) -> None:
        stdin = None
        if echoed := re.match(r"echo '([^']*)' \| (.*)", line):
            stdin, line = echoed[1] + "\n", echoed[2]
        for command in line.split(" && "):
            command = re.sub(r"^sudo( -u \w+)? ", "", command.strip())
            self.done.append(command)
            self.do(command, comment, stdin, step)

    def do(self, command: str, comment: str, stdin: str | None, step: Step) -> None:
        if any(re.fullmatch(pattern, command) for pattern in SKIPPED):
            return
        handlers = [
            (r"install -d (?:-\w \S+ )*((?:/\S+ ?)+)", self.make_folders),
            (r"install -m 755 \S+/deploy/mamori-admin /usr/local/sbin/mamori-admin", self.install_admin),
            (r"install -m 644 \S+/deploy/mosquitto/mamori\.conf /etc/mosquitto/conf\.d/mamori\.conf",
             self.install_broker_config),
            (r"install -m 644 ((?:\S+\.(?:service|timer) )+)/etc/systemd/system/", self.install_units),
            (r"mamori-admin (.*)", lambda args: self.mamori_admin(args, stdin)),
            (r"systemctl restart mosquitto", self.start_broker),
            (r"systemctl reload mosquitto", self.reload_broker),
            (r"ss -ltnp \| grep mosquitto", self.listens_only_on_tls),
            (r"systemctl enable --now mamori-server", self.start_server),
            (r"journalctl -u mamori-server \| grep '([^']+)'", self.server_said),
            (r"curl -s (http://127\.0\.0\.1:8000\S*)(?: \| grep (\S+))?", lambda url, grep: self.curl(url, grep, comment)),
            (r"cd (/\S+)", self.change_folder),
            (r"tar -C (/etc/mamori) -czf - ca \| gpg .*", self.back_up_ca),
            (r"systemctl start mamori-backup", self.run_backup),
            (r"ls -l (/var/backups/mamori)", self.list_backups),
            (r"install -m 600 (?:-\w \S+ )*\S+\.\* (/var/backups/mamori)/", self.receive_backups),
        ]
        for pattern, handler in handlers:
            if matched := re.fullmatch(pattern, command):
                handler(*matched.groups())
                return
        raise AssertionError(f"docs/install-server.md step {step.number} ({step.title}): `{command}` is new to "
                             "tests/support/install_guide.py; teach it what that command does")

    # ---- what each command does here ---------------------------------------------------------------
    def write_env(self, lines: list[str]) -> None:
        """The settings file as the guide writes it, this machine's database, and the folders the code
        defaults to /etc and /var (which `moved` cannot reach)."""
        self.env_lines = [f"MAMORI_DATABASE_URL={self.database_url}"
                          if line.startswith("MAMORI_DATABASE_URL=") and self.database_url else self.moved(line)
                          for line in lines if not line.startswith("# the four")]
        self.env_lines += [f"MAMORI_PKI_DIR={self.path('/etc/mamori/ca')}",
                           f"MAMORI_BROKER_DIR={self.path('/etc/mosquitto/mamori')}",
                           f"MAMORI_BACKUP_DIR={self.path('/var/backups/mamori')}"]
        self._save_env()

    def _save_env(self) -> None:
        self.env_file.parent.mkdir(parents=True, exist_ok=True)
        self.env_file.write_text("\n".join(self.env_lines) + "\n", encoding="utf-8")

    def make_folders(self, folders: str) -> None:
        for folder in folders.split():
            self.path(folder).mkdir(parents=True, exist_ok=True)

    def install_admin(self) -> None:
        script = self.path("/usr/local/sbin/mamori-admin")
        script.parent.mkdir(parents=True, exist_ok=True)
        script.write_text(self.moved((ROOT / "deploy" / "mamori-admin").read_text()))
        script.chmod(0o755)

    def mamori_admin(self, args: str, stdin: str | None = None) -> str:
        argv = shlex.split(self.moved(args))
        if argv[:2] == ["ca", "init"]:
            argv += ["--server-dir", str(self.path("/etc/mamori/mqtt"))]  # the CLI's default is /etc/mamori/mqtt
        if argv[0] == "restore":
            argv[1] = str(self.restore_file(argv[1]))
            if self.database_url:  # the guide's PostgreSQL is reached by peer login over the socket
                argv[argv.index("--database") + 1] = self.database_url
        done = subprocess.run([str(self.path("/usr/local/sbin/mamori-admin")), *argv], input=stdin, cwd=self.cwd,
                              env=clean_env(), capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, f"mamori-admin {args}: {done.stdout}{done.stderr}"
        assert "Warning" not in done.stderr, f"mamori-admin {args} printed a Python warning: {done.stderr}"
        if argv[:2] == ["ca", "init"]:  # "Put the four MAMORI_MQTT_* lines it prints into server.env"
            printed = [line for line in done.stdout.splitlines() if line.startswith("MAMORI_MQTT_")]
            assert len(printed) == 4, done.stdout
            self.env_lines += [self.moved(line) for line in printed]
            self._save_env()
        return done.stdout

    def restore_file(self, named: str) -> Path:
        """The guide names a backup of its own day: the one this machine was given, of that kind."""
        suffix = Path(named).suffix
        given = [path for path in self.backups if path.suffix == suffix]
        assert given, f"no {suffix} backup was copied to this machine"
        return given[-1]

    def install_broker_config(self) -> None:
        """Debian's own main mosquitto.conf (README: leave it as it is), the shipped drop-in beside it."""
        etc = self.path("/etc/mosquitto")
        (etc / "conf.d").mkdir(parents=True, exist_ok=True)
        for folder in ("/var/lib/mosquitto", "/var/log/mosquitto", "/run/mosquitto"):
            self.path(folder).mkdir(parents=True, exist_ok=True)
        (etc / "mosquitto.conf").write_text(
            f"pid_file {self.path('/run/mosquitto/mosquitto.pid')}\npersistence true\n"
            f"persistence_location {self.path('/var/lib/mosquitto')}/\n"
            f"log_dest file {self.path('/var/log/mosquitto/mosquitto.log')}\n"
            # Started as root, Mosquitto would become the mosquitto user, which cannot enter pytest's folders.
            f"user root\ninclude_dir {etc / 'conf.d'}\n")
        shipped = (ROOT / "deploy" / "mosquitto" / "mamori.conf").read_text()
        shipped, n = re.subn(rf"(?m)^listener {TLS_PORT}$", f"listener {self.tls_port} 127.0.0.1", shipped)
        assert n == 1, "mamori.conf no longer has its TLS listener on 8883"
        (etc / "conf.d" / "mamori.conf").write_text(self.moved(shipped))

    @property
    def broker_log(self) -> str:
        log = self.path("/var/log/mosquitto/mosquitto.log")
        return log.read_text(errors="replace") if log.exists() else ""

    def start_broker(self) -> None:
        self.stop_broker()
        self.broker = subprocess.Popen(["mosquitto", "-c", str(self.path("/etc/mosquitto/mosquitto.conf"))],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.tls_port)

    def reload_broker(self) -> None:
        before = self.broker_log.count("Reloading config")
        self.broker.send_signal(signal.SIGHUP)
        wait_for(lambda: self.broker_log.count("Reloading config") > before, what="the broker's reload")

    def listens_only_on_tls(self) -> None:
        opened = set(re.findall(r"Opening ipv[46] listen socket on port (\d+)", self.broker_log))
        assert opened == {str(self.tls_port)}, f"the broker listens on {opened}, not on its TLS port only"

    def install_units(self, files: str) -> None:
        for unit in files.split():
            text = Path(self.moved(unit)).read_text()
            self.units[Path(unit).name] = dict(re.findall(r"(?m)^(\w+)=(.*)$", text))

    def _unit_command(self, unit: str) -> tuple[list[str], Path]:
        """The unit's ExecStart under its EnvironmentFile, as systemd would run it, and its folder."""
        keys = self.units[unit]
        env_file, work = self.moved(keys["EnvironmentFile"]), Path(self.moved(keys["WorkingDirectory"]))
        work.mkdir(parents=True, exist_ok=True)
        return ["sh", "-c", f'set -a; . "{env_file}"; set +a; exec {self.moved(keys["ExecStart"])}'], work

    def start_server(self) -> None:
        argv, work = self._unit_command("mamori-server.service")
        self.server_log = self.root / "mamori-server.log"
        with open(self.server_log, "ab") as log:
            self.server = subprocess.Popen(argv, cwd=work, env=clean_env(), stdout=log, stderr=log,
                                           start_new_session=True)
        wait_port(self.web_port, timeout=30)

    def server_said(self, text: str) -> None:
        wait_for(lambda: text in self.server_log.read_text(errors="replace"), timeout=15,
                 what=f"'{text}' in the server's log")

    def curl(self, url: str, grep: str | None, expected: str) -> str:
        answer = httpx.get(self.moved(url), timeout=10)
        if grep:
            assert any(grep in line for line in answer.text.splitlines()), f"{url} has no {grep}"
        elif expected.startswith("{"):
            assert answer.text == expected, f"{url} answered {answer.text}, the guide says {expected}"
        return answer.text

    def change_folder(self, folder: str) -> None:
        self.cwd = self.path(folder)
        self.cwd.mkdir(parents=True, exist_ok=True)

    def back_up_ca(self, etc: str) -> None:
        """The tar half of the CA's backup (gpg asks a passphrase): the key and the log are in it."""
        listed = subprocess.run(f"tar -C {self.moved(etc)} -czf - ca | tar -tzf -", shell=True, check=True,
                                capture_output=True, text=True).stdout.split()
        assert {"ca/ca.key", "ca/issued.jsonl"} <= set(listed), listed

    def run_backup(self) -> None:
        argv, work = self._unit_command("mamori-backup.service")
        done = subprocess.run(argv, cwd=work, env=clean_env(), capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stdout + done.stderr

    def list_backups(self, folder: str) -> None:
        made = sorted(p for p in Path(self.moved(folder)).iterdir() if p.suffix in (".sqlite3", ".pgdump"))
        assert made and all(p.with_name(p.name + ".sha256").exists() for p in made), made
        self.backups = made

    def receive_backups(self, folder: str) -> None:
        """The backups brought from the old machine (`brought`), each with its .sha256, put into `folder`."""
        into = Path(self.moved(folder))
        into.mkdir(parents=True, exist_ok=True)
        for backup in self.brought:
            for file in (backup, backup.with_name(backup.name + ".sha256")):
                shutil.copy2(file, into / file.name)
        self.backups = [into / backup.name for backup in self.brought]

    def stop(self) -> None:
        if self.server and self.server.poll() is None:
            os.killpg(self.server.pid, signal.SIGTERM)
            self.server.wait(15)
        self.stop_broker()

    def stop_broker(self) -> None:
        if self.broker and self.broker.poll() is None:
            self.broker.terminate()
            self.broker.wait(10)
        self.broker = None
