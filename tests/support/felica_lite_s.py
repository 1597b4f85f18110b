"""A Sony FeliCa Lite-S (RC-S966) on nfcpy's udp driver: polling, Read and Write Without Encryption,
its memory (user blocks, RC, MAC, ID, CKV, CK, MC, WCNT, STATE) and the MAC it computes over a read
under the session key from its card key and the reader's challenge (server/card_keys/felica.py).

Its access rules are the chip's as the user's manual gives them: RC and CK can be written, never read;
the MAC block is read only after the blocks it covers, with a challenge written since power-up; once
MC's system-block byte is 00 (first issuance done) the ID, CKV and CK blocks refuse plain writes.

`FelicaLiteSCopy` has the same IDm but not the key: it answers the MAC it once saw, whatever the challenge.
"""

from __future__ import annotations

from server.card_keys import felica
from tests.support.nfc_udp import Field, _Card

SYSTEM_CODE = bytes.fromhex("88B4")
# PMm: ROM 00, IC F1 (FeliCa Lite-S); its read/write timing bytes widened (8F) from the chip's 43, so a
# busy test machine does not time nfcpy out (as nfc_udp.FelicaCard widens its own).
PMM = bytes.fromhex("00F10000008F8F00")
RC, MAC, ID, D_ID, SER_C, SYS_C, CKV, CK, MC, WCNT, MAC_A, STATE = (
    0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x90, 0x91, 0x92)
READABLE = set(range(0x0F)) | {MAC, ID, D_ID, SER_C, SYS_C, CKV, MC, WCNT, MAC_A, STATE}
WRITABLE = set(range(0x0F)) | {RC, ID, CKV, CK, MC, STATE}
SYSTEM_BLOCKS = {ID, D_ID, SER_C, CKV, CK}  # read-only once MC[2] is 00
DENIED = bytes([0x01, 0xA8])  # status flags: the block may not be accessed this way


class FelicaLiteS(_Card):
    """A blank card as it leaves the factory (card key all zero, system blocks writable), unless given a key."""

    brtys = ("212F",)

    def __init__(self, idm: str = "012E4CD7A1B2C3D5", field: Field | None = None, *, card_key: bytes | None = None):
        super().__init__(field)
        self.idm = idm.upper()
        self._idm = bytes.fromhex(idm)
        assert len(self._idm) == 8
        self.blocks: dict[int, bytearray] = {n: bytearray(16) for n in (*range(0x0F), ID, D_ID, SER_C, SYS_C, CKV, CK,
                                                                       MC, WCNT, STATE)}
        self.blocks[ID][0:8] = self._idm
        self.blocks[SYS_C][0:2] = SYSTEM_CODE
        self.blocks[MC][0:4] = bytes.fromhex("FFFFFF00")  # every block writable, system blocks too, not NDEF
        if card_key is not None:
            self.blocks[CK][:] = felica.card_key_block(card_key)
        self._rc: bytes | None = None

    def _power_up(self) -> None:
        self._rc = None  # the challenge lives only as long as the card is powered

    _field_off = _power_up

    def _frame(self, brty: str, data: bytes, addr) -> None:
        reply = self._respond(bytes(data))
        if reply is not None:
            self._reply(brty, bytes([len(reply) + 1]) + reply, addr)

    def _respond(self, frame: bytes) -> bytes | None:
        if len(frame) < 2 or frame[0] != len(frame):
            return None
        cmd, body = frame[1], frame[2:]
        if cmd == 0x00 and len(body) == 4:  # polling
            code, request = body[0:2], body[2]
            if not all(c in (s, 0xFF) for c, s in zip(code, SYSTEM_CODE)):
                return None
            return b"\x01" + self._idm + PMM + (SYSTEM_CODE if request == 0x01 else b"")
        if body[:8] != self._idm:
            return None
        if cmd == 0x06:
            return b"\x07" + self._idm + self._read(body[8:])
        if cmd == 0x08:
            return b"\x09" + self._idm + self._write(body[8:])
        return None

    @staticmethod
    def _block_list(body: bytes) -> tuple[list[int], bytes] | None:
        """Block numbers (2-byte elements, service 0) and what follows them; None if malformed."""
        services = body[0] if body else 0
        rest = body[1 + 2 * services:]
        if services != 1 or not rest:
            return None
        count, rest = rest[0], rest[1:]
        numbers = []
        for _ in range(count):
            if len(rest) < 2 or rest[0] != 0x80:
                return None
            numbers.append(rest[1])
            rest = rest[2:]
        return numbers, rest

    def _read(self, body: bytes) -> bytes:
        parsed = self._block_list(body)
        if parsed is None or not 1 <= len(parsed[0]) <= 4:
            return bytes([0xFF, 0xA2])
        data = b""
        for number in parsed[0]:
            if number not in READABLE:
                return DENIED
            if number == MAC:
                if self._rc is None or not data:
                    return DENIED
                key = bytes(felica.card_key_block(bytes(self.blocks[CK])))  # the card holds CK in card order
                data += self._mac(key, data)
            else:
                data += bytes(self.blocks.get(number, bytes(16)))
        return b"\x00\x00" + bytes([len(parsed[0])]) + data

    def _mac(self, key: bytes, data: bytes) -> bytes:
        assert self._rc is not None
        return felica.read_mac(key, self._rc, data) + bytes(8)

    def _write(self, body: bytes) -> bytes:
        parsed = self._block_list(body)
        if parsed is None or len(parsed[0]) != 1 or len(parsed[1]) != 16:
            return bytes([0xFF, 0xA2])
        number, data = parsed[0][0], parsed[1]
        if number not in WRITABLE or (number in SYSTEM_BLOCKS and self.blocks[MC][2] != 0xFF):
            return DENIED
        if number == RC:
            self._rc = data
        elif number == ID:
            self.blocks[ID][8:16] = data[8:16]  # IDd (the first 8 bytes) is fixed at the factory
        else:
            self.blocks[number][:] = data
        return b"\x00\x00"


class FelicaLiteSCopy(FelicaLiteS):
    """Same IDm, same ID block, and the MAC block of one genuine read: no card key to answer a new challenge."""

    def __init__(self, idm: str, id_block: bytes, seen_mac: bytes, field: Field | None = None):
        super().__init__(idm, field)
        self.blocks[ID][:] = id_block
        self._seen_mac = seen_mac

    def _mac(self, key: bytes, data: bytes) -> bytes:
        return self._seen_mac + bytes(8)
