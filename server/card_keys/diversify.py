"""Per-tag keys from an office master key: NXP AN10922, AES-128 with CMAC.

A copied tag needs its own key; one leaked tag key opens no other tag. The master key never
leaves the server: readers and tags only ever see diversified keys.
"""

from __future__ import annotations

from server.card_keys.aes import cmac

SYSTEM_ID = b"mamori"  # AN10922's "system identifier": keys of another system never collide with ours


def diversified_key(master: bytes, uid: bytes, purpose: bytes = b"", system: bytes = SYSTEM_ID) -> bytes:
    """AN10922 §2.2: CMAC(master, 0x01 || UID || purpose || system), padded to 32 bytes.

    AN10922 pads the input to two AES blocks and, padded, takes CMAC's K2 subkey: for an input of
    17 to 31 bytes that is exactly the standard CMAC of the unpadded input, which is what we compute
    (and why the input must be that long).
    """
    if len(master) != 16:
        raise ValueError("an AES-128 master key is 16 bytes")
    data = b"\x01" + uid + purpose + system
    if not 17 <= len(data) <= 32:
        raise ValueError(f"diversification input must be 17-32 bytes (AN10922), not {len(data)}")
    return cmac(master, data)
