"""`mamori readers key <cabinet>`: a new allowlist key, printed once, kept on the server, never published."""

from __future__ import annotations

import pytest

from server.db import make_engine, make_session_factory, unit_of_work
from server.readers.models import Reader
from tests.integration.test_cli import mamori

pytestmark = pytest.mark.integration



def stored_key(database_url: str, reader_id: str) -> str | None:
    engine = make_engine(database_url)
    try:
        with unit_of_work(make_session_factory(engine)) as db:
            return db.get(Reader, reader_id).allowlist_key
    finally:
        engine.dispose()


def test_a_cabinet_key_is_printed_once_stored_and_replaced_by_the_next(database_url):
    for reader_id, role in (("cabinet-1", "cabinet"), ("entrance", "entrance")):
        added = mamori(database_url, "readers", "add", reader_id, "--site", "nerima", "--role", role)
        assert added.returncode == 0, added.stderr
    first = mamori(database_url, "readers", "key", "cabinet-1")
    assert first.returncode == 0, first.stderr
    key = first.stdout.strip()
    assert len(bytes.fromhex(key)) == 32 and stored_key(database_url, "cabinet-1") == key
    assert "shown once" in first.stderr
    second = mamori(database_url, "readers", "key", "cabinet-1")
    assert second.stdout.strip() not in (key, "") and stored_key(database_url, "cabinet-1") == second.stdout.strip()
    for reader_id in ("entrance", "nobody"):
        refused = mamori(database_url, "readers", "key", reader_id)
        assert refused.returncode == 1 and f"no cabinet reader {reader_id}" in refused.stderr
    assert stored_key(database_url, "entrance") is None


def test_the_key_never_leaves_through_the_readers_api(office):
    office.add_reader("cabinet-1", "cabinet")
    with unit_of_work(office.factory) as db:
        db.get(Reader, "cabinet-1").allowlist_key = "5a" * 32
    [reader] = office.get("/readers")
    assert "allowlist_key" not in reader and "5a" * 32 not in str(reader)
