"""Secrets come from the environment or a secrets file only the owner can read."""

import os
import stat
from pathlib import Path

import pytest

from orderbridge.errors import ConfigurationError
from orderbridge.private_files import PRIVATE_FILE_MODE, write_private
from orderbridge.settings import load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DATABASE_URL", "ORDERBRIDGE_DATABASE_URL", "ORDERBRIDGE_SECRET_KEY",
                 "ORDERBRIDGE_TIKTOK_APP_SECRET", "ORDERBRIDGE_SECRETS_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ORDERBRIDGE_CONFIG", "")
    monkeypatch.chdir(tmp_path)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_private_creates_0600_and_narrows_an_existing_file(tmp_path: Path) -> None:
    fresh = tmp_path / "new.toml"
    write_private(fresh, 'secret_key = "k"\n')
    assert _mode(fresh) == PRIVATE_FILE_MODE
    loose = tmp_path / "loose.toml"
    loose.write_text("old", encoding="utf-8")
    loose.chmod(0o644)
    write_private(loose, "new")
    assert (_mode(loose), loose.read_text(encoding="utf-8")) == (PRIVATE_FILE_MODE, "new")


def test_the_config_names_its_secrets_file_and_the_environment_wins(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    (config_dir / "orderbridge.toml").write_text('secrets_file = "ob.secrets.toml"\nworkers = 3\n', encoding="utf-8")
    write_private(config_dir / "ob.secrets.toml", 'tiktok_app_secret = "from-file"\nsecret_key = "k1"\n')
    monkeypatch.setenv("ORDERBRIDGE_CONFIG", str(config_dir / "orderbridge.toml"))
    settings = load_settings()
    assert (settings.tiktok_app_secret, settings.secret_key, settings.workers) == ("from-file", "k1", 3)
    monkeypatch.setenv("ORDERBRIDGE_SECRET_KEY", "k-env")
    assert load_settings().secret_key == "k-env"


def test_the_default_secrets_file_is_read_when_present(tmp_path: Path) -> None:
    assert load_settings().shopify_client_secret is None
    write_private(tmp_path / "orderbridge.secrets.toml", 'shopify_client_secret = "shpss_x"\n')
    assert load_settings().shopify_client_secret == "shpss_x"


def test_a_secrets_file_others_can_read_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text('secret_key = "k"\n', encoding="utf-8")
    os.chmod(path, 0o644)
    monkeypatch.setenv("ORDERBRIDGE_SECRETS_FILE", str(path))
    with pytest.raises(ConfigurationError, match=r"can be read by others \(mode 644\).*chmod 600"):
        load_settings()


def test_a_secrets_file_holds_secrets_only_and_a_named_one_must_exist(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    write_private(path, 'workers = 3\n')
    monkeypatch.setenv("ORDERBRIDGE_SECRETS_FILE", str(path))
    with pytest.raises(ConfigurationError, match=r"unknown key 'workers'.*valid keys: .*database_url, secret_key"):
        load_settings()
    monkeypatch.setenv("ORDERBRIDGE_SECRETS_FILE", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigurationError, match="ORDERBRIDGE_SECRETS_FILE"):
        load_settings()
