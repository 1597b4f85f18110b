"""AES-128 as the card protocols use it, from `cryptography`: CBC without padding, one ECB block, CMAC."""

from __future__ import annotations

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.cmac import CMAC


def aes_cbc(key: bytes, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    op = cipher.encryptor() if encrypt else cipher.decryptor()
    return op.update(data) + op.finalize()


def aes_ecb(key: bytes, block: bytes) -> bytes:
    op = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return op.update(block) + op.finalize()


def cmac(key: bytes, data: bytes) -> bytes:
    mac = CMAC(algorithms.AES(key))
    mac.update(data)
    return mac.finalize()
