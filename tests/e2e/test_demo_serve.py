"""``orderbridge demo --serve``: says where everything is, and the printed commands work.

The demo is run as a user runs it (a subprocess); the test reads the database URL it prints,
runs the printed ``orderbridge status`` against it from another process, then stops the demo
with Ctrl-C (SIGINT) and expects a clean exit.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

pytestmark = pytest.mark.xdist_group("demo-serve")

STARTUP_SECONDS = 240.0


def _lines(proc: subprocess.Popen[str], out: queue.Queue[str]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        out.put(line)


def test_demo_serve_prints_its_database_and_status_reads_it(tmp_path: object) -> None:
    env = {**os.environ, "COLUMNS": "400", "PYTHONUNBUFFERED": "1", "NO_COLOR": "1", "TERM": "dumb"}
    for name in list(env):
        if name.startswith("ORDERBRIDGE_"):
            del env[name]
    proc = subprocess.Popen([sys.executable, "-m", "orderbridge", "demo", "--orders", "0", "--serve"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=_lines, args=(proc, lines), daemon=True)
    reader.start()
    seen: list[str] = []
    config = None
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while config is None and time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1.0)
            except queue.Empty:
                assert proc.poll() is None, "".join(seen)
                continue
            seen.append(line)
            found = re.search(r"ORDERBRIDGE_CONFIG=(\S+) orderbridge status", line)
            if found:
                config = found.group(1)
        assert config is not None, "".join(seen)
        text = "".join(seen)
        assert "Still serving" in text
        assert "demo passed" in text
        assert "order_exception_raised" not in text  # the story narrates exceptions; no log lines among it
        status = subprocess.run([sys.executable, "-m", "orderbridge", "status", "--json"], capture_output=True,
                                text=True, env={**env, "ORDERBRIDGE_CONFIG": config}, timeout=120)
        assert status.returncode == 0, status.stdout + status.stderr
        assert "demo" in status.stdout
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        finally:
            reader.join(timeout=10)
            assert proc.stdout is not None
            proc.stdout.close()
    assert code == 0, "".join(seen)
