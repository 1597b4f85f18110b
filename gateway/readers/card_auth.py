"""What a tag says, on the reader, to prove it is not a copy: read once per tap, checked by the server.

- NTAG 424 DNA (a Type 4 tag): its NDEF URL, read as any phone reads it, mirrors a Secure Unique
  NFC message (`e=` encrypted UID and read counter, `c=` a CMAC); the tag makes a new one at every read.
- FeliCa Lite-S: the reader writes a fresh random challenge to the RC block and reads the ID block
  with the MAC block; only a card holding its card key can answer.

The reader holds no key: a stolen reader can forge no read (docs/card-auth.md, "Trust").
"""

from __future__ import annotations

import logging
import os
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

RC_BLOCK, MAC_BLOCK, ID_BLOCK = 0x80, 0x81, 0x82


def read_auth(tag) -> dict | None:
    """The scan's `auth` for an NTAG 424 DNA or a FeliCa Lite-S, or None (another tag, or a failed read)."""
    import nfc.clf
    import nfc.tag

    kind = type(tag).__name__

    try:
        if kind == "FelicaLiteS":
            return _felica_lite_s(tag)
        if kind == "Type4ATag":
            return _sun(tag)
    except (nfc.tag.TagCommandError, nfc.clf.CommunicationError) as exc:
        # Taken away mid-read: the scan goes without; the server decides whether that is allowed.
        log.warning("could not read the authentication of %s: %s", tag, exc)
    return None


def _felica_lite_s(tag) -> dict:
    rc = os.urandom(16)
    tag.write_without_mac(rc, RC_BLOCK)
    data = tag.read_without_mac(ID_BLOCK, MAC_BLOCK)
    return {"kind": "felica_lite_s_mac", "rc": rc.hex().upper(), "id": bytes(data[0:16]).hex().upper(),
            "mac": bytes(data[16:24]).hex().upper()}


def _sun(tag) -> dict | None:
    ndef = tag.ndef  # nfcpy selects the NDEF application and reads the file: the tag counts one read
    if ndef is None:
        return None
    for record in ndef.records:
        iri = getattr(record, "iri", None)  # as the tag holds it (ndeflib's `uri` is percent-encoded)
        if not iri:
            continue
        query = parse_qs(urlsplit(iri).query)
        e, c = query.get("e", [None])[0], query.get("c", [None])[0]
        if e and c and len(e) == 32 and len(c) == 16:
            return {"kind": "ntag424_sun", "e": e.upper(), "c": c.upper()}
    return None
