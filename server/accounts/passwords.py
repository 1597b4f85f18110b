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


def password_problems(password: str, lang: str = "en") -> list[str]:
    """What keeps `password` from meeting the rule (≥ 10 characters, 3 of 4 classes); empty if it does."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"{MIN_LENGTH}文字以上にしてください（現在 {len(password)} 文字）" if lang == "ja" else
                        f"at least {MIN_LENGTH} characters (this one has {len(password)})")
    missing = [(ja, english) for ja, english, test in _CLASSES.values() if not any(test(c) for c in password)]
    if len(missing) > 1:
        if lang == "ja":
            problems.append("大文字・小文字・数字・記号のうち3種類以上を使ってください（" +
                            "・".join(ja for ja, _ in missing) + "が含まれていません）")
        else:
            problems.append("characters of at least 3 of 4 kinds; add " + " or ".join(en for _, en in missing))
    return problems


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False
