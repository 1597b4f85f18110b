"""The batch's card checks: each tap's proof verified (server/card_keys/), judged (server/domain/card_auth.py)
against the counters and challenges already accepted, and kept in `card_checks` in the batch's transaction.

Judged once, when the scan first arrives: a stored scan applied again by a rewind keeps the judgment it had
(its counter is in the table by then, and would look replayed).
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections import defaultdict
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, select

from gateway import protocol
from server.bulk import among
from server.card_keys import felica, sun
from server.card_keys.keyfile import OfficeKeys
from server.card_keys.models import CardCheck
from server.domain.card_auth import NOTHING, Proof, considered, counter_fits, failure, judge, must_prove
from server.ingest.directory import ReaderInfo

log = logging.getLogger("mamori.ingest")



_COUNTERS_SINCE = (select(CardCheck.uid, CardCheck.at, CardCheck.counter)
                   .where(among(CardCheck.uid, "uids"), CardCheck.counter.is_not(None),
                          CardCheck.at >= bindparam("since")))
_COUNTER_BEFORE = (select(CardCheck.uid, func.max(CardCheck.counter))
                   .where(among(CardCheck.uid, "uids"), CardCheck.counter.is_not(None),
                          CardCheck.at < bindparam("since")).group_by(CardCheck.uid))
_CHALLENGES = select(CardCheck.uid, CardCheck.challenge).where(
    among(CardCheck.uid, "uids"), among(CardCheck.challenge, "challenges"))
_STORED = select(CardCheck.scan_id, CardCheck.ok).where(among(CardCheck.scan_id, "ids"))


def prove(keys: OfficeKeys | None, scan: protocol.Scan) -> Proof:
    """Check the cryptography of what the scan's tag said (no state: counters are judged after)."""
    auth = scan.auth
    if auth is None or keys is None:
        return NOTHING
    uid = bytes.fromhex(scan.uid)
    if isinstance(auth, protocol.NtagSun):
        if scan.tech != "iso14443a" or len(uid) != 7:
            return Proof(auth.kind, ok=False, why="not_ntag424")
        try:
            picc = sun.verify(keys.ntag424_meta_key, keys.ntag424_file_key, bytes.fromhex(auth.e),
                              bytes.fromhex(auth.c), uid)
        except sun.SunError as err:
            return Proof(auth.kind, ok=False, why=err.why)
        return Proof(auth.kind, ok=True, counter=picc.counter)
    id_block = bytes.fromhex(auth.id)
    if scan.tech != "felica" or id_block[:8] != uid:
        return Proof(auth.kind, ok=False, why="uid_mismatch")
    if not felica.verify(keys.felica_card_key(uid), bytes.fromhex(auth.rc), id_block, bytes.fromhex(auth.mac)):
        return Proof(auth.kind, ok=False, why="bad_mac")
    return Proof(auth.kind, ok=True, challenge=auth.rc.upper())


class CardChecks:
    """The judgments of one batch, in event-time order, written with the batch."""

    def __init__(self, keys: OfficeKeys | None):
        self.keys = keys
        self._cards: dict[str, tuple[str | None, int, bool]] = {}  # uid -> (auth kind, person, person requires)
        self._counters: dict[str, list[tuple[datetime, int]]] = defaultdict(list)  # accepted, sorted by time
        self._before: dict[str, int] = {}  # uid -> highest counter accepted before the batch's stretch
        self._challenges: set[tuple[str, str]] = set()
        self._stored: dict[str, bool] = {}  # a replayed scan's judgment: ok or not
        self._rows: list[dict] = []

    @classmethod
    def load(cls, conn: Connection, keys: OfficeKeys | None, scans: list[protocol.Scan], replayed: list[str],
             cards: dict[str, tuple[str | None, int, bool]]) -> CardChecks:
        """`cards`: uid -> (auth kind, person, whether the person must prove) of at least the scans' staff cards."""
        checks = cls(keys)
        checks._cards = cards
        sun_uids = list({s.uid for s in scans if isinstance(s.auth, protocol.NtagSun)})
        if sun_uids:
            since = min(s.at for s in scans)
            for uid, at, counter in conn.execute(_COUNTERS_SINCE, {"uids": sun_uids, "since": since}):
                checks._counters[uid].append((at, counter))
            for rows in checks._counters.values():
                rows.sort()
            checks._before = dict(conn.execute(_COUNTER_BEFORE, {"uids": sun_uids, "since": since}).all())
        felica_reads = [s for s in scans if isinstance(s.auth, protocol.FelicaMac)]
        if felica_reads:
            checks._challenges = {tuple(r) for r in conn.execute(_CHALLENGES, {
                "uids": list({s.uid for s in felica_reads}),
                "challenges": list({s.auth.rc.upper() for s in felica_reads})})}
        if replayed:
            checks._stored = dict(conn.execute(_STORED, {"ids": replayed}).all())
        return checks

    def person_of(self, uid: str) -> int | None:
        card = self._cards.get(uid)
        return card[1] if card else None

    def refusal(self, reader: ReaderInfo, scan: protocol.Scan, *, replayed: bool) -> str | None:
        """`clone_suspected` when the scan's card must be taken for a copy, else None (then the usual rules)."""
        if replayed:
            return "clone_suspected" if self._stored.get(scan.id) is False else None
        kind, _person, person_requires = self._cards.get(scan.uid, (None, None, False))
        required = must_prove(card_kind=kind, reader_requires=reader.card_auth_required,
                              person_requires=person_requires)
        if not considered(card_kind=kind, required=required):
            return None
        proof = prove(self.keys, scan)
        used = proof.challenge is not None and (scan.uid, proof.challenge) in self._challenges
        fits = proof.counter is None or self._fits(scan.uid, scan.at, proof.counter)
        reason = judge(proof, card_kind=kind, required=required, used=used, fits=fits)
        why = failure(proof, card_kind=kind, used=used, fits=fits)
        accepted = proof.ok and why is None
        if accepted and proof.counter is not None:
            rows = self._counters[scan.uid]
            rows.insert(bisect_left(rows, (scan.at, proof.counter)), (scan.at, proof.counter))
        if accepted and proof.challenge is not None:
            self._challenges.add((scan.uid, proof.challenge))
        if proof.kind is not None or reason is not None:  # a tap that proved nothing where none was asked: no row
            self._rows.append({"scan_id": scan.id, "uid": scan.uid, "kind": proof.kind, "ok": reason is None,
                               "why": why if reason is not None else None,
                               "counter": proof.counter if accepted else None,
                               "challenge": proof.challenge if accepted else None, "at": scan.at})
        if reason is not None:
            log.warning("scan %s: card %s taken for a copy (%s)", scan.id, _masked(scan.uid), why)
        return reason

    def _fits(self, uid: str, at: datetime, counter: int) -> bool:
        rows = self._counters.get(uid, [])
        at_or_before = [c for t, c in rows if t <= at]
        after = [c for t, c in rows if t > at]
        before = max([*at_or_before, *([self._before[uid]] if uid in self._before else [])], default=None)
        if counter in (c for _t, c in rows):
            return False
        return counter_fits(counter, before, min(after, default=None))

    def write(self, conn: Connection) -> None:
        if self._rows:
            conn.execute(CardCheck.__table__.insert(), self._rows)


def _masked(uid: str) -> str:
    return uid[:4] + "…" if len(uid) > 4 else uid
