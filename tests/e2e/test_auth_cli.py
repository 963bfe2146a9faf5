"""Operators and tokens made with the CLI, used against `orderbridge run` over real sockets."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from orderbridge.adapters.db import TokenCipher, connections, generate_key, make_engine, transaction
from orderbridge.adapters.db.grants import granted_connections
from orderbridge.adapters.db.operators import find_user

TOKEN = re.compile(r"obt_[A-Za-z0-9_-]{40,}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orderbridge", *args], capture_output=True, text=True,
                          timeout=120, check=False, env=env)


def test_cli_made_tokens_open_the_private_api_and_revoked_ones_do_not(tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "ORDERBRIDGE_DATABASE_URL": f"sqlite:///{tmp_path / 'ob.db'}",
           "ORDERBRIDGE_CONFIG": "", "ORDERBRIDGE_PORT": str(port),
           "ORDERBRIDGE_BASE_URL": f"http://127.0.0.1:{port}"}
    first = _cli(env, "user", "add", "alice")
    assert first.returncode == 0, first.stderr
    assert "alice (admin)" in first.stdout
    [admin] = TOKEN.findall(first.stdout)
    second = _cli(env, "user", "add", "bob", "--role", "viewer")
    [viewer] = TOKEN.findall(second.stdout)
    assert "bob (viewer)" in second.stdout
    assert _cli(env, "user", "add", "alice").returncode == 1  # taken
    listed = _cli(env, "token", "list")
    assert "alice" in listed.stdout
    assert admin not in listed.stdout  # never shown again

    proc = subprocess.Popen([sys.executable, "-m", "orderbridge", "run", "--role", "web"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "orderbridge run did not start"
                time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=10) as http:
            assert http.get("/api/orders/576001").status_code == 401
            assert http.get("/openapi.json").status_code == 401
            assert http.get("/api/orders", headers={"Authorization": f"Bearer {admin}"}).json() == []
            as_viewer = {"Authorization": f"Bearer {viewer}"}
            assert http.get("/api/orders", headers=as_viewer).status_code == 200
            assert http.get("/api/connections", headers=as_viewer).status_code == 503  # no secret key set
            assert http.post("/api/orders/576001/retry", headers=as_viewer).status_code == 403
            as_admin = {"Authorization": f"Bearer {admin}"}
            evil = http.post("/api/orders/576001/retry", headers={**as_admin, "Origin": "http://evil.example"})
            assert evil.status_code == 403
            assert http.get("/api/orders", headers={**as_admin, "Host": "evil.example"}).status_code == 400
            big = http.post("/api/sku-links", headers=as_admin, content=b"x" * (20 * 1024 * 1024))
            assert big.status_code == 413
            assert http.post("/api/orders/576001/retry", headers=as_admin).status_code == 404  # let in
            token_id = next(line.split()[1] for line in _cli(env, "token", "list", "--user", "alice").stdout
                            .splitlines() if "alice" in line and "cli" in line)
            revoked = _cli(env, "token", "revoke", token_id)
            assert revoked.returncode == 0, revoked.stdout + revoked.stderr
            assert http.get("/api/orders", headers=as_admin).status_code == 401
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)


def test_user_grant_and_ungrant_a_connection(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ob.db'}"
    env = {**os.environ, "ORDERBRIDGE_DATABASE_URL": url, "ORDERBRIDGE_CONFIG": ""}
    assert _cli(env, "user", "add", "alice").returncode == 0
    assert _cli(env, "user", "add", "vera", "--role", "viewer").returncode == 0
    engine = make_engine(url)
    try:
        with transaction(engine) as conn:
            shop = connections.create_connection(conn, TokenCipher(generate_key()), name="main-shop",
                                                 tiktok_shop_id="7000001", shopify_domain="m.myshopify.com",
                                                 now=datetime.now(UTC)).id

        def granted() -> frozenset[int]:
            with transaction(engine, write=False) as conn:
                user = find_user(conn, "vera")
                assert user is not None
                return granted_connections(conn, user.id)

        given = _cli(env, "user", "grant", "vera", "main-shop")
        assert given.returncode == 0, given.stderr
        assert "vera may now see main-shop" in given.stdout
        assert granted() == {shop}
        assert "(unchanged)" in _cli(env, "user", "grant", "vera", "main-shop").stdout
        unknown = _cli(env, "user", "grant", "vera", "no-such-shop")
        assert unknown.returncode == 1
        assert "no connection 'no-such-shop'" in unknown.stderr
        taken = _cli(env, "user", "ungrant", "vera", "main-shop")
        assert taken.returncode == 0, taken.stderr
        assert granted() == frozenset()
    finally:
        engine.dispose()
