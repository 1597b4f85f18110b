"""Cards for nfcpy's `udp` driver, so tests and benchmarks run nfcpy's real reader code without a radio.

A `Field` owns the UDP port the reader polls (`field.device` is `udp:127.0.0.1:<port>`). Cards attached
to it are in the field one at a time, each only between its `present()` and `remove()`, as a staff
badge and then a folder are held to one reader:

    with Field() as field, FelicaCard("0123456789ABCDEF", field) as badge, Ntag213("04A1B2C3D4E580", field) as folder:
        reader = NfcReader(NfcReaderConfig(type="nfc", device=field.device))
        ...
        badge.present(); ...; badge.remove()
        field.wait_absence_noticed()                     # the reader is polling again: next present() is a new tap
        folder.present(); ...

A card made without a field has one of its own (`with FelicaCard(...) as card: card.device`), and
`card.wait_absence_noticed()` asks its field.

Wire format of the udp driver: one datagram per frame, `b"<brty> <hex>"` (brty like 106A, 212F),
or `b"RFOFF"` when the reader switches its field off.
"""

from __future__ import annotations

import functools
import operator
import select
import socket
import threading
import time
from binascii import hexlify, unhexlify

from tests.support.broker import free_port


def _is_poll(brty: str, data: bytes) -> bool:
    if brty.endswith("A"):
        return data in (b"\x26", b"\x52")  # SENS_REQ / ALL_REQ
    if brty.endswith("B"):
        return data[:1] == b"\x05"  # SENSB_REQ
    return len(data) == 6 and data[:2] == b"\x06\x00"  # SENSF_REQ (polling), with its length byte


class Field:
    """The reader-facing end: one UDP port; frames reach the card presented, if any."""

    def __init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self.card: _Card | None = None  # the card in the field
        self._backends: dict[tuple, _Card] = {}  # where a card's own end (nfcpy's emulator) answers from
        self._noticed = threading.Event()
        self._talked_to: set = set()  # reader sockets the card answered during this presence
        self._thread = threading.Thread(target=self._serve, name=f"Field:{self.port}", daemon=True)

    @property
    def device(self) -> str:
        return f"udp:127.0.0.1:{self.port}"

    def present(self, card: _Card) -> float:
        """Bring `card` into the field; returns the time.perf_counter() it happened at."""
        if self.card not in (None, card):
            raise RuntimeError(f"the {type(self.card).__name__} is still in the field: remove() it first")
        card._power_up()
        self._talked_to = set()
        presented_at = time.perf_counter()
        self.card = card
        return presented_at

    def remove(self) -> None:
        """Take the card away: the field is empty, nothing answers from now on."""
        self._noticed.clear()
        self.card = None

    def wait_absence_noticed(self, timeout: float = 3.0) -> bool:
        """Wait until the reader, after `remove()`, has polled afresh and found the field empty.

        nfcpy's udp driver opens a new socket for every discovery round, so a poll from a socket the
        card never answered means the reader has given up on the card (its presence check failed).
        """
        return self._noticed.wait(timeout)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.card = None
        if self._sock.fileno() == -1:
            return  # closed already
        if self._thread.is_alive():
            self._wake_w.send(b"x")
            self._thread.join(5)
        for sock in (self._sock, self._wake_r, self._wake_w):
            sock.close()

    def _send(self, brty: str, data: bytes, addr) -> None:
        self._sock.sendto(b"%s %s" % (brty.encode(), hexlify(data)), addr)

    def _serve(self) -> None:
        while self._wake_r not in select.select([self._sock, self._wake_r], [], [])[0]:
            self._receive()

    def _receive(self) -> None:
        try:
            datagram, addr = self._sock.recvfrom(1024)
        except OSError:
            return
        card = self.card
        if addr in self._backends:  # a card's own end answering: on to the reader while that card is here
            if self._backends[addr] is card:
                card._from_backend(datagram)
            return
        if datagram.startswith(b"RFOFF"):
            if card is not None:
                card._field_off()
            return
        try:
            brty_b, hexdata = datagram.split()
            brty, data = brty_b.decode(), unhexlify(hexdata)
        except ValueError:
            return
        if card is not None and brty in card.brtys:
            card._frame(brty, data, addr)
        elif _is_poll(brty, data):
            if card is None and addr not in self._talked_to:
                self._noticed.set()
            # nfcpy's udp driver waits a full second for an answer that never comes, where a real reader
            # gives up on an empty field within milliseconds. A frame without data says "nothing here"
            # at once (the driver raises TransmissionError, which discovery treats as no card).
            self._sock.sendto(brty_b, addr)
        # Anything else goes unanswered, as in an empty field: the reader times out.


class _Card:
    """A card that can be held to a `Field` (its own one unless it is given one)."""

    brtys: tuple[str, ...] = ()
    backend: tuple | None = None  # the address of a process answering for the card (FelicaCard's emulator)

    def __init__(self, field: Field | None = None) -> None:
        self._own_field = field is None
        self.field = Field() if field is None else field
        self.answered = 0  # frames the card answered while presented (polls, presence checks, reads)

    @property
    def device(self) -> str:
        return self.field.device

    def present(self) -> float:
        """Bring the card into its field; returns the time.perf_counter() it happened at."""
        return self.field.present(self)

    def remove(self) -> None:
        """Take the card away: it answers nothing from now on."""
        if self.field.card is self:
            self.field.remove()

    def wait_absence_noticed(self, timeout: float = 3.0) -> bool:
        return self.field.wait_absence_noticed(timeout)

    def __enter__(self):
        if self.backend is not None:
            self.field._backends[self.backend] = self
        if self._own_field:
            self.field.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.remove()
        if self._own_field:
            self.field.close()

    # ------------------------------------------------------------ for subclasses

    def _power_up(self) -> None:
        """The card enters the field (a real card starts from power-off)."""

    def _field_off(self) -> None:
        """The reader switched its field off while the card was presented."""

    def _frame(self, brty: str, data: bytes, addr) -> None:
        """A frame for this card's technology while it is presented."""
        raise NotImplementedError

    def _from_backend(self, datagram: bytes) -> None:
        """What the card's `backend` sent, while the card is presented."""

    def _reply(self, brty: str, data: bytes, addr) -> None:
        self.field._talked_to.add(addr)
        self.answered += 1
        self.field._send(brty, data, addr)


class FelicaCard(_Card):
    """A FeliCa Standard card emulated by nfcpy itself (`connect(card=...)` on the udp driver).

    nfcpy listens on a port of its own (the card's `backend`); the field relays the reader's 212F
    frames to it, and its answers back, while the card is presented. nfcpy's emulator stays running
    between presentations, so it never re-binds its socket while a reader is talking to it (a frame
    sent in that gap would be lost and cost the reader a one-second timeout).
    """

    brtys = ("212F",)  # nfcpy emulates at the one bit rate it is given

    # PMm: ROM 01, IC 20 (RC-S962, as FeliCa Standard staff cards); its 4th byte (Request Response time)
    # is widened from a real card's ~2 ms to 29 ms, so a busy test machine can't fail presence checks.
    def __init__(self, idm: str = "012E4CD7A1B2C3D4", field: Field | None = None, *, pmm: str = "0120228427674EFF",
                 system_code: str = "FE00"):
        super().__init__(field)
        self.idm = idm.upper()
        self._sensf_res = bytes.fromhex("01" + idm + pmm + system_code)
        assert len(self._sensf_res) == 19, "IDm and PMm are 8 bytes, the system code 2"
        self.backend = ("127.0.0.1", free_port())
        self._reader_addr = None
        self._stopping = threading.Event()
        self._emulator = threading.Thread(target=self._emulate, name=f"FelicaEmulator:{self.backend[1]}",
                                          daemon=True)

    def __enter__(self):
        self._emulator.start()
        try:
            self._wait_emulator_listening()
        except BaseException:
            self.close()
            raise
        return super().__enter__()

    def close(self) -> None:
        self.remove()
        self._stopping.set()
        # Wake nfcpy wherever it waits: polling + a command for its IDm activate a listening emulator
        # (so it reaches the terminate check); any frame wakes one that is already activated.
        idm = bytes.fromhex(self.idm)
        kick = [b"212F 0600ffff0000", b"212F " + hexlify(b"\x0a\x04" + idm), b"RFOFF"]
        deadline = time.monotonic() + 5
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as kicker:
            while self._emulator.is_alive() and time.monotonic() < deadline:
                for frame in kick:
                    kicker.sendto(frame, self.backend)
                self._emulator.join(0.05)
        super().close()
        if self._emulator.is_alive():
            raise RuntimeError("nfcpy's card emulator did not stop")

    def _emulate(self) -> None:
        import nfc

        def on_startup(target):
            target.brty = "212F"
            target.sensf_res = bytearray(self._sensf_res)
            return target

        clf = nfc.ContactlessFrontend("udp:%s:%d" % self.backend)
        try:
            while not self._stopping.is_set():
                clf.connect(card={"on-startup": on_startup, "on-connect": lambda tag: True,
                                  "on-release": lambda tag: False, "timeout": 3600},
                            terminate=self._stopping.is_set)
        finally:
            clf.close()

    def _wait_emulator_listening(self, timeout: float = 5.0) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.bind(("127.0.0.1", 0))
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                probe.sendto(b"212F 0600ffff0000", self.backend)
                if select.select([probe], [], [], 0.05)[0]:
                    return
            raise RuntimeError(f"nfcpy's card emulator did not answer on {self.backend}")

    def _frame(self, brty: str, data: bytes, addr) -> None:
        self._reader_addr = addr
        self.field._send(brty, data, self.backend)

    def _from_backend(self, datagram: bytes) -> None:
        if self._reader_addr is not None:
            try:
                brty, hexdata = datagram.split()
            except ValueError:
                return
            self._reply(brty.decode(), unhexlify(hexdata), self._reader_addr)


class _NxpTypeA(_Card):
    """ISO 14443-3A for a 7-byte NXP UID: idle → ready 1 → ready 2 → active (and halt), with the
    anticollision cascade; what follows selection is the subclass's (`_respond`)."""

    brtys = ("106A",)
    SENS_RES = b"\x44\x00"  # double-size UID, bit frame anticollision
    SAK = b"\x00"  # the final SAK: what kind of tag it is

    def __init__(self, uid: str, field: Field | None, product: str):
        super().__init__(field)
        self.uid = uid.upper()
        u = bytes.fromhex(uid)
        assert len(u) == 7 and u[0] == 0x04, f"an {product} has a 7-byte UID from NXP (first byte 04)"
        self._bcc = (0x88 ^ u[0] ^ u[1] ^ u[2], _xor(u[3:7]))
        self._cl1 = bytes([0x88, *u[0:3], self._bcc[0]])  # cascade tag + UID0-2 + BCC
        self._cl2 = bytes([*u[3:7], self._bcc[1]])
        self._state = "idle"

    def _power_up(self) -> None:
        self._state = "idle"

    _field_off = _power_up

    def _frame(self, brty: str, data: bytes, addr) -> None:
        reply = self._respond(data)
        if reply is not None:
            self._reply(brty, reply, addr)

    def _anticollision(self, cmd: bytes) -> tuple[bool, bytes | None]:
        """(handled, reply) for REQA/WUPA and the cascade."""
        state = self._state
        if cmd == b"\x52" or (cmd == b"\x26" and state != "halt"):
            self._state = "ready1"
            return True, self.SENS_RES
        if state == "ready1" and cmd == b"\x93\x20":
            return True, self._cl1
        if state == "ready1" and cmd == b"\x93\x70" + self._cl1:
            self._state = "ready2"
            return True, bytes([self.SAK[0] | 0x04])  # SAK: UID not complete
        if state == "ready2" and cmd == b"\x95\x20":
            return True, self._cl2
        if state == "ready2" and cmd == b"\x95\x70" + self._cl2:
            self._state = "active"
            return True, self.SAK
        return False, None

    def _respond(self, cmd: bytes) -> bytes | None:
        raise NotImplementedError


class Ntag213(_NxpTypeA):
    """An NXP NTAG213 (Type 2 Tag, 7-byte UID) answering the udp driver's frames itself.

    ISO 14443-3 states (idle → ready 1 → ready 2 → active, halt) with the anticollision cascade,
    and the NTAG commands nfcpy uses: READ, FAST_READ, WRITE, GET_VERSION, READ_SIG, READ_CNT, HLTA.
    Unknown commands get a NAK and send the tag back to idle (nfcpy's activation probes with
    AUTHENTICATE, which only the Ultralight C knows, and copes with a NAK or with silence).
    """

    VERSION = bytes.fromhex("0004040201000F03")  # NTAG213
    PAGES = 45
    NAK = b"\x00"
    ACK = b"\x0a"

    def __init__(self, uid: str = "04A1B2C3D4E580", field: Field | None = None):
        super().__init__(uid, field, "NTAG213")
        u = bytes.fromhex(uid)
        bcc0, bcc1 = self._bcc
        memory = bytearray(4 * self.PAGES)
        memory[0:12] = bytes([*u[0:3], bcc0, *u[3:7], bcc1, 0x48, 0x00, 0x00])
        memory[12:16] = bytes.fromhex("E1101200")  # capability container: NDEF, 144 bytes, read/write
        memory[16:24] = bytes.fromhex("0103A00C340300FE")  # factory TLVs: lock control, empty NDEF message
        memory[160:180] = bytes.fromhex("000000BD" "040000FF" "00050000" "00000000" "00000000")
        self.memory = memory

    def _respond(self, cmd: bytes) -> bytes | None:
        handled, reply = self._anticollision(cmd)
        if handled:
            return reply
        state = self._state
        if state == "active":
            reply = self._command(cmd)
            if reply is not None:
                return reply
            if cmd == b"\x50\x00":  # HLTA
                self._state = "halt"
                return None
            self._state = "idle"
            return self.NAK
        if state != "halt":
            self._state = "idle"
        return None

    def _command(self, cmd: bytes) -> bytes | None:
        op, args = cmd[:1], cmd[1:]
        if op == b"\x30" and len(args) == 1 and args[0] < self.PAGES:  # READ: 4 pages, rolling over
            return bytes(self.memory[(4 * args[0] + i) % len(self.memory)] for i in range(16))
        if op == b"\x3a" and len(args) == 2 and args[0] <= args[1] < self.PAGES:  # FAST_READ
            return bytes(self.memory[4 * args[0]:4 * (args[1] + 1)])
        if op == b"\xa2" and len(args) == 5 and 4 <= args[0] < 40:  # WRITE (user memory only)
            self.memory[4 * args[0]:4 * args[0] + 4] = args[1:]
            return self.ACK
        if cmd == b"\x60":
            return self.VERSION
        if cmd == b"\x3c\x00":  # READ_SIG
            return bytes(32)
        if cmd == b"\x39\x02":  # READ_CNT
            return bytes(3)
        return None


def _xor(data: bytes) -> int:
    return functools.reduce(operator.xor, data, 0)
