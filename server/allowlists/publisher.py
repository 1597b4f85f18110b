"""Each cabinet's retained allowlist: the cards that may open it while the server does not answer.

Checked every few seconds against the database, so a change from any path (the API, the
command line, a page, midnight ending someone's training) reaches the cabinets without each
path having to remember to say so. Republished when the set changes, daily, and after every
reconnect to the broker (a broker restarted without persistence forgets retained messages); a
page that revokes a card or changes a grant wakes it after its commit (`nudge.py`), so that
change does not wait for the next round. Each cabinet gets the cards its grants let in, with
their hours (server/grants/allowlist.py).
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from gateway import protocol
from server.alerts.models import Alert
from server.clock import Clock
from server.domain.cabinet import training_current
from server.grants.allowlist import CabinetCards, cabinet_cards, wire_hours
from server.ingest.mqtt import BrokerLink
from server.people.models import Card, Person
from server.readers.models import Reader

log = logging.getLogger("mamori.allowlist")

REPUBLISH_EVERY = timedelta(hours=24)


def _most_hashes() -> int:
    """How many hashes fit in one allowlist within the contract's 2 KiB (a hash costs 64 + 3 bytes)."""
    moment = datetime(2026, 1, 1, tzinfo=timezone.utc)
    empty = protocol.Allowlist(v=1, salt="0" * 32, hashes=[], until=moment, issued=moment, key_id="0" * 16)
    return (protocol.MAX_PAYLOAD_BYTES - len(protocol.encode(empty)) + 1) // 67


MAX_HASHES = _most_hashes()


def allowed_uids(db: Session, *, today: date, until: date, training_valid_days: int) -> list[str]:
    """Cards of active key holders whose training stays current until the allowlist expires (not of people
    whose every tap must prove its card genuine: a reader alone cannot check a proof)."""
    rows = db.execute(
        select(Card.uid, Person.training_on)
        .join(Person, Person.id == Card.person_id)
        .where(Card.active, Person.active, Person.key_holder, Person.card_auth_required.is_(False))
        .order_by(Person.training_on.desc(), Card.uid)
    ).all()
    return [uid for uid, trained in rows
            if training_current(trained, today, training_valid_days)
            and training_current(trained, until, training_valid_days)]


def offline_cards(cards: CabinetCards, *, provers: frozenset[str], proof_required: bool) -> CabinetCards:
    """A cabinet that requires cards to prove they are no copy cannot check a proof alone: those cards are left
    off its allowlist and open it only while the server answers (a copy of one would open it offline)."""
    if not proof_required:
        return cards
    return replace(cards, cards=tuple(card for card in cards.cards if card[0] not in provers))


def build_allowlist(uids: list[str], issued: datetime, until: datetime, key: bytes | None,
                    cards: CabinetCards | None = None, zone: str | None = None) -> protocol.Allowlist:
    """Hashes keyed with the cabinet's secret key and a fresh salt each time, so neither the retained
    message nor a stolen reader's copy gives card numbers to whoever lacks the key. A cabinet without a
    key gets an empty list (it stays locked offline): unkeyed hashes of 4-byte uids are brute-forced in
    a minute. `cards` adds the hours of cards whose grants have hours; the cards last in `uids` are
    left off while the list would pass the contract's 2 KiB."""
    salt = secrets.token_hex(16)
    if key is None:
        return protocol.Allowlist(v=1, salt=salt, hashes=[], until=until, issued=issued)
    while True:
        digests = {uid: protocol.allowlist_hash(salt, uid, key) for uid in uids}
        hashes = sorted(digests.values())
        index_of = {uid: hashes.index(digest) for uid, digest in digests.items()}
        hours = wire_hours(index_of, cards) if cards is not None else None
        allowlist = protocol.Allowlist(v=1, salt=salt, hashes=hashes, until=until, issued=issued,
                                       key_id=protocol.allowlist_key_id(key), hours=hours,
                                       zone=zone if hours else None)
        if hours is None or len(protocol.encode(allowlist)) <= protocol.MAX_PAYLOAD_BYTES:
            return allowlist
        log.error("a cabinet's allowlist with its hours is over 2 KiB: the card with the oldest training is left off")
        uids = uids[:-1]


class AllowlistPublisher:
    def __init__(self, factory: sessionmaker[Session], link: BrokerLink, clock: Clock, *, zone: ZoneInfo,
                 training_valid_days: int, valid_for: timedelta, check_every_s: float):
        self.factory, self.link, self.clock, self.zone = factory, link, clock, zone
        self.training_valid_days = training_valid_days
        self.valid_for = valid_for
        self.check_every_s = check_every_s
        # reader -> (cards and their hours, key, at, connection)
        self._published: dict[str, tuple[CabinetCards, str | None, datetime, int]] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="allowlists", daemon=True)
        self.gate: Callable[[], bool] = lambda: True  # the leader publishes (server/cluster.py)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(5)

    def wake(self) -> None:
        """Check now, not at the next round: a card was revoked or a grant changed (committed already)."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()  # before the round: a wake-up during it makes another round at once
            try:
                if self.gate():
                    self.publish_due()
            except Exception:  # the database may be away; the next round tries again
                log.exception("could not check the cabinet allowlists")
            self._wake.wait(self.check_every_s)

    def publish_due(self) -> int:
        """Publish every cabinet's allowlist that changed, is a day old, or predates a reconnect."""
        if not self.link.connected:
            return 0
        now = self.clock()
        until = now + self.valid_for
        with self.factory() as db:
            cabinets = db.execute(select(Reader.id, Reader.site, Reader.allowlist_key, Reader.card_auth_required)
                                  .where(Reader.role == "cabinet")).all()
            provers = frozenset(db.scalars(select(Card.uid).where(Card.auth_kind.is_not(None))))
            uids = allowed_uids(db, today=now.astimezone(self.zone).date(), until=until.astimezone(self.zone).date(),
                                training_valid_days=self.training_valid_days)
            granted = cabinet_cards(db, [c.id for c in cabinets], uids, now=now, until=until, zone=self.zone)
        published = 0
        for reader_id, site, key, proof_required in cabinets:
            wanted = offline_cards(granted[reader_id], provers=provers, proof_required=proof_required)
            cabinet_uids = [uid for uid, _hours in wanted.cards]
            if len(cabinet_uids) > MAX_HASHES:
                self._too_many(len(cabinet_uids), now)
                cabinet_uids = cabinet_uids[:MAX_HASHES]
            last = self._published.get(reader_id)
            if (last and last[:2] == (wanted, key) and last[3] == self.link.connection
                    and now - last[2] < REPUBLISH_EVERY):
                continue
            allowlist = build_allowlist(cabinet_uids, now.astimezone(self.zone), until.astimezone(self.zone),
                                        bytes.fromhex(key) if key else None, wanted, self.zone.key)
            self.link.publish(protocol.topic(site, reader_id, "allowlist"), protocol.encode(allowlist), retain=True)
            self._published[reader_id] = (wanted, key, now, self.link.connection)
            if key is None:
                log.warning("cabinet %s has no allowlist key: it gets an empty allowlist and stays locked while the "
                            "server does not answer; run `mamori readers key %s`", reader_id, reader_id)
            else:
                log.info("allowlist for %s: %d cards until %s", reader_id, len(allowlist.hashes),
                         allowlist.until.isoformat())
            published += 1
        return published

    def _too_many(self, count: int, now: datetime) -> None:
        """Say so where the manager looks (one open alert), not only in the log."""
        subject = (f"{count} key holders, but a cabinet's offline allowlist holds at most {MAX_HASHES}: the "
                   f"{count - MAX_HASHES} with the oldest training cannot open a cabinet while the server is away")
        log.error(subject)
        with self.factory.begin() as db:
            if db.scalar(select(Alert.id).where(Alert.type == "allowlist_full", Alert.state == "open")) is None:
                db.add(Alert(type="allowlist_full", severity="medium", opened_at=now, subject=subject))
