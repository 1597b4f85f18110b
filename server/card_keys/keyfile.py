"""The office's card master keys: one JSON file on the server, never in the database, never sent to
a reader (docs/card-auth.md: making it, backing it up)."""

from __future__ import annotations

import json
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from server.card_keys.diversify import diversified_key

FIELDS = ("ntag424_meta_key", "ntag424_file_master_key", "felica_master_key")


class KeyFileError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class OfficeKeys:
    ntag424_meta_key: bytes  # SDMMetaReadKey, the same on every tag: PICCData is read before the UID is known
    ntag424_file_master_key: bytes  # each tag's SDMFileReadKey is diversified from it
    felica_master_key: bytes  # each FeliCa Lite-S card key is diversified from it

    def ntag424_file_key(self, uid: bytes) -> bytes:
        return diversified_key(self.ntag424_file_master_key, uid, b"SDMFileRead")

    def ntag424_app_key(self, uid: bytes) -> bytes:
        """The tag's application master key (key 0): it alone may change the tag's keys and settings."""
        return diversified_key(self.ntag424_file_master_key, uid, b"AppMaster")

    def felica_card_key(self, idm: bytes) -> bytes:
        return diversified_key(self.felica_master_key, idm, b"FeliCaCK")

    def to_json(self) -> str:
        return json.dumps({f: getattr(self, f).hex() for f in FIELDS}, indent=2) + "\n"


def generate() -> OfficeKeys:
    return OfficeKeys(*(secrets.token_bytes(16) for _ in FIELDS))


def load(path: str | Path) -> OfficeKeys:
    """The keys in `path`; KeyFileError naming what is wrong (missing, readable by others, malformed)."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeyFileError(f"cannot read the card key file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(f"the card key file {path} is readable by others: chmod 600 {path}")
    try:
        data = json.loads(text)
        return OfficeKeys(*(_key(data, f) for f in FIELDS))
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"the card key file {path} is not as `mamori cards keygen` writes it: {exc}") from None


def write_new(path: str | Path) -> OfficeKeys:
    """Make new keys into a new file (mode 600); refuses to overwrite: old keys are what the tags hold."""
    keys = generate()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(keys.to_json())
    return keys


def _key(data: dict, field: str) -> bytes:
    value = bytes.fromhex(data[field]) if isinstance(data, dict) and field in data else None
    if value is None or len(value) != 16:
        raise ValueError(f"{field} must be 32 hex digits")
    return value
