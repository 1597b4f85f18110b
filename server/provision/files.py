"""Writing credential files: whole or not at all, with their mode from the start, owned by the group that reads them."""

from __future__ import annotations

import grp
import os
from pathlib import Path


def write_file(path: Path, data: bytes | str, *, mode: int = 0o644, group: str | None = None) -> Path:
    """Write `data` to a temp file beside `path` (created with `mode`, so a key is never readable by
    others even for a moment), fsync it and rename it over `path`. Run as root, the file's group
    becomes `group` when that group exists (e.g. `mosquitto`, which reads the broker's key)."""
    if isinstance(data, str):
        data = data.encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, mode)  # the umask may have taken bits away
    gid = _group_id(group)
    if gid is not None:
        os.chown(tmp, 0, gid)
    os.replace(tmp, path)
    return path


def _group_id(group: str | None) -> int | None:
    if group is None or os.geteuid() != 0:
        return None
    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        return None


def append_line(path: Path, line: str) -> None:
    """Append one line and fsync: the certificate log is evidence, added to and never rewritten."""
    with open(path, "a", encoding="utf-8") as f:
        f.write(line.rstrip("\n") + "\n")
        f.flush()
        os.fsync(f.fileno())
