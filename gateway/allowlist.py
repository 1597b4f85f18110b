"""The cabinet's own memory of who may open it when the server does not answer."""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta

from gateway import protocol
from gateway.outbox import Outbox, OutboxError

log = logging.getLogger("mamori.gateway.allowlist")

CLOCK_SLACK = timedelta(minutes=5)


class OfflineAllowlist:
    """The last allowlist the server published, kept on disk so it outlives a reboot."""

    def __init__(self, outbox: Outbox, key: bytes | None = None):
        """`key`: the cabinet's allowlist key from the config (`allowlist_key`); without it nothing opens offline."""
        self._outbox = outbox
        self._key = key
        self._key_id = protocol.allowlist_key_id(key) if key else None
        self._lock = threading.Lock()
        self._current: protocol.Allowlist | None = None
        kept = outbox.kept("allowlist")
        if kept is not None:
            try:
                self._current = protocol.decode(kept, protocol.Allowlist)
            except protocol.ProtocolError:
                log.warning("the kept allowlist is unreadable; waiting for the server's next one")

    @property
    def keyed(self) -> bool:
        return self._key is not None

    def update(self, allowlist: protocol.Allowlist) -> None:
        with self._lock:
            current = self._current
            if current and current.issued and allowlist.issued and allowlist.issued < current.issued:
                log.warning("ignored an allowlist issued %s: the one kept was issued later (%s)",
                            allowlist.issued.isoformat(), current.issued.isoformat())
                return
            self._current = allowlist
        try:
            self._outbox.keep("allowlist", protocol.encode(allowlist))
        except OutboxError as exc:
            log.error("%s: the new allowlist is used but would not outlive a restart", exc)
        log.info("allowlist: %d cards until %s", len(allowlist.hashes), allowlist.until.isoformat())

    def allows(self, uid: str, now: datetime) -> bool:
        """True only for a card on an allowlist that has not expired, within the card's hours if the list
        gives any (fail-secure otherwise)."""
        with self._lock:
            current = self._current
        if current is None:
            log.warning("no allowlist yet: the cabinet stays locked while the server does not answer")
            return False
        if now >= current.until:
            log.warning("the allowlist expired at %s: the cabinet stays locked", current.until.isoformat())
            return False
        if current.issued and now < current.issued - CLOCK_SLACK:
            # The clock is behind the list's own making: after a power cut without network, a Pi
            # without a real-time clock restarts from its last saved time, and expiry means nothing.
            log.warning("the reader's clock (%s) is behind the allowlist's issue time (%s): the cabinet stays "
                        "locked until the clock is right", now.isoformat(), current.issued.isoformat())
            return False
        if self._key is None:
            log.warning("no allowlist_key in this reader's config: the cabinet stays locked while the server does "
                        "not answer (get the key with `mamori readers key <reader>` on the server)")
            return False
        if current.key_id != self._key_id:
            log.warning("the allowlist is keyed with %s, this reader's allowlist_key is %s: the cabinet stays "
                        "locked (put the cabinet's current key in the config)", current.key_id or "no key",
                        self._key_id)
            return False
        digest = protocol.allowlist_hash(current.salt, uid, self._key)
        if digest not in current.hashes:
            return False
        # The cabinet's grants with hours: by the reader's own clock, in the office's time zone.
        if not current.hours_admit(current.hashes.index(digest), now):
            log.warning("the card is on the allowlist, but outside its hours: the cabinet stays locked")
            return False
        return True
