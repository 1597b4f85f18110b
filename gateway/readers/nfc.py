"""NFC readers driven by nfcpy (Sony RC-S380, PN532/PN533, ACR122U): FeliCa and ISO 14443 A/B cards."""

from __future__ import annotations

import errno
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from gateway.config import NfcReaderConfig
from gateway.readers import Presence, ReaderError, Tap
from gateway.readers.card_auth import read_auth

log = logging.getLogger(__name__)

TARGETS = {"felica": "212F", "iso14443a": "106A", "iso14443b": "106B"}
TECH_BY_TYPE = {"F": "felica", "A": "iso14443a", "B": "iso14443b"}


class NfcReader:
    """One `Tap` per card presence: poll, report the UID, then watch the card until it leaves."""

    def __init__(self, config: NfcReaderConfig, nfcpy_options: Mapping[str, Any] | None = None):
        # nfcpy_options overrides connect(rdwr=...) options; the benchmark uses it to compare with nfcpy's defaults.
        self.config = config
        self._nfcpy_options = dict(nfcpy_options or {})
        self._clf = None

    def run(self, on_tap: Callable[[Tap], None], stop: threading.Event,
            on_ready: Callable[[], None] = lambda: None) -> None:
        clf = self._open()
        on_ready()
        import nfc.clf  # after _open(), which explains a missing nfcpy
        pause = self.config.interval_s
        options = {
            "targets": [TARGETS[t] for t in self.config.technologies],
            # One polling round per call; the pause between rounds is `terminate` waiting on `stop`,
            # so stop is immediate (nfcpy's own pause is a time.sleep between `iterations`).
            "iterations": 1,
            "beep-on-connect": False,
            # Hand the tag back at once: we report it, then check for removal at removal_check_s
            # (nfcpy's own presence loop sleeps a fixed 0.1 s) and nfcpy can't swallow on_tap's errors.
            "on-connect": lambda tag: False,
            **self._nfcpy_options,
        }
        presence = Presence(self.config.gone_after_s)
        while not stop.is_set():
            try:
                tag = clf.connect(rdwr=options, terminate=lambda: stop.wait(pause))
            except OSError as exc:  # raised before its polling starts, e.g. a closed device
                raise self._lost(exc) from exc
            if not tag:
                if stop.is_set():
                    return
                # connect() logs an IOError (or a technology the device lacks) and returns False.
                raise self._lost("see nfcpy's error logged above")
            tap = _tap(tag)
            if tap is not None and presence.seen(tap.uid):
                if self.config.card_auth:
                    tap = Tap(tap.uid, tap.tech, read_auth(tag))
                on_tap(tap)
            try:
                while not stop.wait(self.config.removal_check_s) and tag.is_present:
                    pass
            except nfc.clf.CommunicationError:
                pass  # a garbled presence check: the card is leaving
            except OSError as exc:
                raise self._lost(exc) from exc
            if tap is not None:
                presence.seen(tap.uid)  # gone as of now: read again within gone_after_s, it is the same tap

    def close(self) -> None:
        if self._clf is not None:
            self._clf.close()
            self._clf = None

    def _lost(self, why) -> ReaderError:
        self.close()  # the next run() opens the device afresh
        return ReaderError(f"the NFC reader at {self.config.device} stopped answering (unplugged?) or cannot "
                           f"poll for {', '.join(self.config.technologies)}: {why}")

    def _open(self):
        if self._clf is not None:
            return self._clf
        device = self.config.device
        try:
            import nfc
        except ImportError as exc:
            raise ReaderError(f"nfcpy is not installed ({exc}): pip install 'mamori[gateway]'") from exc
        try:
            self._clf = nfc.ContactlessFrontend(device)
        except (OSError, ValueError, nfc.clf.Error) as exc:
            raise ReaderError(_open_advice(device, exc)) from exc
        log.info("NFC reader %s, polling for %s", self._clf, ", ".join(self.config.technologies))
        return self._clf


def _tap(tag) -> Tap | None:
    tech = TECH_BY_TYPE[tag.target.brty[-1]]
    uid = bytes(tag.idm if tech == "felica" else tag.identifier)
    if not 4 <= len(uid) <= 10:  # the contract's uid is 8-20 hex digits
        log.warning("ignoring %s: its %d-byte identifier does not fit the contract", tag, len(uid))
        return None
    return Tap(uid=uid.hex().upper(), tech=tech)


def _open_advice(device: str, exc: Exception) -> str:
    code = getattr(exc, "errno", None)
    usb_help = "docs/install-gateway.md, USB readers"
    if "libusb" in str(exc):
        return f"cannot open the NFC reader at {device}: libusb-1.0 is missing (apt-get install libusb-1.0-0)"
    if code == errno.EACCES:
        return (f"permission denied for the NFC reader at {device}: install deploy/udev/90-mamori-nfc.rules "
                f"and re-plug the reader ({usb_help})")
    if code == errno.EBUSY:
        return (f"the NFC reader at {device} is in use, by another process or by a kernel driver (port100, "
                f"pn533_usb): install deploy/udev/blacklist-mamori-nfc.conf ({usb_help})")
    if code in (errno.ENODEV, errno.ENOENT) and device.startswith("tty"):
        return (f"no NFC reader at {device}: is it wired and powered, and the serial port enabled "
                "(docs/install-gateway.md, UART readers)?")
    if code in (errno.ENODEV, errno.ENOENT):
        return (f"no NFC reader at {device}: is it plugged in (lsusb)? is deploy/udev/90-mamori-nfc.rules "
                "installed (nfcpy skips a reader it may not open)? The Sony RC-S300 is not supported by "
                "nfcpy: use an RC-S380")
    return f"cannot open the NFC reader at {device}: {exc} (device paths: usb, usb:054c:06c1, tty:AMA0:pn532)"
