"""The deployment recipes, checked for structure (no Docker here to build them): the
Dockerfile installs the release wheel on a pinned slim Python from the hash-checked runtime
lock and runs as a non-root user with a health check on /healthz; compose and systemd run
migrations once, then web and workers."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#")))
    return [(parts[0].upper(), parts[1] if len(parts) > 1 else "")
            for parts in (line.strip().split(None, 1) for line in joined.splitlines() if line.strip())]


def test_dockerfile_base_is_a_pinned_slim_python_311() -> None:
    froms = [args for op, args in _instructions((ROOT / "Dockerfile").read_text()) if op == "FROM"]
    assert len(froms) == 1
    image = froms[0].split()[0]
    assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", image), image
    assert not image.endswith(":latest")


def test_dockerfile_runs_as_non_root() -> None:
    users = [args for op, args in _instructions((ROOT / "Dockerfile").read_text()) if op == "USER"]
    assert users, "no USER: the container would run as root"
    user = users[-1].split(":")[0].strip()
    assert user not in ("root", "0")


def test_dockerfile_health_check_hits_healthz() -> None:
    checks = [args for op, args in _instructions((ROOT / "Dockerfile").read_text()) if op == "HEALTHCHECK"]
    assert len(checks) == 1
    assert "/healthz" in checks[0]
    assert "CMD" in checks[0]


def test_dockerfile_installs_the_wheel_from_the_runtime_lock() -> None:
    ops = _instructions((ROOT / "Dockerfile").read_text())
    runs = " ".join(args for op, args in ops if op == "RUN")
    assert "--require-hashes -r /tmp/install/requirements.lock" in runs
    assert re.search(r"--no-deps \S*orderbridge-\*\.whl", runs)
    assert "requirements-dev" not in runs  # no test tools in the image
    copies = [args for op, args in ops if op == "COPY"]
    assert any("requirements.lock" in c for c in copies)
    assert any(c.startswith("dist/") for c in copies)
    entry = [args for op, args in ops if op == "ENTRYPOINT"]
    assert entry == ['["orderbridge"]']
    ignored = (ROOT / ".dockerignore").read_text().split()
    for pattern in ("*", "!requirements.lock", "!dist/*.whl"):
        assert pattern in ignored


def test_compose_runs_postgres_migrations_web_two_workers_and_tls() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    for service in ("postgres", "migrate", "web", "worker", "proxy"):
        assert re.search(rf"^  {service}:$", text, re.MULTILINE), service
    assert 'command: ["db", "upgrade"]' in text
    assert 'command: ["run", "--role", "web"]' in text
    assert 'command: ["run", "--role", "worker"]' in text
    assert "replicas: 2" in text
    assert "service_completed_successfully" in text  # web and workers wait for the migration
    assert "postgresql+psycopg://" in text
    assert "443:443" in text
    assert (ROOT / "deploy" / "Caddyfile").is_file()


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string((ROOT / "deploy" / "systemd" / name).read_text())
    return parser


def test_systemd_units_run_web_and_workers_after_the_migration() -> None:
    migrate, web, worker = (_unit(n) for n in ("orderbridge-migrate.service", "orderbridge-web.service",
                                                 "orderbridge-worker@.service"))
    assert migrate["Service"]["Type"] == "oneshot"
    assert migrate["Service"]["ExecStart"].endswith("orderbridge db upgrade")
    assert web["Service"]["ExecStart"].endswith("orderbridge run --role web")
    assert "orderbridge run --role worker" in worker["Service"]["ExecStart"]
    assert "ORDERBRIDGE_METRICS_PORT" in worker["Service"]["ExecStart"]
    for unit in (migrate, web, worker):
        assert unit["Service"]["User"] == "orderbridge"
        assert unit["Service"]["EnvironmentFile"] == "/etc/orderbridge/orderbridge.env"
    for unit in (web, worker):
        assert unit["Unit"]["Requires"] == "orderbridge-migrate.service"
        assert "orderbridge-migrate.service" in unit["Unit"]["After"]
