"""Pieces of ``orderbridge play`` and ``connect sandbox --write-config`` that need no sandbox."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import typer

from orderbridge.cli.connect import _write_sandbox_config
from orderbridge.cli.play import parse_duration


@pytest.mark.parametrize(("text", "seconds"), [
    ("3600", 3600.0), ("90.5", 90.5), ("30m", 1800.0), ("1h", 3600.0), ("1h30m", 5400.0), ("2d", 172800.0),
    (" 1H ", 3600.0), ("10s", 10.0),
])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "h", "1x", "1h 30m", "-5", "1h30", "soon"])
def test_bad_durations_are_clear_errors(text: str) -> None:
    with pytest.raises(typer.BadParameter, match="is not a duration"):
        parse_duration(text)


def test_write_config_keeps_the_other_keys(tmp_path: Path) -> None:
    path = tmp_path / "orderbridge.toml"
    path.write_text('[orderbridge]\nworkers = 8\ntiktok_api_base = "http://old"\n', encoding="utf-8")
    _write_sandbox_config(path, {"tiktok_api_base": "http://127.0.0.1:9001",
                                 "clock_source": "sandbox:http://127.0.0.1:9000"})
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {
        "workers": 8, "tiktok_api_base": "http://127.0.0.1:9001", "clock_source": "sandbox:http://127.0.0.1:9000",
        "secrets_file": "orderbridge.secrets.toml"}


def test_write_config_creates_the_file(tmp_path: Path) -> None:
    path = tmp_path / "new.toml"
    _write_sandbox_config(path, {"secret_key": "k=", "port": 8000, "tiktok_app_secret": "s"})
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {"port": 8000, "secrets_file": "new.secrets.toml"}
    secrets = tmp_path / "new.secrets.toml"
    assert tomllib.loads(secrets.read_text(encoding="utf-8")) == {"secret_key": "k=", "tiktok_app_secret": "s"}
    assert secrets.stat().st_mode & 0o777 == 0o600  # no secret in the config file, the secrets file private


def test_write_config_moves_secrets_out_of_an_existing_config(tmp_path: Path) -> None:
    path = tmp_path / "orderbridge.toml"
    path.write_text('shopify_client_secret = "old"\nworkers = 2\n', encoding="utf-8")
    _write_sandbox_config(path, {"port": 8000})
    assert "old" not in path.read_text(encoding="utf-8")
    assert tomllib.loads((tmp_path / "orderbridge.secrets.toml").read_text(encoding="utf-8")) == {
        "shopify_client_secret": "old"}
