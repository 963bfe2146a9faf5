from pathlib import Path

import pytest

from orderbridge.errors import ConfigurationError
from orderbridge.settings import DEFAULT_DATABASE_URL, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DATABASE_URL", "ORDERBRIDGE_DATABASE_URL", "ORDERBRIDGE_WORKERS", "ORDERBRIDGE_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ORDERBRIDGE_CONFIG", str(tmp_path / "none.toml"))


def test_defaults_are_the_embedded_sqlite() -> None:
    settings = load_settings()
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.is_sqlite


def test_environment_beats_toml_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "orderbridge.toml"
    config.write_text('[orderbridge]\nworkers = 3\nport = 8100\n', encoding="utf-8")
    monkeypatch.setenv("ORDERBRIDGE_CONFIG", str(config))
    monkeypatch.setenv("ORDERBRIDGE_WORKERS", "7")
    settings = load_settings()
    assert settings.workers == 7
    assert settings.port == 8100


def test_plain_database_url_is_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    assert load_settings().database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("env", "value", "fragment"),
    [
        ("ORDERBRIDGE_DATABASE_URL", "postgres://u@h/db", "psycopg"),
        ("ORDERBRIDGE_DATABASE_URL", "mysql://u@h/db", "sqlite"),
        ("ORDERBRIDGE_WORKERS", "0", "ORDERBRIDGE_WORKERS"),
        ("ORDERBRIDGE_PORT", "http", "ORDERBRIDGE_PORT"),
    ],
)
def test_bad_settings_fail_with_the_setting_named(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, fragment: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigurationError, match=fragment):
        load_settings()


def test_broken_toml_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text("workers = = 3", encoding="utf-8")
    monkeypatch.setenv("ORDERBRIDGE_CONFIG", str(config))
    with pytest.raises(ConfigurationError, match="not valid TOML"):
        load_settings()


def test_every_setting_is_documented() -> None:
    from orderbridge.settings import Settings

    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [name for name in Settings.model_fields if f"`{name}`" not in doc]
    assert missing == []
