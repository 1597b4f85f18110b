"""NTAG 424 DNA Secure Unique NFC (SUN) messages: NXP NT4H2421Gx §9.3 and AN12196 §3.

The tag's NDEF URL carries `e=` (PICCData: UID and SDMReadCtr, AES-CBC under SDMMetaReadKey) and
`c=` (SDMMAC: a CMAC under a session key derived, SV2, from the SDMFileReadKey, the UID and the
counter). The server decrypts `e`, derives the tag's file key from the office master key and the
UID, and checks `c`. The counter goes up at every read: a copied message is an old counter.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from server.card_keys.aes import aes_cbc, cmac

PICC_TAG_UID_CTR = 0xC7  # PICCDataTag: UID mirrored (bit 7), counter mirrored (bit 6), UID length 7
_SV2_HEAD = bytes.fromhex("3CC300010080")  # SV2 = 3C C3 00 01 00 80 || UID || SDMReadCtr (LSB first)


class SunError(ValueError):
    """A SUN message that does not verify; `why` is a short code for the ledger."""

    def __init__(self, why: str):
        super().__init__(why)
        self.why = why


@dataclass(frozen=True, slots=True)
class PiccData:
    uid: bytes  # 7 bytes
    counter: int  # SDMReadCtr, 24 bits


def decrypt_picc(meta_key: bytes, e: bytes) -> PiccData:
    """PICCData from `e` (16 bytes), or SunError when it is not ours."""
    if len(e) != 16:
        raise SunError("picc_length")
    plain = aes_cbc(meta_key, bytes(16), e, encrypt=False)
    if plain[0] != PICC_TAG_UID_CTR:
        raise SunError("picc_tag")  # a wrong meta key decrypts to noise
    return PiccData(uid=plain[1:8], counter=int.from_bytes(plain[8:11], "little"))


def encrypt_picc(meta_key: bytes, picc: PiccData, padding: bytes) -> bytes:
    """What a tag mirrors as `e`: the tag fills the block's last 5 bytes with random padding."""
    plain = bytes([PICC_TAG_UID_CTR]) + picc.uid + picc.counter.to_bytes(3, "little") + padding
    return aes_cbc(meta_key, bytes(16), plain, encrypt=True)


def session_mac_key(file_key: bytes, picc: PiccData) -> bytes:
    """KSesSDMFileReadMAC = CMAC(SDMFileReadKey, SV2)."""
    return cmac(file_key, _SV2_HEAD + picc.uid + picc.counter.to_bytes(3, "little"))


def sdm_mac(file_key: bytes, picc: PiccData, mac_input: bytes = b"") -> bytes:
    """SDMMAC: the CMAC's odd bytes (MACt, 8 bytes) over the mirrored data between SDMMACInputOffset and
    SDMMACOffset (empty when, as we provision, the two offsets are the same)."""
    return cmac(session_mac_key(file_key, picc), mac_input)[1::2]


def verify(meta_key: bytes, file_key_for, e: bytes, c: bytes, uid: bytes) -> PiccData:
    """The PICCData of a genuine message read from the tag `uid`, or SunError.

    `file_key_for(uid)` gives the tag's SDMFileReadKey (diversified from the office master key).
    """
    picc = decrypt_picc(meta_key, e)
    if picc.uid != uid:
        raise SunError("uid_mismatch")  # a message copied onto a tag with another UID
    if len(c) != 8 or not hmac.compare_digest(sdm_mac(file_key_for(picc.uid), picc), c):
        raise SunError("bad_mac")
    return picc
