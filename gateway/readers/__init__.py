"""Card readers: each turns a card or tag held to it into one `Tap`, once per presence."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from gateway.config import CardReaderConfig


@dataclass(frozen=True, slots=True)
class Tap:
    """A card or tag that has just arrived on the reader."""

    uid: str  # upper-case hex, as the contract's scan carries it
    tech: str  # the contract's `tech`: felica, iso14443a, iso14443b, em4100


class CardReader(Protocol):
    def run(self, on_tap: Callable[[Tap], None], stop: threading.Event) -> None:
        """Read until `stop` is set, calling `on_tap` once each time a card or tag arrives.

        A card left on the reader is one tap; taken away and brought back, it is a new one.
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
