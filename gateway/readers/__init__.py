"""Card readers: each turns a card or tag held to it into one `Tap`, once per presence."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from gateway.config import CardReaderConfig


@dataclass(frozen=True, slots=True)
class Tap:
    """A card or tag that has just arrived on the reader."""

    uid: str  # upper-case hex, as the contract's scan carries it
    tech: str  # the contract's `tech`: felica, iso14443a, iso14443b, em4100
    auth: dict | None = None  # the scan's optional `auth`: what the tag said to prove it is no copy


class Presence:
    """One tap per presence of a card: the RDM6300 repeats its frame while a fob stays, and an NFC
    presence check can miss a card for a moment.

    A UID seen again within `gone_after_s` of its last sighting is the same presence; after a
    longer absence it is a new tap; a different UID is a new tap at once.
    """

    def __init__(self, gone_after_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._gone_after_s = gone_after_s
        self._clock = clock
        self._uid: str | None = None
        self._last_seen = float("-inf")

    def seen(self, uid: str) -> bool:
        """Record a sighting of `uid`; True when it is a new tap."""
        now = self._clock()
        new = uid != self._uid or now - self._last_seen > self._gone_after_s
        self._uid = uid
        self._last_seen = now
        return new


class CardReader(Protocol):
    def run(self, on_tap: Callable[[Tap], None], stop: threading.Event,
            on_ready: Callable[[], None] = lambda: None) -> None:
        """Read until `stop` is set, calling `on_tap` once each time a card or tag arrives.

        A card left on the reader is one tap; taken away and brought back, it is a new one.
        `on_ready` is called once the device is open (the reader is working again).
        Raises `ReaderError` when the device cannot be opened or is lost.
        """

    def close(self) -> None:
        """Release the device."""


class ReaderError(RuntimeError):
    """The reader device cannot be opened or stopped answering; the message says what to check."""


def open_reader(config: CardReaderConfig) -> CardReader:
    """The reader a config section describes (imports its hardware library only when used)."""
    if config.type == "nfc":
        from gateway.readers.nfc import NfcReader

        return NfcReader(config)
    from gateway.readers.serial import Rdm6300Reader

    return Rdm6300Reader(config)
