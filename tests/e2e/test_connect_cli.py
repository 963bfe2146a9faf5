"""`orderbridge connect|connections|skus|policy` as a user runs them: subprocesses against
sandboxes served over real sockets, a temporary SQLite database, ORDERBRIDGE_SECRET_KEY."""

import json
import os
import stat
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from orderbridge.adapters.db import generate_key
from orderbridge.sandbox.runner import SandboxWorld, running_sandboxes
from orderbridge.settings import SECRET_SETTINGS


@pytest.fixture(scope="module")
def sandbox_info(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    # Real time (rate 1, starting now): the subprocesses sign with the system clock.
    with running_sandboxes(SandboxWorld(seed=3)) as (running, _thread):
        path = tmp_path_factory.mktemp("sandbox") / "info.json"
        running.write_info(path)
        yield path, running.info()


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERBRIDGE_") and k != "DATABASE_URL"}
    env.update(ORDERBRIDGE_DATABASE_URL=f"sqlite:///{tmp_path / 'ob.db'}", ORDERBRIDGE_SECRET_KEY=generate_key(),
               ORDERBRIDGE_CONFIG=str(tmp_path / "orderbridge.toml"), COLUMNS="200")
    env.update(extra)
    return env


def _ob(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orderbridge", *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env)


def test_connect_sandbox_then_skus_and_policy(tmp_path: Path, sandbox_info: tuple[Path, dict[str, Any]]) -> None:
    info_file, info = sandbox_info
    env = _env(tmp_path)
    config = tmp_path / "orderbridge.toml"
    done = _ob(env, "connect", "sandbox", "--info-file", str(info_file), "--write-config", str(config))
    assert done.returncode == 0, done.stderr
    assert "connected Matcha Shop" in done.stdout
    secrets = tmp_path / "orderbridge.secrets.toml"
    written = tomllib.loads(config.read_text())
    assert not set(written) & set(SECRET_SETTINGS)  # no secret in the config file
    assert info["tiktok"]["app_secret"] not in config.read_text()
    assert written["secrets_file"] == "orderbridge.secrets.toml"
    assert info["tiktok"]["app_secret"] in secrets.read_text()
    assert info["shopify"]["client_secret"] in secrets.read_text()
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o600
    assert stat.S_IMODE(info_file.stat().st_mode) == 0o600  # the sandbox info holds secrets too

    listed = _ob(env, "connections")
    assert listed.returncode == 0, listed.stderr
    assert "sandbox" in listed.stdout
    assert "matcha-shop.myshopify.com" in listed.stdout

    imported = _ob(env, "skus", "import")
    assert imported.returncode == 0, imported.stderr
    assert "UNMAPPED  WHISK-HOLDER" in imported.stdout
    assert "AMBIGUOUS DUP-SKU" in imported.stdout
    candidate = imported.stdout.split("AMBIGUOUS DUP-SKU: ")[1].split(",")[0].strip()

    linked = _ob(env, "skus", "link", "DUP-SKU", candidate, "--connection", "sandbox")
    assert linked.returncode == 0, linked.stderr
    assert f"-> {candidate}" in linked.stdout
    table = _ob(env, "skus", "list").stdout
    assert "WHISK-HOLDER" in table
    assert "unmapped" in table
    assert "ambiguous" not in table

    assert _ob(env, "policy", "set", "auto_approve_cancellations", "false").returncode == 0
    bad = _ob(env, "policy", "set", "create_at", "whenever")
    assert bad.returncode == 2
    assert "create_at" in bad.stderr
    shown = json.loads(_ob(env, "policy", "show").stdout)
    assert shown["auto_approve_cancellations"] is False
    assert shown["create_at"] == "unpaid"

    store = info["shopify"]["shops"][1]
    refused = _ob(env, "connect", "shopify", "--name", "second", "--domain", store["domain"],
                  "--token", store["access_token_without_fulfillment_orders"])
    assert refused.returncode == 2
    assert "MISSING_SCOPES" in refused.stderr


def test_connect_tiktok_prints_a_signed_link_and_exchanges_a_code(
        tmp_path: Path, sandbox_info: tuple[Path, dict[str, Any]]) -> None:
    info_file, info = sandbox_info
    env = _env(tmp_path)
    assert _ob(env, "connect", "sandbox", "--info-file", str(info_file), "--write-config",
               str(tmp_path / "orderbridge.toml")).returncode == 0
    printed = _ob(env, "connect", "tiktok", "--name", "second")
    assert printed.returncode == 0, printed.stderr
    url = printed.stdout.split()[0]
    query = parse_qs(urlparse(url).query)
    assert query["service_id"] == [info["tiktok"]["service_id"]]
    assert "." in query["state"][0]
    assert "/oauth/tiktok/callback" in printed.stdout
    shop = info["tiktok"]["shops"][1]
    exchanged = _ob(env, "connect", "tiktok", "--name", "second", "--code", shop["auth_code"])
    assert exchanged.returncode == 0, exchanged.stderr
    assert "Second Shop" in exchanged.stdout
    again = _ob(env, "connect", "tiktok", "--name", "second", "--code", shop["auth_code"])
    assert again.returncode == 1  # single-use code: TikTok refuses it
    assert "refused" in again.stderr


def test_configuration_errors_are_one_line_and_exit_2(tmp_path: Path,
                                                       sandbox_info: tuple[Path, dict[str, Any]]) -> None:
    env = _env(tmp_path, ORDERBRIDGE_CONFIG="")  # no config file
    del env["ORDERBRIDGE_SECRET_KEY"]
    result = _ob(env, "connect", "sandbox", "--info-file", str(sandbox_info[0]))
    assert result.returncode == 2
    assert "ORDERBRIDGE_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr
    missing = _ob(_env(tmp_path, ORDERBRIDGE_CONFIG=""), "skus", "import")
    assert missing.returncode == 2
    assert "0 connections" in missing.stderr
    assert _ob(_env(tmp_path), "connect", "sandbox", "--info-file", str(tmp_path / "nope.json")).returncode == 2


def test_connect_shopify_prints_the_install_link_and_validates_the_domain(
        tmp_path: Path, sandbox_info: tuple[Path, dict[str, Any]]) -> None:
    _info_file, info = sandbox_info
    shop = info["shopify"]["shops"][0]["domain"]
    env = _env(tmp_path, ORDERBRIDGE_BASE_URL="https://ob.example.com")
    (tmp_path / "orderbridge.toml").write_text("", encoding="utf-8")
    unconfigured = _ob(env, "connect", "shopify", "--name", "acme", "--domain", shop)
    assert unconfigured.returncode == 2
    assert "ORDERBRIDGE_SHOPIFY_CLIENT_ID" in unconfigured.stderr
    env.update(ORDERBRIDGE_SHOPIFY_CLIENT_ID=info["shopify"]["api_key"],
               ORDERBRIDGE_SHOPIFY_CLIENT_SECRET=info["shopify"]["client_secret"])
    for bad in ("evil.example.com", "acme.myshopify.com.evil.com", "-acme.myshopify.com"):
        refused = _ob(env, "connect", "shopify", "--name", "acme", "--domain", bad)
        assert refused.returncode == 2, bad
        assert "myshopify.com domain" in refused.stderr
    store_name = shop.removesuffix(".myshopify.com")
    printed = _ob(env, "connect", "shopify", "--name", "acme", "--domain", f"{store_name.upper()}.myshopify.com")
    assert printed.returncode == 0, printed.stderr
    assert f"https://ob.example.com/oauth/shopify/install?shop={shop}" in printed.stdout
    assert "https://ob.example.com/oauth/shopify/callback" in printed.stdout
    listed = _ob(env, "connections")
    assert "acme" in listed.stdout
    assert shop in listed.stdout
