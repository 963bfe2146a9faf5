"""Tokens at rest: Fernet encryption under ``ORDERBRIDGE_SECRET_KEY``.

The key setting holds one Fernet key, or several separated by commas for rotation: the
first encrypts, all of them decrypt (``MultiFernet``). To rotate, put the new key first,
keep the old one after it, run ``TokenCipher.rotate`` over stored values (or let tokens be
rewritten as they refresh), then drop the old key.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from orderbridge.errors import ConfigurationError

__all__ = ["SECRET_KEY_SETTING", "TokenCipher", "generate_key"]

SECRET_KEY_SETTING = "ORDERBRIDGE_SECRET_KEY"
_HOW_TO_GENERATE = (
    f"generate one with `orderbridge keygen` and set {SECRET_KEY_SETTING} to it "
    "(several keys separated by commas rotate: the first encrypts, all decrypt)"
)


def generate_key() -> str:
    """A fresh Fernet key (32 random bytes, url-safe base64), as ``orderbridge keygen`` prints."""
    return Fernet.generate_key().decode("ascii")


class TokenCipher:
    """Encrypts and decrypts secrets (OAuth tokens) with the configured key(s)."""

    def __init__(self, key: str | None) -> None:
        if key is None or not key.strip():
            raise ConfigurationError(
                f"{SECRET_KEY_SETTING} is not set: it encrypts the shops' tokens at rest; "
                + _HOW_TO_GENERATE
            )
        fernets: list[Fernet] = []
        for position, part in enumerate(key.split(","), start=1):
            part = part.strip()
            try:
                fernets.append(Fernet(part.encode("ascii")))
            except (ValueError, UnicodeEncodeError) as exc:
                raise ConfigurationError(
                    f"{SECRET_KEY_SETTING}: key #{position} is not a Fernet key "
                    f"(32 url-safe base64-encoded bytes); {_HOW_TO_GENERATE}"
                ) from exc
        self._fernet = MultiFernet(fernets)

    def encrypt(self, plaintext: str) -> str:
        """Ciphertext (ASCII) for ``plaintext``, under the first key."""
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        """The plaintext of ``ciphertext``; ConfigurationError if no configured key opens it."""
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError) as exc:
            raise ConfigurationError(
                f"a stored token cannot be decrypted with {SECRET_KEY_SETTING}: the key changed? "
                "Put the new key first and the old one after it, comma-separated"
            ) from exc

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt ``ciphertext`` under the first key (for key rotation)."""
        try:
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeEncodeError) as exc:
            raise ConfigurationError(
                f"a stored token cannot be decrypted with {SECRET_KEY_SETTING}"
            ) from exc

    def encrypt_optional(self, plaintext: str | None) -> str | None:
        """``encrypt`` that passes ``None`` through."""
        return None if plaintext is None else self.encrypt(plaintext)

    def decrypt_optional(self, ciphertext: str | None) -> str | None:
        """``decrypt`` that passes ``None`` through."""
        return None if ciphertext is None else self.decrypt(ciphertext)

    def __repr__(self) -> str:  # never show keys
        return "TokenCipher(<keys hidden>)"
