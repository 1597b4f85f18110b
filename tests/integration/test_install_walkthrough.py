"""docs/install-server.md followed from a fresh machine, every command of its `sh` blocks in order
(tests/support/install_guide.py): the office CA, the shipped broker on Debian's main config, the
server from its unit, two provisioned readers running `mamori gateway` over TLS with an RDM6300
stand-in each, a tap from each in the ledger, a backup restored on a second machine into an empty
database, its chain verified, and /metrics scraped as docs/monitoring.md says."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select

from server.db import make_engine
from server.ledger.models import ScanRecord
from tests.support.databases import throwaway_database
from tests.support.gateway import STAFF, wait_for
from tests.support.install_guide import MAMORI, Machine, clean_env, read_guide
from tests.support.rdm6300 import FobField

pytestmark = pytest.mark.integration

READERS = ("entrance", "cabinet-1")


class Pi:
    """install-gateway.md step 6 and 8 for one provisioned folder: its files in the Pi's /etc/mamori, the
    YAML's wiring set to this machine's (an RDM6300 on a pty, mock pins), `--check`, then the service."""

    def __init__(self, folder: Path, root: Path, server: Machine):
        self.reader = folder.name.removeprefix("reader-")
        self.fobs = FobField()
        etc = root / "etc" / "mamori"
        etc.mkdir(parents=True, exist_ok=True)
        for file in folder.iterdir():
            shutil.copy2(file, etc / file.name)
        text = (etc / f"{self.reader}.yaml").read_text(encoding="utf-8").replace("/etc/mamori/", f"{etc}/")
        config = yaml.safe_load(text.replace("/var/lib/mamori-gateway/", f"{root}/var/lib/mamori-gateway/"))
        assert config["broker"]["url"] == "mqtts://mamori.local:8883"  # ca init's first --host
        # mamori.local does not resolve here: the broker's certificate also names 127.0.0.1
        config["broker"]["url"] = f"mqtts://127.0.0.1:{server.tls_port}"
        config.update(card_reader={"type": "rdm6300", "port": self.fobs.port}, pin_factory="mock")
        (root / "var" / "lib" / "mamori-gateway").mkdir(parents=True, exist_ok=True)
        self.config = etc / f"{self.reader}.yaml"
        self.config.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
        check = subprocess.run([MAMORI, "gateway", "--config", str(self.config), "--check"], env=clean_env(),
                               capture_output=True, text=True, timeout=30)
        assert check.returncode == 0 and ": OK (" in check.stdout, check.stdout + check.stderr
        self.log = root / f"gateway-{self.reader}.log"
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen([MAMORI, "gateway", "--config", str(self.config)], env=clean_env(),
                                            stdout=log, stderr=log)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.fobs.close()


def _api(office: Machine, token: str):
    return httpx.Client(base_url=f"{office.web}/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=10)


def _metric(office: Machine, name: str) -> float:
    lines = httpx.get(f"{office.web}/metrics", timeout=10).text.splitlines()
    return next(float(line.split()[-1]) for line in lines if line.startswith(f"{name} "))


@pytest.fixture
def machines(database_kind, tmp_path):
    with throwaway_database(database_kind, tmp_path / "a", migrated=False) as first, \
            throwaway_database(database_kind, tmp_path / "b", migrated=False) as second:
        sqlite = database_kind == "sqlite"
        office = Machine(tmp_path / "server", None if sqlite else first)
        elsewhere = Machine(tmp_path / "elsewhere", None if sqlite else second)
        try:
            yield office, elsewhere
        finally:
            office.stop()
            elsewhere.stop()


def test_the_install_guide_followed_step_by_step_serves_two_readers_and_restores_elsewhere(
        machines, database_kind, tmp_path):
    office, elsewhere = machines
    guide = read_guide()
    assert sorted(guide) == list(range(1, 10)), "the guide's steps changed: follow the new ones here"
    for number in range(1, 8):
        office.follow(guide[number])

    # "Carry each folder to its Pi and follow install-gateway.md from step 6"
    pis = [Pi(office.cwd / f"reader-{reader}", tmp_path / reader, office) for reader in READERS]
    try:
        wait_for(lambda: _metric(office, "mamori_readers_online") == 2, timeout=20, what="both readers online")
        token = office.mamori_admin("tokens create --user kanri").split()[-1]  # README, "Running the server"
        with _api(office, token) as api:
            api.post("/people", json={"name": "調査 花子", "card_uid": STAFF, "key_holder": True,
                                      "training_on": "2026-12-01", "roles": ["surveyor"]}).raise_for_status()
            wait_for(lambda: "allowlist: 1 cards" in pis[1].log.read_text(), what="the cabinet's allowlist")
            for pi in pis:
                pi.fobs.tap(STAFF)
            results = {reader: wait_for(lambda r=reader: api.get("/scans", params={"reader": r}).json(),
                                        what=f"{reader}'s tap in the ledger") for reader in READERS}
    finally:
        for pi in pis:
            pi.stop()
    assert {reader: [(s["uid"], s["result"]) for s in scans] for reader, scans in results.items()} == {
        "entrance": [(STAFF, "accept")], "cabinet-1": [(STAFF, "unlock")]}
    assert _metric(office, 'mamori_scans_total{result="unlock"}') == 1
    assert _metric(office, 'mamori_scans_total{result="accept"}') == 1

    office.follow(guide[8])
    kind = ".sqlite3" if database_kind == "sqlite" else ".pgdump"
    assert [backup.suffix for backup in office.backups] == [kind]

    # "On the new machine do steps 1–4 (not db upgrade) ... Bring the backup and its .sha256"
    for number in range(1, 5):
        elsewhere.follow(guide[number], skip=(r"db upgrade",))
    elsewhere.brought = office.backups
    elsewhere.follow(guide[9], skip=(r"\.pgdump" if kind == ".sqlite3" else r"\.sqlite3",))
    verified = elsewhere.mamori_admin("ledger verify")  # "mamori ledger verify lists them all"
    assert "chain verified" in verified, verified
    restored = make_engine(elsewhere.database_url or elsewhere.moved("sqlite:////var/lib/mamori/mamori.db"))
    try:
        with restored.connect() as db:
            scans = db.execute(select(ScanRecord.reader_id, ScanRecord.uid, ScanRecord.result)).all()
    finally:
        restored.dispose()
    assert sorted(scans) == [("cabinet-1", STAFF, "unlock"), ("entrance", STAFF, "accept")]
