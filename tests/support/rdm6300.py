"""An RDM6300 stand-in: a pty whose far end the real serial reader opens, and frames to write into it."""

from __future__ import annotations

import os
import pty
import tty
from functools import reduce


def frame(uid: str, *, checksum: int | None = None) -> bytes:
    """The module's frame for a 10-hex-digit EM4100 id: STX, 10 hex, 2 hex XOR checksum, ETX."""
    data = bytes.fromhex(uid)
    check = reduce(lambda a, b: a ^ b, data) if checksum is None else checksum
    return b"\x02" + uid.upper().encode("ascii") + f"{check:02X}".encode("ascii") + b"\x03"


class FobField:
    """The module's serial line: the test writes frames, the reader under test reads `port`."""

    def __init__(self):
        self.master, self._slave = pty.openpty()
        tty.setraw(self._slave)  # no echo or line editing: the module's bytes arrive as they are
        self.port = os.ttyname(self._slave)

    def write(self, data: bytes) -> None:
        os.write(self.master, data)

    def tap(self, uid: str) -> None:
        self.write(frame(uid))

    def close(self) -> None:
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
