"""NTAG 424 DNA secure messaging (NT4H2421Gx §9.1, AN12196 §5-6): AuthenticateEV2First and commands in
CommMode.FULL, as `mamori cards provision` needs them to give a blank tag its keys and SUN settings.

The session keys come from the key used and both sides' random numbers; each command carries a MAC (the
odd bytes of a CMAC) over the command counter and the transaction id, and its data AES-CBC encrypted
under an IV made from them: a recorded command cannot be replayed or changed.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from server.card_keys.aes import aes_cbc, aes_ecb, cmac


class SecureMessagingError(ValueError):
    pass


def mac_t(key: bytes, data: bytes) -> bytes:
    """MACt: the 8 odd-indexed bytes of the CMAC."""
    return cmac(key, data)[1::2]


def pad(data: bytes) -> bytes:
    """ISO/IEC 9797-1 padding method 2: 80, then zeros to a whole block (always at least the 80)."""
    data += b"\x80"
    return data + bytes(-len(data) % 16)


def unpad(data: bytes) -> bytes:
    end = data.rstrip(b"\x00")
    if not end.endswith(b"\x80"):
        raise SecureMessagingError("bad padding")
    return end[:-1]


def rotl(data: bytes) -> bytes:
    return data[1:] + data[:1]


def crc32_nk(key: bytes) -> bytes:
    """CRC32 as DESFire and NTAG 424 DNA compute it (no final inversion), least significant byte first."""
    return ((zlib.crc32(key) ^ 0xFFFFFFFF) & 0xFFFFFFFF).to_bytes(4, "little")


def session_keys(key: bytes, rnd_a: bytes, rnd_b: bytes) -> tuple[bytes, bytes]:
    """SesAuthENCKey, SesAuthMACKey from SV1 / SV2 (NT4H2421Gx §9.1.7)."""
    mixed = rnd_a[0:2] + bytes(a ^ b for a, b in zip(rnd_a[2:8], rnd_b[0:6])) + rnd_b[6:16] + rnd_a[8:16]
    return (cmac(key, bytes.fromhex("A55A00010080") + mixed), cmac(key, bytes.fromhex("5AA500010080") + mixed))


def first_part2(key: bytes, enc_rnd_b: bytes, rnd_a: bytes) -> tuple[bytes, bytes]:
    """The PCD's answer to the tag's E(RndB): E(RndA || RndB <<< 8), and RndB."""
    rnd_b = aes_cbc(key, bytes(16), enc_rnd_b, encrypt=False)
    return aes_cbc(key, bytes(16), rnd_a + rotl(rnd_b), encrypt=True), rnd_b


@dataclass(slots=True)
class Session:
    """An authenticated session: TI, the command counter and the two session keys."""

    ti: bytes
    enc: bytes
    mac: bytes
    counter: int = 0

    @classmethod
    def finish(cls, key: bytes, rnd_a: bytes, rnd_b: bytes, enc_answer: bytes) -> Session:
        """Check the tag's E(TI || RndA <<< 8 || PDcap2 || PCDcap2) and open the session."""
        answer = aes_cbc(key, bytes(16), enc_answer, encrypt=False)
        if answer[4:20] != rotl(rnd_a):
            raise SecureMessagingError("the tag does not hold this key (RndA came back wrong)")
        enc, mac = session_keys(key, rnd_a, rnd_b)
        return cls(ti=answer[0:4], enc=enc, mac=mac)

    def _iv(self, label: bytes, counter: int) -> bytes:
        return aes_ecb(self.enc, label + self.ti + counter.to_bytes(2, "little") + bytes(8))

    def command(self, cmd: int, header: bytes, data: bytes = b"") -> bytes:
        """The data field of a command in CommMode.FULL: header || E(data) || MACt."""
        encrypted = aes_cbc(self.enc, self._iv(b"\xa5\x5a", self.counter), pad(data), encrypt=True) if data else b""
        body = header + encrypted
        return body + mac_t(self.mac, bytes([cmd]) + self.counter.to_bytes(2, "little") + self.ti + body)

    def response(self, status: int, body: bytes) -> bytes:
        """Check a response's MACt (and decrypt its data); the command counter moves on."""
        self.counter += 1
        data, mac = body[:-8], body[-8:]
        expected = mac_t(self.mac, bytes([status]) + self.counter.to_bytes(2, "little") + self.ti + data)
        if len(body) < 8 or mac != expected:
            raise SecureMessagingError("the tag's answer does not carry our session's MAC")
        if not data:
            return b""
        return unpad(aes_cbc(self.enc, self._iv(b"\x5a\xa5", self.counter), data, encrypt=False))
