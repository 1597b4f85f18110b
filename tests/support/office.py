"""A running mamori (API + MQTT ingest) on a real broker and database, driven like an office would."""

from __future__ import annotations

import gc
import uuid
from datetime import UTC, date, datetime

from fastapi.testclient import TestClient

from gateway.simulator import SimulatedReader
from server.accounts.service import add_user, create_token
from server.config import Settings
from server.db import make_engine, make_session_factory, unit_of_work
from server.main import create_app
from server.migrate import upgrade

SITE = "nerima"
ADMIN_PASSWORD = "Kanri-2026-pass"


# The server freezes what is alive at start (gc.freeze, for short pauses in production); in a test
# process that keeps every finished office, and its broker sockets, until the process has more than
# select() can watch. Unfreezing and collecting walks every object of the process (a few hundred ms),
# so it is done for every few offices, not each one; the next start's gc.collect() then walks only what
# was made since the last freeze.
COLLECT_EVERY = 8
_finished = 0


def release_frozen_offices() -> None:
    global _finished
    _finished += 1
    if _finished % COLLECT_EVERY == 0:
        gc.unfreeze()
        gc.collect()


class Office:
    def __init__(self, database_url: str, mqtt_url: str, clock=None, **overrides):
        """`clock`: the server's clock, for tests of hours and days (the readers stamp taps with it too)."""
        self.database_url = database_url
        self.mqtt_url = mqtt_url
        self.settings = Settings(database_url=database_url, mqtt_url=mqtt_url,
                                 mqtt_client_id=f"mamori-test-{uuid.uuid4().hex[:8]}", **overrides)
        upgrade(database_url)
        engine = make_engine(database_url)
        self.factory = make_session_factory(engine)
        with unit_of_work(self.factory) as db:
            add_user(db, "kanri", "admin", ADMIN_PASSWORD, datetime.now(UTC))
            self.token = create_token(db, "kanri", datetime.now(UTC))
        engine.dispose()
        self.headers = {"Authorization": f"Bearer {self.token}"}
        self.app = create_app(self.settings, **({"clock": clock} if clock is not None else {}))
        self.client = TestClient(self.app)
        self.readers: list[SimulatedReader] = []

    def __enter__(self) -> Office:
        self.client.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        for reader in self.readers:
            reader.stop()
        self.client.__exit__(*exc)
        release_frozen_offices()

    @property
    def ingest(self):
        return self.app.state.ingest

    def wait_connected(self, timeout: float = 10) -> None:
        import time

        deadline = time.monotonic() + timeout
        while not self.ingest.link.connected:
            if time.monotonic() > deadline:
                raise TimeoutError("the server did not connect to the broker")
            time.sleep(0.02)

    # ------------------------------------------------------------ API

    def post(self, path: str, body: dict, expect: int = 201) -> dict:
        response = self.client.post(f"/api/v1{path}", json=body, headers=self.headers)
        assert response.status_code == expect, response.text
        return response.json()

    def get(self, path: str, **params) -> list | dict:
        response = self.client.get(f"/api/v1{path}", params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def add_reader(self, reader_id: str, role: str) -> SimulatedReader:
        self.post("/readers", {"id": reader_id, "site": SITE, "role": role, "name": reader_id})
        sim = SimulatedReader(self.mqtt_url, SITE, reader_id, resend_after=2.0).start()
        self.readers.append(sim)
        return sim

    def add_person(self, name: str, card_uid: str, *, key_holder: bool = False,
                   training_on: date | None = None, active: bool = True) -> dict:
        return self.post("/people", {"name": name, "card_uid": card_uid, "key_holder": key_holder,
                                     "training_on": training_on.isoformat() if training_on else None,
                                     "roles": ["surveyor"], "active": active})

    def add_item(self, label: str, kind: str, tag_uid: str, cabinet: str, *, encrypted: bool = False,
                 case: str | None = None) -> dict:
        return self.post("/items", {"label": label, "kind": kind, "tag_uid": tag_uid, "cabinet": cabinet,
                                    "encrypted": encrypted, "case": case})
