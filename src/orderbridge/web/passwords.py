"""Dashboard passwords: argon2id hashes (argon2-cffi's defaults, RFC 9106's second profile).

``check`` takes the same time whether or not the user exists (an unknown user is checked
against a dummy hash), and says when a stored hash was made with older parameters so the
caller can store a fresh one at sign-in.
"""

from __future__ import annotations

from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ["MAX_LENGTH", "MIN_LENGTH", "check", "hash_password", "problem"]

MIN_LENGTH: Final = 12
MAX_LENGTH: Final = 1024  # bounded: hashing a megabyte per request is a denial of service
_HASHER: Final = PasswordHasher()
_DUMMY: Final = _HASHER.hash("an unknown user never signs in with this")


def problem(password: str) -> str | None:
    """Why ``password`` may not be used, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    return None


def hash_password(password: str) -> str:
    """The stored form of ``password``."""
    return _HASHER.hash(password)


def check(stored: str | None, password: str) -> tuple[bool, str | None]:
    """(whether ``password`` matches ``stored``, a fresh hash to store if the old one's
    parameters are outdated). ``stored`` None (no such user, or no password set) never
    matches but costs the same time."""
    if len(password) > MAX_LENGTH:
        return False, None
    try:
        _HASHER.verify(stored or _DUMMY, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, None
    if stored is None:
        return False, None
    return True, (_HASHER.hash(password) if _HASHER.check_needs_rehash(stored) else None)
