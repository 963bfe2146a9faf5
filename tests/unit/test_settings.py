from pathlib import Path

import pytest

from orderbridge.errors import ConfigurationError
from orderbridge.settings import DEFAULT_DATABASE_URL, load_settings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("DATABASE_URL", "ORDERBRIDGE_DATABASE_URL", "ORDERBRIDGE_WORKERS", "ORDERBRIDGE_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ORDERBRIDGE_CONFIG", "")


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


def test_an_unknown_key_in_the_toml_file_names_the_file_and_the_valid_keys(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "orderbridge.toml"
    config.write_text("wokers = 3\n", encoding="utf-8")
    monkeypatch.setenv("ORDERBRIDGE_CONFIG", str(config))
    with pytest.raises(ConfigurationError) as caught:
        load_settings()
    message = str(caught.value)
    assert str(config) in message
    assert "'wokers' (did you mean 'workers'?)" in message
    assert "valid keys: " in message
    assert "database_url" in message
    assert "poll_interval_seconds" in message
    assert "\n" not in message


def test_unknown_keys_in_the_orderbridge_table_are_refused_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "orderbridge.toml"
    config.write_text("[orderbridge]\nworkers = 2\nzzz = 1\nqqq = 2\n", encoding="utf-8")
    monkeypatch.setenv("ORDERBRIDGE_CONFIG", str(config))
    with pytest.raises(ConfigurationError, match="unknown keys 'zzz', 'qqq'; valid keys"):
        load_settings()


def test_a_named_config_file_that_is_missing_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ORDERBRIDGE_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigurationError, match=r"missing\.toml \(ORDERBRIDGE_CONFIG\) does not exist"):
        load_settings()


def test_the_default_config_file_may_be_absent_and_an_empty_name_means_none(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no orderbridge.toml here
    monkeypatch.delenv("ORDERBRIDGE_CONFIG")
    assert load_settings().workers == 4
    (tmp_path / "orderbridge.toml").write_text("workers = 9\n", encoding="utf-8")
    assert load_settings().workers == 9
    monkeypatch.setenv("ORDERBRIDGE_CONFIG", "")
    assert load_settings().workers == 4


def test_several_bad_values_are_one_line() -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_settings(workers=0, port=0)
    assert "ORDERBRIDGE_WORKERS" in str(caught.value)
    assert "ORDERBRIDGE_PORT" in str(caught.value)
    assert "\n" not in str(caught.value)
