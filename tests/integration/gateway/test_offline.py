"""A cabinet whose server does not answer: it opens only for a card on its unexpired allowlist."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

import pytest

from gateway import protocol
from gateway.app import Gateway
from tests.integration.gateway.conftest import wait_for_serial
from tests.support.gateway import (
    CABINET_KEY,
    OTHER_STAFF,
    RED_PIN,
    STAFF,
    TopicWatcher,
    config_for,
    lock_open,
    lock_openings,
    rdm6300,
    restart_ingest,
    rises,
    server_publish,
    wait_for,
)
from tests.support.training import withdraw_attendance

pytestmark = pytest.mark.integration


def stop_server(office) -> None:
    office.ingest.stop()


def has_allowlist(gateway: Gateway) -> bool:
    """A keyed list (the cabinet's key is set just after it is registered: the first list may have none)."""
    current = gateway.allowlist._current
    return current is not None and current.key_id is not None


def admits(gateway: Gateway, uid: str) -> bool:
    """The list that has the card: the first one, published as the cabinet is registered, predates the people."""
    return has_allowlist(gateway) and gateway.allowlist.allows(uid, datetime.now().astimezone())


def test_server_away_a_key_holder_opens_on_the_allowlist_and_the_ledger_learns_it_later(
        office, make_gateway, fobs, pins):
    gateway = make_gateway()
    wait_for(lambda: admits(gateway, STAFF), what="the server's allowlist with the key holder")
    stop_server(office)

    fobs.tap(STAFF)
    tapped = time.monotonic()
    wait_for(lambda: lock_open(gateway), timeout=10, what="the offline unlock")
    assert time.monotonic() - tapped >= 1.4  # it waited for the server first
    scan = protocol.decode(gateway.outbox.all()[0].payload, protocol.Scan)

    restart_ingest(office)
    events = wait_for(lambda: office.get("/reader-events", type="offline_unlock"), what="the offline_unlock event")
    assert events[0]["scan_id"] == scan.id
    scans = wait_for(lambda: office.get("/scans", reader="cabinet-1"), what="the scan")
    assert [(s["id"], s["result"], s["action"]) for s in scans] == [(scan.id, "unlock", "session_open")]
    wait_for(lambda: len(gateway.outbox) == 0, what="the outbox to drain")


def test_server_away_a_card_not_on_the_allowlist_stays_locked(office, make_gateway, fobs, pins):
    gateway = make_gateway()
    wait_for(lambda: has_allowlist(gateway), what="the server's allowlist")
    stop_server(office)

    fobs.tap(OTHER_STAFF)
    wait_for(lambda: rises(pins.pin(RED_PIN)) == 3, timeout=4, what="the deny signal")
    assert lock_openings(gateway) == 0
    assert [p.channel for p in gateway.outbox.all()] == ["scan"]  # recorded, no offline_unlock


def test_a_cabinet_without_its_allowlist_key_stays_locked_offline_and_logs_why(office, make_gateway, fobs, pins,
                                                                                caplog):
    gateway = make_gateway(allowlist_key=None)
    assert "no allowlist_key in the config" in caplog.text
    wait_for(lambda: has_allowlist(gateway), what="the server's allowlist")
    stop_server(office)

    fobs.tap(STAFF)
    wait_for(lambda: rises(pins.pin(RED_PIN)) == 3, timeout=4, what="the deny signal")
    assert lock_openings(gateway) == 0
    assert "no allowlist_key in this reader's config" in caplog.text


def key_file(tmp_path):
    path = tmp_path / "allowlist.key"
    path.write_text(CABINET_KEY + "\n", encoding="ascii")
    path.chmod(0o600)
    return path


def test_an_expired_allowlist_opens_nothing(broker, make_gateway, fobs, pins):
    salt, key = "ab" * 16, bytes.fromhex(CABINET_KEY)
    expired = protocol.Allowlist(v=1, salt=salt, hashes=[protocol.allowlist_hash(salt, STAFF, key)],
                                 until=datetime.now().astimezone() - timedelta(minutes=1),
                                 key_id=protocol.allowlist_key_id(key))
    server_publish(broker, "cabinet-1", "allowlist", protocol.encode(expired), retain=True)
    gateway = make_gateway()
    wait_for(lambda: has_allowlist(gateway), what="the retained allowlist")

    fobs.tap(STAFF)
    wait_for(lambda: rises(pins.pin(RED_PIN)) == 3, timeout=4, what="the deny signal")
    assert lock_openings(gateway) == 0


def test_a_cabinet_restarted_while_the_network_is_down_keeps_its_allowlist(
        office, broker, make_gateway, fobs, pins, tmp_path):
    gateway = make_gateway()
    wait_for(lambda: admits(gateway, STAFF), what="the server's allowlist with the key holder")
    gateway.stop()
    broker.stop()

    config = config_for("cabinet.yaml", tmp_path, broker_url=broker.url, card_reader=rdm6300(fobs.port),
                        allowlist_key_file=str(key_file(tmp_path)))
    rebooted = Gateway(config).start()
    try:
        wait_for_serial(rebooted)
        fobs.tap(STAFF)
        wait_for(lambda: lock_open(rebooted), timeout=10, what="the offline unlock after a reboot")
        assert len(rebooted.outbox) == 2  # the scan and its offline_unlock, kept for the server
    finally:
        rebooted.stop()


# ---------------------------------------------------------------- the server's side


def allows(watcher: TopicWatcher, uid: str) -> bool:
    latest = watcher.latest()
    return latest is not None and protocol.allowlist_hash(latest.salt, uid, bytes.fromhex(CABINET_KEY)) in latest.hashes


@pytest.fixture
def watcher(broker):
    watcher = TopicWatcher(broker, "cabinet-1", "allowlist", protocol.Allowlist)
    yield watcher
    watcher.close()


def test_the_allowlist_follows_key_holders_and_their_training(office, watcher):
    wait_for(lambda: allows(watcher, STAFF), what="the key holder on the allowlist")
    latest = watcher.latest()
    assert len(latest.hashes) == 1  # the other person is not a key holder
    assert timedelta(hours=25) < latest.until - datetime.now().astimezone() <= timedelta(hours=26)
    assert abs(latest.issued - datetime.now().astimezone()) < timedelta(seconds=30)
    assert STAFF not in protocol.encode(latest).decode()  # card numbers never travel in clear
    assert CABINET_KEY not in protocol.encode(latest).decode() and latest.key_id  # nor the key that hashes them

    person = office.add_person("保管 三郎", "0A00778899", key_holder=True, training_on=date.today())
    wait_for(lambda: allows(watcher, "0A00778899"), what="the new key holder")

    withdraw_attendance(office.factory, person["id"])  # recorded by mistake: the person is untrained again
    wait_for(lambda: not allows(watcher, "0A00778899"), what="the lapsed training to take the card off")
    assert allows(watcher, STAFF)


def test_training_that_lapses_before_the_allowlist_expires_keeps_the_card_off(office, watcher):
    almost_a_year = date.today() - timedelta(days=365)  # current today, not tomorrow
    office.add_person("期限 四郎", "0A00AABBCC", key_holder=True, training_on=almost_a_year)
    time.sleep(1)  # a few publishing rounds
    assert allows(watcher, STAFF)
    assert not allows(watcher, "0A00AABBCC")


def test_a_broker_restarted_without_its_retained_messages_gets_the_allowlist_again(office, broker, tmp_path):
    broker.stop()
    for f in broker.workdir.glob("*.db"):
        f.unlink()  # the broker forgets everything it held
    broker.start()
    office.wait_connected()
    watcher = TopicWatcher(broker, "cabinet-1", "allowlist", protocol.Allowlist)
    try:
        wait_for(lambda: allows(watcher, STAFF), what="the allowlist republished after the reconnect")
    finally:
        watcher.close()
