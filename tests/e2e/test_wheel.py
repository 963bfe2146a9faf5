"""The release: ``python -m build`` makes an sdist and a wheel (the wheel built from the
sdist, so both carry everything), and the wheel installed into a fresh venv outside the
work tree runs: ``--version``, ``db upgrade`` (migrations are package data), the sandbox's
offline API pages (schema.graphql, the Swagger UI assets) and ``demo --orders 10 --exit``.

The venv installs the runtime lock with its hashes (pip's cache makes it quick after the
first run), then the wheel without dependencies: exactly what the Dockerfile does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _run(*args: str | Path, cwd: Path, timeout: float, env: dict[str, str] | None = None) -> str:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--no-isolation", "--outdir", out, ROOT, cwd=ROOT, timeout=300)
    wheels, sdists = list(out.glob("orderbridge-*.whl")), list(out.glob("orderbridge-*.tar.gz"))
    assert len(wheels) == 1
    assert len(sdists) == 1
    return wheels[0], sdists[0]


def test_the_wheel_carries_its_data(built: tuple[Path, Path]) -> None:
    names = set(zipfile.ZipFile(built[0]).namelist())
    for needed in ("orderbridge/sandbox/shopify/schema.graphql", "orderbridge/adapters/db/migrations/env.py",
                   "orderbridge/adapters/db/migrations/script.py.mako", "orderbridge/py.typed"):
        assert needed in names
    assert any(n.startswith("orderbridge/adapters/db/migrations/versions/0001") for n in names)
    assert not any(n.startswith("tests/") for n in names)


# A fresh venv, the runtime lock and a whole demo: over the suite's 120 s default on a busy
# machine (75 s alone); each step below has its own timeout.
@pytest.mark.timeout(900)
def test_the_wheel_installs_and_runs_outside_the_tree(built: tuple[Path, Path], tmp_path: Path) -> None:
    wheel = built[0]
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=tmp_path, timeout=120)
    py, ob = venv / "bin" / "python", venv / "bin" / "orderbridge"
    _run(py, "-m", "pip", "install", "--quiet", "--require-hashes", "-r", ROOT / "requirements.lock",
         cwd=tmp_path, timeout=600)
    _run(py, "-m", "pip", "install", "--quiet", "--no-deps", wheel, cwd=tmp_path, timeout=120)

    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ORDERBRIDGE_") and k not in ("DATABASE_URL", "PYTHONPATH")}
    env["ORDERBRIDGE_CONFIG"] = ""
    where = _run(py, "-c", "import orderbridge; print(orderbridge.__file__)", cwd=tmp_path, timeout=60, env=env)
    assert str(venv) in where  # the installed copy, not the work tree
    assert str(ROOT) not in where

    assert _run(ob, "--version", cwd=tmp_path, timeout=60, env=env).strip() == "orderbridge 0.1.0"
    db = tmp_path / "release.db"
    upgraded = _run(ob, "db", "upgrade", "--database-url", f"sqlite:///{db}", cwd=tmp_path, timeout=120, env=env)
    assert "database at head" in upgraded
    assets = _run(py, "-c", "from orderbridge.apidocs import assets_dir; d = assets_dir(); "
                  "print(all((d / f).is_file() for f in ('swagger-ui-bundle.js', 'swagger-ui.css', "
                  "'redoc.standalone.js')))", cwd=tmp_path, timeout=60, env=env)
    assert assets.strip() == "True"

    demo = _run(ob, "demo", "--orders", "10", "--exit", cwd=tmp_path, timeout=600, env=env)
    assert "invariant" in demo.lower()
