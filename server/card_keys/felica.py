"""FeliCa Lite-S (RC-S966) internal authentication: a MAC over a read, keyed by the card key.

The reader writes a random challenge RC (16 bytes) to the RC block (0x80) and reads the ID block
(0x82) together with the MAC block (0x81). The card answers with a MAC under the session key
SK = 3DES-CBC(CK, IV 0, RC) over the ID block, IV RC1. Only a card holding CK can answer a
challenge it has not seen; the server holds CK (diversified from the office master key by the
card's IDm) and checks, so the reader never holds a key.

FeliCa works little endian: each 8-byte half of RC and CK, and each 8-byte chunk of the data and
of the MAC, is byte-reversed on the card relative to the big-endian values the DES is run on.
Blocks here are as the card holds them (as written, as read).
"""

from __future__ import annotations

import hmac

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, modes

RC_BLOCK, MAC_BLOCK, ID_BLOCK, CKV_BLOCK, CK_BLOCK, MC_BLOCK = 0x80, 0x81, 0x82, 0x86, 0x87, 0x88


def _halves_reversed(block: bytes) -> bytes:
    """Card order <-> big-endian order of a 16-byte RC or CK block (each 8-byte half reversed)."""
    return block[7::-1] + block[15:7:-1]


def _chunks_reversed(data: bytes) -> bytes:
    return b"".join(data[i:i + 8][::-1] for i in range(0, len(data), 8))


def _des3_cbc(key: bytes, iv: bytes, data: bytes) -> bytes:
    """Two-key 3DES (K1, K2, K1), as the card runs it, given to `cryptography` as its three-key form."""
    enc = Cipher(TripleDES(key + key[:8]), modes.CBC(iv)).encryptor()
    return enc.update(data) + enc.finalize()


def card_key_block(card_key: bytes) -> bytes:
    """The 16 bytes written to the CK block for `card_key` (big-endian CK1 || CK2)."""
    return _halves_reversed(card_key)


def session_key(card_key: bytes, rc_block: bytes) -> bytes:
    """SK1 || SK2 = 3DES-CBC(CK, IV 0, RC1 || RC2)."""
    return _des3_cbc(card_key, bytes(8), _halves_reversed(rc_block))


def read_mac(card_key: bytes, rc_block: bytes, data: bytes) -> bytes:
    """The 8 MAC bytes (card order) a genuine card puts in the MAC block after the blocks `data`."""
    if len(data) % 16 or len(rc_block) != 16:
        raise ValueError("data is whole 16-byte blocks; the RC block is 16 bytes")
    rc = _halves_reversed(rc_block)
    out = _des3_cbc(session_key(card_key, rc_block), rc[:8], _chunks_reversed(data))
    return out[-8:][::-1]


def verify(card_key: bytes, rc_block: bytes, id_block: bytes, mac: bytes) -> bool:
    """Whether `mac` is the card's answer to the challenge `rc_block` over its ID block."""
    return len(mac) == 8 and hmac.compare_digest(read_mac(card_key, rc_block, id_block), mac)
