"""NfcReader on nfcpy's real reader code, over its udp driver, with emulated cards (tests/support/nfc_udp.py)."""

from __future__ import annotations

import errno
import queue
import threading
import time
from contextlib import contextmanager

import pytest

from gateway.config import NfcReaderConfig
from gateway.readers import ReaderError, Tap
from gateway.readers.nfc import NfcReader
from tests.support.nfc_udp import FelicaCard, Field, Ntag213

pytestmark = pytest.mark.integration

IDM = "012E4CD7A1B2C3D4"
NTAG_UID = "04A1B2C3D4E580"
CARDS = {
    "felica": (lambda: FelicaCard(IDM), Tap(uid=IDM, tech="felica")),
    "ntag213": (lambda: Ntag213(NTAG_UID), Tap(uid=NTAG_UID, tech="iso14443a")),
}


class Running:
    """An NfcReader running in its own thread, its taps in a queue."""

    def __init__(self, reader: NfcReader):
        self.reader = reader
        self.taps: queue.Queue[Tap] = queue.Queue()
        self.stop = threading.Event()
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, name="nfc-reader", daemon=True)

    def _run(self) -> None:
        try:
            self.reader.run(self.taps.put, self.stop)
        except BaseException as exc:
            self.errors.append(exc)

    def next_tap(self, timeout: float = 3.0) -> Tap:
        try:
            return self.taps.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no tap within {timeout} s (reader errors: {self.errors})") from None

    def stop_and_join(self, timeout: float = 1.0) -> float:
        started = time.monotonic()
        self.stop.set()
        self.thread.join(timeout)
        return time.monotonic() - started


@contextmanager
def running(device: str, reader: NfcReader | None = None):
    r = Running(reader or NfcReader(NfcReaderConfig(type="nfc", device=device)))
    r.thread.start()
    try:
        yield r
    finally:
        r.stop_and_join(2.0)
        r.reader.close()
    assert not r.thread.is_alive(), "run() did not return after stop"
    assert not r.errors, r.errors


GONE_AFTER_S = NfcReaderConfig.model_fields["gone_after_s"].default


def tap_and_take_away(card, reader: Running) -> Tap:
    card.present()
    tap = reader.next_tap()
    card.remove()
    assert card.wait_absence_noticed(), "the reader did not notice the card leave"
    time.sleep(GONE_AFTER_S)  # away long enough that bringing it back is a new tap
    return tap


def test_felica_card_is_one_tap_with_its_idm():
    with FelicaCard(IDM) as card, running(card.device) as reader:
        assert tap_and_take_away(card, reader) == Tap(uid=IDM, tech="felica")
        assert reader.taps.empty()


def test_ntag213_is_one_tap_with_its_7_byte_uid():
    with Ntag213(NTAG_UID) as card, running(card.device) as reader:
        tap = tap_and_take_away(card, reader)
        assert tap == Tap(uid=NTAG_UID, tech="iso14443a") and len(tap.uid) == 14
        assert reader.taps.empty()


@pytest.mark.parametrize("kind", CARDS)
def test_card_left_on_the_reader_is_one_tap_and_brought_back_is_a_new_one(kind):
    make_card, expected = CARDS[kind]
    with make_card() as card, running(card.device) as reader:
        card.present()
        assert reader.next_tap() == expected
        checks_before = card.answered
        time.sleep(1.5)  # the behaviour under test: a card resting on the reader
        assert card.answered >= checks_before + 5, "the reader stopped checking that the card is still there"
        card.remove()
        assert card.wait_absence_noticed()
        assert reader.taps.empty(), "a card left on the reader was reported more than once"
        time.sleep(GONE_AFTER_S)

        assert tap_and_take_away(card, reader) == expected
        assert reader.taps.empty()


@pytest.mark.parametrize("kind", CARDS)
def test_a_card_missed_for_a_moment_by_the_presence_check_is_not_a_second_tap(kind):
    make_card, expected = CARDS[kind]
    with make_card() as card, running(card.device) as reader:
        card.present()
        assert reader.next_tap() == expected
        card.remove()  # a glitch: one presence check fails ...
        assert card.wait_absence_noticed()
        card.present()  # ... and the next poll finds the same card at once
        time.sleep(GONE_AFTER_S + 0.3)
        assert reader.taps.empty(), "a card lying on the reader was tapped twice"


def test_a_badge_then_a_folder_on_one_reader_are_two_taps():
    with Field() as field, FelicaCard(IDM, field) as badge, Ntag213(NTAG_UID, field) as folder, \
            running(field.device) as reader:
        assert tap_and_take_away(badge, reader) == Tap(uid=IDM, tech="felica")
        assert tap_and_take_away(folder, reader) == Tap(uid=NTAG_UID, tech="iso14443a")
        assert tap_and_take_away(badge, reader) == Tap(uid=IDM, tech="felica")
        assert reader.taps.empty()


@pytest.mark.parametrize("card_on_reader", [False, True], ids=["polling", "card-on-reader"])
def test_stop_ends_run_within_a_second(card_on_reader):
    with FelicaCard(IDM) as card, running(card.device) as reader:
        if card_on_reader:
            card.present()
            reader.next_tap()
        else:
            assert card.wait_absence_noticed()  # the reader is polling an empty field
        assert reader.stop_and_join() < 1.0
        assert not reader.thread.is_alive()


@pytest.mark.parametrize("device, advice", [
    ("tty:MAMORI_NO_SUCH_PORT:pn532", "serial port"),
    ("usb:054c:06c1", ""),  # no libusb, or no such device: either way the message says what to do
])
def test_a_reader_that_cannot_be_opened_raises_reader_error_saying_what_to_check(device, advice):
    reader = NfcReader(NfcReaderConfig(type="nfc", device=device))
    with pytest.raises(ReaderError) as raised:
        reader.run(lambda tap: None, threading.Event())
    message = str(raised.value)
    assert device in message
    assert advice in message
    assert any(hint in message for hint in ("plugged in", "serial port", "libusb", "udev", "busy")), message
    reader.close()


def test_a_reader_that_stops_answering_raises_reader_error_and_the_next_run_opens_it_again(monkeypatch):
    import nfc.clf.udp

    def unplugged(device, target):
        raise OSError(errno.EIO, "Input/output error")

    with FelicaCard(IDM) as card:
        reader = NfcReader(NfcReaderConfig(type="nfc", device=card.device))
        monkeypatch.setattr(nfc.clf.udp.Device, "sense_ttf", unplugged)
        with pytest.raises(ReaderError, match="stopped answering"):
            reader.run(lambda tap: None, threading.Event())
        monkeypatch.undo()  # plugged back in; gateway.app calls run() again on the same reader
        with running(card.device, reader) as again:
            assert tap_and_take_away(card, again) == Tap(uid=IDM, tech="felica")
