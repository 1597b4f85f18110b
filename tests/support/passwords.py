"""argon2 as the server uses it, remembering its answers within one test process.

Each argon2id hash or check takes a tenth of a second on purpose; the suite makes the same accounts
(one admin per office, one user per role per site) hundreds of times. This hasher does the real work
the first time and then gives the same answer: the hash it made for that password (real argon2id,
the server's parameters, only its salt repeats across tests), and the same verdict for a password
against a hash. Processes the tests start (`mamori …`) hash as in production.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import VerificationError

import server.accounts.passwords


class RememberingHasher:
    def __init__(self, hasher: PasswordHasher) -> None:
        self.hasher = hasher
        self.hashes: dict[str, str] = {}
        self.mismatches: dict[tuple[str, str], VerificationError] = {}
        self.matches: set[tuple[str, str]] = set()

    def hash(self, password: str) -> str:
        if password not in self.hashes:
            self.hashes[password] = self.hasher.hash(password)
        return self.hashes[password]

    def verify(self, stored_hash: str, password: str) -> bool:
        key = (stored_hash, password)
        if key not in self.matches and key not in self.mismatches:
            try:
                self.hasher.verify(stored_hash, password)
                self.matches.add(key)
            except VerificationError as exc:
                self.mismatches[key] = exc
        if key in self.mismatches:
            refusal = self.mismatches[key]
            raise type(refusal)(*refusal.args)
        return True


def remember_argon2_answers() -> None:
    if not isinstance(server.accounts.passwords._hasher, RememberingHasher):
        server.accounts.passwords._hasher = RememberingHasher(server.accounts.passwords._hasher)
