"""The seed's password rule (8) and argon2id hashing."""

from __future__ import annotations

import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters

_CLASSES = {
    "upper": ("大文字", "an upper-case letter", lambda c: c in string.ascii_uppercase),
    "lower": ("小文字", "a lower-case letter", lambda c: c in string.ascii_lowercase),
    "digit": ("数字", "a digit", lambda c: c in string.digits),
    "symbol": ("記号", "a symbol", lambda c: not c.isalnum() and not c.isspace()),
}


def password_problems(password: str) -> list[str]:
    """What keeps `password` from meeting the rule (≥ 10 characters, 3 of 4 classes); empty if it does."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"at least {MIN_LENGTH} characters (this one has {len(password)})")
    missing = [english for _ja, english, test in _CLASSES.values() if not any(test(c) for c in password)]
    if len(missing) > 1:
        problems.append("characters of at least 3 of 4 kinds; add " + " or ".join(missing))
    return problems


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
