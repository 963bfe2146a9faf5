"""`orderbridge stock diff|sync|problems` as a user runs them: subprocesses against sandboxes
served over real sockets (real time), a temporary SQLite database."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from orderbridge.adapters.db import generate_key
from orderbridge.sandbox.runner import SandboxWorld, running_sandboxes


@pytest.fixture(scope="module")
def sandbox_info(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    with running_sandboxes(SandboxWorld(seed=3)) as (running, _thread):
        path = tmp_path_factory.mktemp("sandbox") / "info.json"
        running.write_info(path)
        yield path, running.info()


def _ob(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orderbridge", *args], capture_output=True, text=True,
                          timeout=180, check=False, env=env)


def test_diff_sync_and_problems(tmp_path: Path, sandbox_info: tuple[Path, dict[str, Any]]) -> None:
    info_file, info = sandbox_info
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERBRIDGE_") and k != "DATABASE_URL"}
    env.update(ORDERBRIDGE_DATABASE_URL=f"sqlite:///{tmp_path / 'ob.db'}", ORDERBRIDGE_SECRET_KEY=generate_key(),
               ORDERBRIDGE_CONFIG=str(tmp_path / "orderbridge.toml"), COLUMNS="200")
    config = tmp_path / "orderbridge.toml"
    assert _ob(env, "connect", "sandbox", "--info-file", str(info_file), "--write-config", str(config)).returncode == 0
    assert _ob(env, "skus", "import").returncode == 0
    # A stock change Shopify told nobody about (no webhook reaches this test).
    control = info["control_url"]
    domain = info["shopify"]["shops"][0]["domain"]
    sale = httpx.post(f"{control}/shopify/shops/{domain}/sales", json={"sku": "MW-SET-NAT", "quantity": 3})
    sale.raise_for_status()
    left = sale.json()["available"]

    diff = _ob(env, "stock", "diff", "--json")
    assert diff.returncode == 0, diff.stderr
    rows = json.loads(diff.stdout)
    mine = [r for r in rows if r["seller_sku"] == "MW-SET-NAT"]
    assert [(r["expected"], r["warehouse_id"]) for r in mine] == [(left, None)]
    assert mine[0]["tiktok"] != left

    table = _ob(env, "stock", "diff")
    assert "MW-SET-NAT" in table.stdout
    assert "stock that disagrees" in table.stdout

    synced = _ob(env, "stock", "sync")
    assert synced.returncode == 0, synced.stderr
    assert "pushing stock" in synced.stderr  # the progress bar
    assert f"{len(rows)} SKU/warehouse disagreed" in synced.stdout

    again = _ob(env, "stock", "diff", "--json")
    assert json.loads(again.stdout) == []
    assert "agrees with Shopify" in _ob(env, "stock", "diff").stdout
    problems = _ob(env, "stock", "problems", "--json")
    assert problems.returncode == 0, problems.stderr
    assert json.loads(problems.stdout) == []
    assert "no stock problems" in _ob(env, "stock", "problems").stdout
