"""RDM6300 125 kHz (EM4100) reader on a serial port.

The module sends, at 9600 8N1, a 14-byte frame for the fob in its field and repeats it as long as
the fob stays: 0x02, 10 ASCII hex digits (1 version/customer byte + 4 card bytes), 2 ASCII hex
digits (the XOR of those 5 bytes), 0x03. `FrameParser` and `Presence` are pure (no I/O, the
clock injected); `Rdm6300Reader` puts them on a pyserial port.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable

import serial

from gateway.config import Rdm6300ReaderConfig
from gateway.readers import Presence, ReaderError, Tap

log = logging.getLogger(__name__)

STX = 0x02
ETX = 0x03
_BODY_LEN = 12  # 10 data digits + 2 checksum digits
_HEX_DIGITS = frozenset(b"0123456789abcdefABCDEF")
TECH = "em4100"


class FrameParser:
    """Turns chunks of the module's byte stream into the UIDs of its well-formed frames.

    Frames may be split across chunks; bytes between frames are skipped; a frame that is cut
    short by a new 0x02, runs too long, holds a non-hex digit or has a wrong checksum is
    dropped and counted in `rejected` (by reason in `reasons`).
    """

    def __init__(self) -> None:
        self._body = bytearray()
        self._in_frame = False
        self.accepted = 0
        self.rejected = 0
        self.skipped_bytes = 0
        self.reasons: Counter[str] = Counter()

    def feed(self, chunk: bytes) -> list[str]:
        """The UIDs (10 upper-case hex digits) of the frames that `chunk` completes, in order."""
        uids: list[str] = []
        for byte in chunk:
            if byte == STX:
                if self._in_frame:
                    self._reject("torn frame (a new frame started before the end)")
                self._body.clear()
                self._in_frame = True
            elif not self._in_frame:
                self.skipped_bytes += 1
            elif byte == ETX:
                self._in_frame = False
                uid = self._check(bytes(self._body))
                if uid is not None:
                    self.accepted += 1
                    uids.append(uid)
            elif len(self._body) == _BODY_LEN:
                self._in_frame = False
                self._reject("frame too long")
            else:
                self._body.append(byte)
        return uids

    def _check(self, body: bytes) -> str | None:
        if len(body) != _BODY_LEN:
            return self._reject("frame too short")
        # bytes.fromhex would let spaces through, int(…, 16) signs and underscores.
        if not _HEX_DIGITS.issuperset(body):
            return self._reject("not hex")
        data = bytes.fromhex(body[:10].decode("ascii"))
        checksum = int(body[10:], 16)
        xor = 0
        for value in data:
            xor ^= value
        if xor != checksum:
            return self._reject("bad checksum")
        return data.hex().upper()

    def _reject(self, reason: str) -> None:
        self.rejected += 1
        self.reasons[reason] += 1
        return None


class Rdm6300Reader:
    """`CardReader` for an RDM6300 on a serial port (the Pi's UART or a USB-serial adapter)."""

    read_timeout_s = 0.1  # how often `stop` is looked at while the line is quiet
    report_every_s = 60.0  # rejected frames are summed up in the log at most this often

    def __init__(self, config: Rdm6300ReaderConfig, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._config = config
        self._clock = clock
        self._port: serial.Serial | None = None
        self._lock = threading.Lock()
        self._closing = False
        self.parser = FrameParser()

    def run(self, on_tap: Callable[[Tap], None], stop: threading.Event,
            on_ready: Callable[[], None] = lambda: None) -> None:
        """Read frames until `stop` is set (or `close()` is called), calling `on_tap` once per presence."""
        port = self._open()
        on_ready()
        presence = Presence(self._config.gone_after_s, self._clock)
        reported = (0, self._clock())
        try:
            while not stop.is_set() and not self._closing:
                try:
                    chunk = port.read(max(1, port.in_waiting))
                except (serial.SerialException, OSError) as exc:
                    if stop.is_set() or self._closing:
                        break
                    raise ReaderError(
                        f"{self._config.port}: the RDM6300's serial port stopped working ({exc}); "
                        "check that the USB-serial adapter is still plugged in and the wiring is sound"
                    ) from None
                for uid in self.parser.feed(chunk):
                    if presence.seen(uid):
                        on_tap(Tap(uid=uid, tech=TECH))
                reported = self._report_rejections(reported)
        finally:
            self._release()

    def close(self) -> None:
        """Release the port; a `run()` in another thread returns promptly and closes it."""
        with self._lock:
            port = self._port
            if port is not None:
                self._closing = True
        if port is not None:
            try:
                port.cancel_read()  # wakes a read() blocked in another thread
            except Exception:
                pass  # already gone: run() is on its way out anyway

    def _open(self) -> serial.Serial:
        path = self._config.port
        try:
            port = serial.Serial(path, self._config.baudrate, timeout=self.read_timeout_s)
        except serial.SerialException as exc:
            raise ReaderError(_open_problem(path, exc)) from None
        except ValueError as exc:  # pyserial's answer to a baud rate or setting it cannot use
            raise ReaderError(f"{path}: cannot set up the RDM6300's serial port: {exc}") from None
        with self._lock:
            self._port = port
            self._closing = False
        log.info("RDM6300 on %s at %d baud", path, self._config.baudrate)
        _warn_if_console(path)
        return port

    def _release(self) -> None:
        with self._lock:
            port, self._port = self._port, None
            self._closing = False
        if port is not None:
            try:
                port.close()
            except Exception:
                pass  # closing a vanished device may fail; it is released all the same

    def _report_rejections(self, reported: tuple[int, float]) -> tuple[int, float]:
        count, at = reported
        now = self._clock()
        if self.parser.rejected == count or (count and now - at < self.report_every_s):
            return reported
        reasons = ", ".join(f"{n} {why}" for why, n in self.parser.reasons.most_common())
        log.warning("%s: %d RDM6300 frame(s) dropped so far (%s); frequent drops mean electrical noise "
                    "or a wrong baud rate", self._config.port, self.parser.rejected, reasons)
        return self.parser.rejected, now


def _open_problem(path: str, exc: serial.SerialException) -> str:
    """An actionable message for a serial port that will not open."""
    code = exc.errno if isinstance(exc.errno, int) else None
    uart = os.path.basename(os.path.realpath(path)).startswith(("ttyAMA", "ttyS")) or "serial" in path
    if code == errno.ENOENT or (code is None and not os.path.exists(path)):
        hint = "no such device"
        if uart:
            hint += ("; on a Raspberry Pi, enable the serial port and disable the serial console with "
                     "raspi-config (Interface Options → Serial Port), then reboot")
        else:
            hint += "; check that the USB-serial adapter is plugged in (ls /dev/ttyUSB* /dev/ttyACM*)"
        return f"{path}: cannot open the RDM6300's serial port: {hint}"
    if code in (errno.EACCES, errno.EPERM):
        return (f"{path}: cannot open the RDM6300's serial port: permission denied; add the user to the "
                "dialout group (sudo adduser mamori dialout) and restart the service")
    if code == errno.EBUSY:
        return (f"{path}: cannot open the RDM6300's serial port: it is in use by another program "
                "(the serial console? disable it with raspi-config)")
    return f"{path}: cannot open the RDM6300's serial port: {exc}"


def _warn_if_console(path: str) -> None:
    # A login console on the same UART opens fine but answers the module's frames with garbage.
    try:
        with open("/proc/cmdline", encoding="ascii", errors="replace") as cmdline:
            words = cmdline.read().split()
    except OSError:
        return
    ours = os.path.realpath(path)
    for word in words:
        if word.startswith("console="):
            device = word.removeprefix("console=").split(",")[0]
            if os.path.realpath(f"/dev/{device}") == ours:
                log.warning("%s is also the kernel's serial console (%s); disable the serial console "
                            "with raspi-config (Interface Options → Serial Port)", path, word)
