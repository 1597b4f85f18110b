"""The NTAG 424 DNA's native commands that provisioning sends, wrapped in ISO 7816-4 (CLA 90), answered as
NT4H2421Gx §10 says the chip does: AuthenticateEV2First (the tag's half: E(RndB), then checking RndA and
RndB' and answering E(TI || RndA' || PDcap2 || PCDcap2)), and in CommMode.FULL, MAC checked and data
decrypted with the session keys and command counter, ChangeFileSettings (SDM) and ChangeKey."""

from __future__ import annotations

import os
from dataclasses import dataclass

from server.card_keys.aes import aes_cbc, aes_ecb
from server.card_keys.ev2 import crc32_nk, mac_t, rotl, session_keys, unpad

MORE, OK = b"\x91\xaf", b"\x91\x00"
AUTH_ERROR, DENIED, INTEGRITY, LENGTH, NO_KEY = b"\x91\xae", b"\x91\x9d", b"\x91\x1e", b"\x91\x7e", b"\x91\x40"


@dataclass(frozen=True, slots=True)
class FileSettings:
    """The NDEF file's settings: access keys (E: anyone, F: nobody) and SDM."""

    read: int
    write: int
    change: int
    sdm: bool = False
    meta_key: int = 0xF
    file_key: int = 0xF
    picc_offset: int = 0
    mac_input_offset: int = 0
    mac_offset: int = 0

    @classmethod
    def factory(cls) -> FileSettings:
        return cls(read=0xE, write=0xE, change=0x0)

    @classmethod
    def parse(cls, data: bytes) -> FileSettings:
        """ChangeFileSettings data as mamori sends it (SDM with encrypted PICCData and a MAC); ValueError else."""
        option, access = data[0], data[1:3]
        settings = cls(read=access[1] >> 4, write=access[1] & 0xF, change=access[0] & 0xF)
        if not option & 0x40:
            return settings
        sdm_options, sdm_access = data[3], data[4:6]
        meta, file = sdm_access[1] >> 4, sdm_access[1] & 0xF
        if sdm_options & 0xC0 != 0xC0 or meta > 4 or file > 4 or len(data) != 15:
            raise ValueError("not an SDM setting this emulator knows")
        picc, mac_in, mac = (int.from_bytes(data[i:i + 3], "little") for i in (6, 9, 12))
        return cls(settings.read, settings.write, settings.change, True, meta, file, picc, mac_in, mac)


class NativeCommands:
    """Mixed into the tag: `keys`, `settings` and `_end_session` are its."""

    keys: list[bytes]
    settings: FileSettings
    _auth: tuple[int, bytes] | None = None  # key number and RndB, between the two parts of an authentication
    _session: tuple[int, bytes, bytes, bytes] | None = None  # key number, TI, SesAuthENC, SesAuthMAC
    _counter = 0

    def _end_session(self) -> None:
        self._auth = self._session = None
        self._counter = 0

    def _native(self, apdu: bytes) -> bytes:
        ins, body = apdu[1], apdu[4:]
        data = body[1:1 + body[0]] if body else b""
        if ins == 0x71:  # AuthenticateEV2First: key number, capabilities length, capabilities
            self._end_session()
            if not data or data[0] > 4:
                return NO_KEY
            rnd_b = os.urandom(16)
            self._auth = (data[0], rnd_b)
            return aes_cbc(self.keys[data[0]], bytes(16), rnd_b, encrypt=True) + MORE
        if ins == 0xAF and self._auth is not None:
            return self._authenticate(data)
        if self._session is None:
            return DENIED
        if ins == 0x5F:
            return self._full(ins, data, 1, self._change_file_settings)
        if ins == 0xC4:
            return self._full(ins, data, 1, self._change_key)
        return b"\x91\x1c"  # illegal command

    def _authenticate(self, data: bytes) -> bytes:
        key_no, rnd_b = self._auth
        self._auth = None
        key = self.keys[key_no]
        plain = aes_cbc(key, bytes(16), data, encrypt=False) if len(data) == 32 else b""
        if plain[16:] != rotl(rnd_b):
            return AUTH_ERROR
        rnd_a, ti = plain[:16], os.urandom(4)
        enc, mac = session_keys(key, rnd_a, rnd_b)
        self._session, self._counter = (key_no, ti, enc, mac), 0
        return aes_cbc(key, bytes(16), ti + rotl(rnd_a) + bytes(12), encrypt=True) + OK

    def _full(self, ins: int, data: bytes, header_len: int, apply) -> bytes:
        """Check the MAC, decrypt, apply; answer with the response MAC (none once key 0 changed)."""
        key_no, ti, enc, mac = self._session
        counter = self._counter.to_bytes(2, "little")
        header, encrypted, tag = data[:header_len], data[header_len:-8], data[-8:]
        if len(data) < header_len + 8 or mac_t(mac, bytes([ins]) + counter + ti + header + encrypted) != tag:
            self._end_session()
            return INTEGRITY
        iv = aes_ecb(enc, b"\xa5\x5a" + ti + counter + bytes(8))
        try:
            plain = unpad(aes_cbc(enc, iv, encrypted, encrypt=False)) if encrypted else b""
            ends_session = apply(key_no, header, plain)
        except ValueError:
            return LENGTH
        if ends_session:
            self._end_session()
            return OK
        self._counter += 1
        return mac_t(mac, b"\x00" + self._counter.to_bytes(2, "little") + ti) + OK

    def _change_file_settings(self, key_no: int, header: bytes, plain: bytes) -> bool:
        if header != b"\x02" or key_no != self.settings.change:
            raise ValueError("only the NDEF file, with its change key")
        self.settings = FileSettings.parse(plain)
        return False

    def _change_key(self, key_no: int, header: bytes, plain: bytes) -> bool:
        target = header[0]
        if key_no != 0 or target > 4:
            raise ValueError("keys are changed with key 0")
        if target == key_no:  # the key of this session: sent as itself, and the session ends
            self.keys[target] = plain[:16]
            return True
        new = bytes(a ^ b for a, b in zip(plain[:16], self.keys[target]))
        if len(plain) != 21 or crc32_nk(new) != plain[17:21]:
            raise ValueError("CRC32 of the new key does not match")
        self.keys[target] = new
        return False
