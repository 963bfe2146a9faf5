"""The commands a newcomer types, run as a user would (subprocesses, real sockets)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _orderbridge(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orderbridge", *args],
        capture_output=True, text=True, timeout=180, check=False, **kw,  # type: ignore[call-overload]
    )


def test_demo_runs_the_engine_on_a_day_of_orders_and_every_invariant_holds() -> None:
    started = time.monotonic()
    result = _orderbridge("demo", "--orders", "2", "--exit")
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "webhooks registered" in out
    assert "operator links TikTok SKU WHISK-HOLDER" in out
    assert "merchant fulfils" in out
    assert "+UNMAPPED_SKU" in out
    assert "What happened to each order" in out
    assert "FAIL" not in out
    flat = " ".join(out.split())  # the narration wraps at the console's width
    assert "the seller's 3PL app sends" in flat
    assert "on the cancellation desk: CANCEL_REQUEST_BLOCKED" in flat  # too late to stop at Amazon MCF: pending with its reason
    assert "(mcf-cancel-stopped) is now Cancelled" in flat
    assert "(mcf) is now Complete" in flat
    assert "(shipbob) is now Fulfilled" in flat
    assert "demo passed: 6/6 invariants hold; 17/17 orders ended as expected" in out
    assert time.monotonic() - started < 90


def test_sandbox_serves_and_writes_its_info_file(tmp_path: Path) -> None:
    info_file = tmp_path / "info.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "orderbridge", "sandbox", "--info-file", str(info_file),
         "--control-port", "0", "--tiktok-port", "0", "--shopify-port", "0",
         "--amazon-mcf-port", "0", "--shipbob-port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not info_file.exists() and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.1)
        info = json.loads(info_file.read_text(encoding="utf-8"))
        assert httpx.get(f"{info['control_url']}/health", timeout=5).json() == {"status": "ok"}
        assert info["tiktok"]["shops"][0]["shop_cipher"]
        assert info["shopify"]["shops"][0]["access_token"]
        spec = httpx.get(f"{info['control_url']}/openapi.json", timeout=5).json()
        assert "/tiktok/orders" in spec["paths"]
        assert "/shopify/orders/{order_id}/fulfill" in spec["paths"]
        assert "/amazon_mcf/orders/{order_id}/ship" in spec["paths"]
        assert "/shipbob/orders/{order_id}/ship" in spec["paths"]
        lwa = httpx.post(info["amazon_mcf"]["lwa_token_url"], timeout=5, data={
            "grant_type": "refresh_token", "refresh_token": info["amazon_mcf"]["refresh_token"],
            "client_id": info["amazon_mcf"]["client_id"], "client_secret": info["amazon_mcf"]["client_secret"]})
        assert lwa.json()["expires_in"] == 3600
        channels = httpx.get(f"{info['shipbob']['api_base']}/channel", timeout=5, headers={
            "authorization": f"Bearer {info['shipbob']['personal_access_token']}"})
        assert channels.status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)  # also closes the pipes
    assert proc.returncode == 0


def test_bad_settings_fail_at_start_with_the_setting_named(tmp_path: Path) -> None:
    env = {**os.environ, "ORDERBRIDGE_DATABASE_URL": "mysql://nope", "ORDERBRIDGE_CONFIG": ""}
    result = _orderbridge("db", "upgrade", env=env)
    assert result.returncode == 2
    assert "ORDERBRIDGE_DATABASE_URL" in result.stderr
