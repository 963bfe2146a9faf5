"""CLI conventions, run as an operator would (subprocesses): --version, one-line errors with
documented exit codes, read commands that never create a database, `run` on a current
schema only."""

import os
import socket
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from orderbridge.adapters.db import migrate

READ_COMMANDS = [["status"], ["order", "576001"], ["connections"], ["policy", "show"],
                 ["user", "list"], ["token", "list"], ["cancellations"],
                 ["cancellations", "approve", "576001"]]


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERBRIDGE_") and k != "DATABASE_URL"}
    env.update(ORDERBRIDGE_CONFIG="", COLUMNS="200")
    env.update(extra)
    return env


def _ob(env: dict[str, str], *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orderbridge", *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env, cwd=cwd)


def _one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_version_flag_prints_the_package_metadata_version(tmp_path: Path) -> None:
    result = _ob(_env(tmp_path), "--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"orderbridge {version('orderbridge')}"


@pytest.mark.parametrize("command", READ_COMMANDS, ids=" ".join)
def test_read_commands_never_create_a_database(tmp_path: Path, command: list[str]) -> None:
    line = _one_line_error(_ob(_env(tmp_path), *command, cwd=tmp_path), 2)
    assert f"no database at {tmp_path / 'orderbridge.db'}; run `orderbridge db upgrade`" in line
    assert list(tmp_path.iterdir()) == []


def test_run_refuses_a_database_behind_the_current_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ob.db'}"
    migrate.upgrade(url, "0001")
    env = _env(tmp_path, ORDERBRIDGE_DATABASE_URL=url)
    line = _one_line_error(_ob(env, "run", "--role", "worker"), 2)
    assert "revision 0001" in line
    assert "run `orderbridge db upgrade`" in line
    assert migrate.current(url) == "0001"  # not migrated behind the operator's back
    done = _ob(env, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert migrate.current(url) == migrate.head()
    listed = _ob(env, "user", "list")
    assert listed.returncode == 0, listed.stderr


def test_an_unknown_config_key_is_one_line_naming_the_file_and_the_valid_keys(tmp_path: Path) -> None:
    config = tmp_path / "orderbridge.toml"
    config.write_text("wokers = 3\n", encoding="utf-8")
    line = _one_line_error(_ob(_env(tmp_path, ORDERBRIDGE_CONFIG=str(config)), "db", "upgrade"), 2)
    assert str(config) in line
    assert "'wokers' (did you mean 'workers'?)" in line
    assert "valid keys: allowed_hosts," in line
    assert not (tmp_path / "orderbridge.db").exists()


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    line = _one_line_error(_ob(_env(tmp_path, ORDERBRIDGE_CONFIG=str(missing)), "status"), 2)
    assert f"config file {missing} (ORDERBRIDGE_CONFIG) does not exist" in line


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize("command", [["status"], ["db", "upgrade"], ["user", "add", "alice"]], ids=" ".join)
def test_a_postgresql_server_that_is_down_is_one_line(tmp_path: Path, command: list[str]) -> None:
    url = f"postgresql+psycopg://postgres@127.0.0.1:{_unused_port()}/orderbridge"
    line = _one_line_error(_ob(_env(tmp_path, ORDERBRIDGE_DATABASE_URL=url), *command), 2)
    assert "Connection refused" in line


@pytest.mark.parametrize("command", [["connections"], ["db", "upgrade"]], ids=" ".join)
def test_a_postgresql_database_that_does_not_exist_is_one_line(tmp_path: Path, command: list[str]) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/orderbridge_no_such_database"
    line = _one_line_error(_ob(_env(tmp_path, ORDERBRIDGE_DATABASE_URL=url), *command), 2)
    assert 'database "orderbridge_no_such_database" does not exist' in line


def test_run_on_a_port_in_use_is_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ob.db'}"
    migrate.upgrade(url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _env(tmp_path, ORDERBRIDGE_DATABASE_URL=url, ORDERBRIDGE_PORT=str(port))
        line = _one_line_error(_ob(env, "run"), 2)
    assert f"port {port} on 127.0.0.1 is already in use" in line



def test_a_worker_whose_metrics_port_is_in_use_names_that_setting(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ob.db'}"
    migrate.upgrade(url)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _env(tmp_path, ORDERBRIDGE_DATABASE_URL=url, ORDERBRIDGE_METRICS_PORT=str(port))
        line = _one_line_error(_ob(env, "run", "--role", "worker"), 2)
    assert f"port {port} on 127.0.0.1 is already in use" in line
    assert "ORDERBRIDGE_METRICS_PORT" in line
    assert "ORDERBRIDGE_PORT" not in line.replace("ORDERBRIDGE_METRICS_PORT", "")
