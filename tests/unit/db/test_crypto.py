"""TokenCipher: Fernet at rest, clear configuration errors, rotation."""

from __future__ import annotations

import pytest

from orderbridge.adapters.db.crypto import TokenCipher, generate_key
from orderbridge.errors import ConfigurationError


def test_round_trip_and_ciphertext_hides_plaintext() -> None:
    cipher = TokenCipher(generate_key())
    token = cipher.encrypt("shpat_0123456789")
    assert "shpat" not in token
    assert cipher.decrypt(token) == "shpat_0123456789"
    assert cipher.encrypt_optional(None) is None
    assert cipher.decrypt_optional(None) is None


@pytest.mark.parametrize("key", [None, "", "   "])
def test_missing_key_names_the_setting_and_keygen(key: str | None) -> None:
    with pytest.raises(ConfigurationError, match=r"ORDERBRIDGE_SECRET_KEY.*orderbridge keygen"):
        TokenCipher(key)


@pytest.mark.parametrize("key", ["not-a-key", "abc,def", "é" * 44])
def test_malformed_key_names_the_setting(key: str) -> None:
    with pytest.raises(ConfigurationError, match=r"ORDERBRIDGE_SECRET_KEY: key #1.*orderbridge keygen"):
        TokenCipher(key)


def test_second_malformed_key_is_reported_by_position() -> None:
    with pytest.raises(ConfigurationError, match="key #2"):
        TokenCipher(f"{generate_key()},nope")


def test_rotation_first_key_encrypts_all_decrypt() -> None:
    old, new = generate_key(), generate_key()
    stored = TokenCipher(old).encrypt("refresh-token")
    rotating = TokenCipher(f"{new}, {old}")
    assert rotating.decrypt(stored) == "refresh-token"
    rotated = rotating.rotate(stored)
    assert TokenCipher(new).decrypt(rotated) == "refresh-token"
    with pytest.raises(ConfigurationError):
        TokenCipher(old).decrypt(rotating.encrypt("x"))


def test_wrong_key_is_a_configuration_error_not_a_crash() -> None:
    stored = TokenCipher(generate_key()).encrypt("t")
    with pytest.raises(ConfigurationError, match="cannot be decrypted"):
        TokenCipher(generate_key()).decrypt(stored)
    with pytest.raises(ConfigurationError):
        TokenCipher(generate_key()).rotate(stored)


def test_repr_hides_keys() -> None:
    key = generate_key()
    assert key not in repr(TokenCipher(key))
