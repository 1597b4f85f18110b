"""What `mamori cards provision` writes to a blank NTAG 424 DNA: the NDEF URL template its SUN messages are
mirrored into, its file settings (SDM on), and its keys; over EV2 secure messaging (`ev2.py`)."""

from __future__ import annotations

from server.card_keys import ev2
from server.card_keys.keyfile import OfficeKeys

NDEF_AID = bytes.fromhex("D2760000850101")
NDEF_FILE_ID, NDEF_FILE_NO = b"\xe1\x04", 0x02
META_KEY_NO, FILE_KEY_NO = 1, 2  # SDMMetaReadKey, SDMFileReadKey
KEY_VERSION = 0x01
# Where a phone would go; mamori needs only the query. `e` and `c` are mirrored over the zeros at each read.
SUN_URL_TEMPLATE = "https://mamori.invalid/t?e=" + "0" * 32 + "&c=" + "0" * 16


class NotBlank(RuntimeError):
    pass


def ndef_file(url: str) -> bytes:
    """The NDEF file holding one URI record (NLEN, then the record), 256 bytes."""
    assert url.startswith("https://")
    payload = b"\x04" + url[len("https://"):].encode("ascii")  # URI identifier code 04: "https://"
    message = bytes([0xD1, 0x01, len(payload)]) + b"U" + payload  # MB ME SR, TNF well-known, type "U"
    data = len(message).to_bytes(2, "big") + message
    return data + bytes(256 - len(data))


def sun_offsets(file: bytes) -> tuple[int, int]:
    """PICCDataOffset and SDMMACOffset (= SDMMACInputOffset: the MAC over nothing) in the NDEF file."""
    return file.index(b"?e=") + 3, file.index(b"&c=") + 3


def sdm_settings(picc_offset: int, mac_offset: int) -> bytes:
    """ChangeFileSettings data for the NDEF file (NT4H2421Gx §10.7.1): plain, SDM on; read free, write and
    change with key 0; UID and SDMReadCtr mirrored as ASCII into encrypted PICCData (SDMMetaRead key 1),
    SDMMAC under key 2 over nothing; the counter readable by nobody unauthenticated (SDMCtrRet F)."""
    file_option = 0x40  # SDM enabled, CommMode plain
    access = bytes([0x00, 0xE0])  # RW 0 | Change 0, Read E | Write 0 (least significant byte first)
    sdm_options = 0xC1  # UID mirror, SDMReadCtr mirror, ASCII encoding
    sdm_access = bytes([0xFF, META_KEY_NO << 4 | FILE_KEY_NO])  # RFU F | CtrRet F, MetaRead | FileRead
    offsets = b"".join(n.to_bytes(3, "little") for n in (picc_offset, mac_offset, mac_offset))
    return bytes([file_option]) + access + bytes([sdm_options]) + sdm_access + offsets


def change_key(session: ev2.Session, key_no: int, new: bytes, old: bytes = bytes(16)) -> bytes:
    """ChangeKey's data field: key 0 (the one authenticated with) as itself; another XORed with its old value
    and followed by the CRC32 of the new one."""
    if key_no == 0:
        data = new + bytes([KEY_VERSION])
    else:
        data = bytes(a ^ b for a, b in zip(new, old)) + bytes([KEY_VERSION]) + ev2.crc32_nk(new)
    return session.command(0xC4, bytes([key_no]), data)


def provision(tag, keys: OfficeKeys) -> str:
    """Give a blank NTAG 424 DNA (an nfcpy Type4Tag) mamori's SUN settings and keys; its UID (hex)."""
    import os

    import nfc.tag

    uid = bytes(tag.identifier)

    def native(cmd: int, data: bytes = b"") -> tuple[int, bytes]:
        answer = tag.send_apdu(0x90, cmd, 0x00, 0x00, data or None, mrl=256, check_status=False)
        if len(answer) < 2 or answer[-2] != 0x91:
            raise ev2.SecureMessagingError(f"command {cmd:02X}: the tag answered {bytes(answer[-2:]).hex()}")
        return answer[-1], bytes(answer[:-2])

    tag.send_apdu(0x00, 0xA4, 0x04, 0x00, NDEF_AID, mrl=256)
    # The URL template first, with ISO UPDATE BINARY: a blank tag's NDEF file may be written by anyone.
    template = ndef_file(SUN_URL_TEMPLATE)
    used = 2 + int.from_bytes(template[:2], "big")
    tag.send_apdu(0x00, 0xA4, 0x00, 0x0C, NDEF_FILE_ID)
    try:
        for offset in range(0, used, 96):
            tag.send_apdu(0x00, 0xD6, offset >> 8, offset & 0xFF, template[offset:min(used, offset + 96)])
    except nfc.tag.TagCommandError as exc:
        raise NotBlank(f"its NDEF file cannot be written freely ({exc}): it was provisioned before") from None
    status, enc_rnd_b = native(0x71, bytes([0x00, 0x00]))  # AuthenticateEV2First with key 0, no capabilities
    rnd_a = os.urandom(16)
    part2, rnd_b = ev2.first_part2(bytes(16), enc_rnd_b, rnd_a)
    status, answer = native(0xAF, part2)
    if status != 0x00:
        raise NotBlank("the tag refused its factory key: it was provisioned before (by mamori or another system)")
    session = ev2.Session.finish(bytes(16), rnd_a, rnd_b, answer)
    session.response(*native(0x5F, session.command(0x5F, bytes([NDEF_FILE_NO]), sdm_settings(*sun_offsets(template)))))
    session.response(*native(0xC4, change_key(session, META_KEY_NO, keys.ntag424_meta_key)))
    session.response(*native(0xC4, change_key(session, FILE_KEY_NO, keys.ntag424_file_key(uid))))
    status, _ = native(0xC4, change_key(session, 0, keys.ntag424_app_key(uid)))  # ends the session: no MAC
    if status != 0x00:
        raise ev2.SecureMessagingError(f"the tag refused its new key 0 ({status:02X})")
    return uid.hex().upper()
