"""`mamori cards provision`: give a blank card its keys, on an nfcpy reader attached to the server.

FeliCa Lite-S: the card key is diversified from the office master key by the card's IDm
(server/card_keys/keyfile.py); it is written in the clear to the blank card (as Sony's first issuance
does, on a reader in the office), checked with a fresh challenge, and the system blocks are then made
read-only so nobody can change or read it back. NTAG 424 DNA: `ntag424_setup.py`, under EV2 secure
messaging with the factory key.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from server.card_keys import ev2, felica, ntag424_setup
from server.card_keys.keyfile import OfficeKeys

# MC block: byte 2 = 00 makes ID, D_ID, SER_C, CKV and CK read-only ("first issuance" done); byte 3 bit 0
# keeps the card's NDEF flag as it was; the rest keep their factory values.
SYSTEM_BLOCKS_LOCKED = 0x00


class ProvisionError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Provisioned:
    uid: str
    kind: str


def provision_felica_lite_s(tag, keys: OfficeKeys) -> Provisioned:
    """Write the card's diversified key to a blank FeliCa Lite-S (an nfcpy `FelicaLiteS`), check it answers a
    challenge with it, then lock its system blocks."""
    if type(tag).__name__ != "FelicaLiteS":
        raise ProvisionError(f"neither a FeliCa Lite-S nor an NTAG 424 DNA: {tag}")
    idm = bytes(tag.idm)
    mc = tag.read_without_mac(felica.MC_BLOCK)
    if mc[2] != 0xFF:
        raise ProvisionError("this card's system blocks are locked already: it was provisioned (or issued) before")
    card_key = keys.felica_card_key(idm)
    tag.write_without_mac(bytes(16), felica.CKV_BLOCK)  # key version 0: the first key mamori gives it
    tag.write_without_mac(felica.card_key_block(card_key), felica.CK_BLOCK)
    _check(tag, card_key, idm)
    mc[2] = SYSTEM_BLOCKS_LOCKED
    tag.write_without_mac(bytes(mc), felica.MC_BLOCK)
    return Provisioned(idm.hex().upper(), "felica_lite_s_mac")


def _check(tag, card_key: bytes, idm: bytes) -> None:
    rc = os.urandom(16)
    tag.write_without_mac(rc, felica.RC_BLOCK)
    data = tag.read_without_mac(felica.ID_BLOCK, felica.MAC_BLOCK)
    if bytes(data[:8]) != idm or not felica.verify(card_key, rc, bytes(data[:16]), bytes(data[16:24])):
        raise ProvisionError("the card did not answer a challenge with the key just written: it is not a blank "
                             "FeliCa Lite-S, or it was moved away; try again")


def provision_on(device: str, keys: OfficeKeys, *, timeout_s: float = 30.0,
                 clf_factory: Callable | None = None) -> Provisioned:
    """Wait (up to `timeout_s`) for a card on the nfcpy reader at `device`, and provision it."""
    import time

    import nfc

    clf = (clf_factory or nfc.ContactlessFrontend)(device)
    try:
        deadline = time.monotonic() + timeout_s
        tag = clf.connect(rdwr={"targets": ["212F", "106A"], "on-connect": lambda tag: False,
                                "beep-on-connect": False}, terminate=lambda: time.monotonic() > deadline)
        if not tag:
            raise ProvisionError(f"no card was held to the reader at {device} within {timeout_s:.0f} s")
        if type(tag).__name__ == "Type4ATag":
            try:
                return Provisioned(ntag424_setup.provision(tag, keys), "ntag424_sun")
            except (ntag424_setup.NotBlank, ev2.SecureMessagingError, nfc.tag.TagCommandError) as exc:
                raise ProvisionError(f"NTAG 424 DNA: {exc}") from None
        return provision_felica_lite_s(tag, keys)
    finally:
        clf.close()
