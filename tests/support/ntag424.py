"""An NXP NTAG 424 DNA on nfcpy's udp driver: ISO 14443-3A and -4 (ISO-DEP), the ISO 7816-4 APDUs a
reader sends to read its NDEF file, and Secure Unique NFC: each read of the NDEF file counts one
(SDMReadCtr) and mirrors a new `e=` (PICCData encrypted under SDMMetaReadKey) and `c=` (SDMMAC under
the tag's SDMFileReadKey) at the offsets its file settings name, as NT4H2421Gx §9.3 says the chip does.
A blank one (factory keys, SDM off, an empty NDEF file anyone may write) also takes what provisioning sends
(tests/support/ntag424_native.py): AuthenticateEV2First, ChangeFileSettings and ChangeKey.

`Ntag424Copy` is what a copier makes of one: the same UID, and the NDEF file as it was read once.
"""

from __future__ import annotations

import os

from server.card_keys import sun
from server.card_keys.ntag424_setup import SUN_URL_TEMPLATE, ndef_file, sdm_settings, sun_offsets
from tests.support.nfc_udp import Field, _NxpTypeA
from tests.support.ntag424_native import FileSettings, NativeCommands

NDEF_AID = bytes.fromhex("D2760000850101")
CC_FILE, NDEF_FILE, PROPRIETARY_FILE = b"\xe1\x03", b"\xe1\x04", b"\xe1\x05"
# The CC file of an NTAG 424 DNA (NT4H2421Gx §8.2.3.1): mapping 2.0, MLe 256, MLc 255, NDEF file E104 of
# 256 bytes readable by anyone, writable only after authentication; proprietary file E105.
CC = bytes.fromhex("001720010000FF0406E10401000000" "0506E10500808283000000000000000000")[:32]
OK, NOT_FOUND, WRONG_INS, WRONG_PARAMS = b"\x90\x00", b"\x6a\x82", b"\x6d\x00", b"\x6b\x00"
DENIED = b"\x69\x82"  # security status not satisfied
BASE_URL = SUN_URL_TEMPLATE.split("?")[0]


def sun_url(meta_key: bytes, file_key: bytes, uid: bytes, counter: int, padding: bytes | None = None) -> str:
    """The URL a tag mirrors at read `counter`: e = PICCData, c = SDMMAC over nothing (SDMMACInputOffset =
    SDMMACOffset, as mamori provisions: the session key already binds the UID and the counter)."""
    picc = sun.PiccData(uid, counter)
    e = sun.encrypt_picc(meta_key, picc, padding if padding is not None else os.urandom(5))
    return f"{BASE_URL}?e={e.hex().upper()}&c={sun.sdm_mac(file_key, picc).hex().upper()}"


class Ntag424Dna(NativeCommands, _NxpTypeA):
    """A tag: provisioned with mamori's SUN settings and these keys, or blank (no keys given)."""

    SENS_RES = b"\x44\x03"  # ATQA of an NTAG 424 DNA: double-size UID
    SAK = b"\x20"  # ISO/IEC 14443-4 compliant
    # ATS: FSCI 7 (128-byte frames) as the chip; FWI widened from the chip's 7 (38 ms) to 10 (310 ms), so a
    # busy test machine does not time nfcpy out (as nfc_udp.FelicaCard widens its PMm).
    ATS = bytes.fromhex("067777A10280")

    def __init__(self, uid: str = "04DE5F1EACC040", *, meta_key: bytes | None = None, file_key: bytes | None = None,
                 counter: int = 0, field: Field | None = None):
        super().__init__(uid, field, "NTAG 424 DNA")
        self._uid_bytes = bytes.fromhex(uid)
        self.keys = [bytes(16) for _ in range(5)]  # the factory's
        self.ndef = bytearray(256)  # NLEN 0: no message
        self.settings = FileSettings.factory()
        if meta_key is not None and file_key is not None:  # as `mamori cards provision` leaves it
            self.keys = [os.urandom(16), meta_key, file_key, bytes(16), bytes(16)]
            self.ndef[:] = ndef_file(SUN_URL_TEMPLATE)
            self.settings = FileSettings.parse(sdm_settings(*sun_offsets(bytes(self.ndef))))
        self.counter = counter  # SDMReadCtr: reads of the NDEF file so far
        self.urls: list[str] = []  # every URL it mirrored, newest last (what a skimmer could have kept)
        self._selected: bytes | None = None
        self._mirror: bytes | None = None  # the NDEF file as mirrored for the current selection
        self._last_block: bytes | None = None
        self._block_number = 1

    def _power_up(self) -> None:
        self._state, self._selected, self._mirror = "idle", None, None
        self._end_session()

    _field_off = _power_up

    def _respond(self, cmd: bytes) -> bytes | None:
        handled, reply = self._anticollision(cmd)
        if handled:
            return reply
        state = self._state
        if state == "active" and cmd[:1] == b"\xe0" and len(cmd) == 2:  # RATS
            self._state, self._block_number, self._last_block = "protocol", 1, None
            return self.ATS
        if state == "protocol":
            return self._block(cmd)
        if state != "halt":
            self._state = "idle"
        return None

    # ------------------------------------------------------------ ISO 14443-4 blocks

    def _block(self, frame: bytes) -> bytes | None:
        pcb = frame[0] if frame else 0
        if pcb & 0xE2 == 0x02 and not pcb & 0x10:  # I-block, no chaining (our APDUs are short)
            self._block_number = pcb & 1
            self._last_block = bytes([0x02 | self._block_number]) + self._apdu(frame[1:])
            return self._last_block
        if pcb & 0xF6 == 0xB2:  # R(NAK): the last block again if it is the one lost, else R(ACK)
            if pcb & 1 == self._block_number and self._last_block is not None:
                return self._last_block
            return bytes([0xA2 | self._block_number])
        if pcb & 0xF7 == 0xC2:  # S(DESELECT)
            self._state = "halt"
            return bytes([pcb])
        return None

    def _apdu(self, apdu: bytes) -> bytes:
        if len(apdu) >= 4 and apdu[0] == 0x90:
            return self._native(apdu)
        if len(apdu) < 4 or apdu[0] != 0x00:
            return b"\x6e\x00"  # class not supported
        ins, p1, p2, body = apdu[1], apdu[2], apdu[3], apdu[4:]
        if ins == 0xA4:  # SELECT
            data = body[1:1 + body[0]] if body else b""
            if p1 == 0x04 and data == NDEF_AID:
                self._selected = b"app"
                return OK
            if p1 == 0x00 and data in (CC_FILE, NDEF_FILE, PROPRIETARY_FILE) and self._selected is not None:
                self._selected, self._mirror = data, None
                return OK
            return NOT_FOUND
        if ins == 0xB0:  # READ BINARY
            content = self._file()
            if content is None:
                return b"\x69\x86"  # no current EF
            offset, le = p1 << 8 | p2, (body[0] or 256) if body else 256
            return content[offset:offset + le] + OK if offset <= len(content) else WRONG_PARAMS
        if ins == 0xD6 and self._selected == NDEF_FILE:  # UPDATE BINARY
            if self.settings.write != 0xE:
                return DENIED  # writable only after authentication with its write key
            offset, data = p1 << 8 | p2, body[1:1 + body[0]] if body else b""
            if offset + len(data) > len(self.ndef):
                return WRONG_PARAMS
            self.ndef[offset:offset + len(data)] = data
            return OK
        return WRONG_INS

    def _file(self) -> bytes | None:
        if self._selected == CC_FILE:
            return CC
        if self._selected == NDEF_FILE:
            if self._mirror is None:  # the first read after selecting the file counts, and mirrors anew
                self._mirror = self._next_read()
            return self._mirror
        if self._selected == PROPRIETARY_FILE:
            return None  # readable only with authentication: not what a reader does
        return None

    def _next_read(self) -> bytes:
        content = bytearray(self.ndef)
        sdm = self.settings
        if sdm.sdm:
            self.counter += 1
            picc = sun.PiccData(self._uid_bytes, self.counter)
            e = sun.encrypt_picc(self.keys[sdm.meta_key], picc, os.urandom(5)).hex().upper().encode()
            content[sdm.picc_offset:sdm.picc_offset + 32] = e
            mac_input = bytes(content[sdm.mac_input_offset:sdm.mac_offset])
            mac = sun.sdm_mac(self.keys[sdm.file_key], picc, mac_input).hex().upper().encode()
            content[sdm.mac_offset:sdm.mac_offset + 16] = mac
            length = int.from_bytes(content[:2], "big")
            self.urls.append("https://" + bytes(content[7:2 + length]).decode("ascii"))
        return bytes(content)


class Ntag424Copy(Ntag424Dna):
    """A copy: the UID of a genuine tag and the NDEF file read from it once, answered the same every time
    (a copier cannot make SUN messages: it has no key)."""

    def __init__(self, uid: str, url: str, field: Field | None = None):
        super().__init__(uid, field=field)
        self._recorded = ndef_file(url)

    def _next_read(self) -> bytes:
        return self._recorded
