"""docs/getting-started.md, executed as written: a new user's path cannot rot.

Every ``sh`` block of the page runs, in order, in one bash session (as terminal 3 would);
every ``sh keeps-running`` block starts in a terminal of its own (a process group, stopped
with Ctrl-C's SIGINT at the end, newest first); a step followed by ``text expected`` is
repeated, as the page tells the reader, until its output shows those lines. The working
directory is a fresh directory holding the clone's Makefile, lock files and ``.venv`` (so
``make`` finds them bootstrapped) and nothing else: whatever the page's commands need,
they make themselves. Ports are the only thing changed, through environment variables
that the commands read (``ORDERBRIDGE_SANDBOX_*_PORT``, ``ORDERBRIDGE_PORT``,
``ORDERBRIDGE_BASE_URL``), so the test runs beside anything using 9000-9002 and 8000.
"""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.getting_started_doc import BACKGROUND, REAL, RUN, Step, normalise, parse_steps

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "getting-started.md"
MARKER = "__getting_started_step_done__"
STEP_TIMEOUT = 60.0
EXPECT_TIMEOUT = 90.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Shell:
    """One bash session fed a step at a time; each step's output and exit status."""

    def __init__(self, cwd: Path, env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(["bash", "--norc", "--noprofile"], cwd=cwd, env=env, text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        self.lines: queue.Queue[str] = queue.Queue()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def run(self, code: str) -> tuple[int, str]:
        """Run the block; the status is the first failing command's (0 if none failed)."""
        script = ["__rc=0"]
        for line in code.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                script += [line, "__s=$?; [ $__s -eq 0 ] || [ $__rc -ne 0 ] || __rc=$__s"]
        script.append(f'echo "{MARKER} $__rc"')
        assert self.proc.stdin is not None
        self.proc.stdin.write("\n".join(script) + "\n")
        self.proc.stdin.flush()
        out: list[str] = []
        deadline = time.monotonic() + STEP_TIMEOUT
        while True:
            try:
                line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"step did not finish in {STEP_TIMEOUT} s:\n{code}\n{''.join(out)}") from None
            if line.startswith(MARKER):
                return int(line.split()[1]), "".join(out)
            out.append(line)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)
        self.reader.join(timeout=10)
        assert self.proc.stdout is not None
        self.proc.stdout.close()


class Terminal:
    """A ``keeps-running`` block in a terminal of its own."""

    def __init__(self, code: str, cwd: Path, env: dict[str, str], log: Path) -> None:
        self.code, self.log = code, log
        self.handle = log.open("w")
        self.proc = subprocess.Popen(["bash", "-c", code], cwd=cwd, env=env, stdout=self.handle,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, expected: list[str]) -> None:
        deadline = time.monotonic() + EXPECT_TIMEOUT
        while not all(e in normalise(self.output()) for e in expected):
            if self.proc.poll() is not None:
                raise AssertionError(f"`{self.code.strip()}` stopped (exit {self.proc.returncode}):\n{self.output()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"`{self.code.strip()}` never showed {expected}:\n{self.output()}")
            time.sleep(0.2)

    def stop(self) -> int:
        """Ctrl-C (SIGINT to the terminal's process group); its exit status."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
                raise AssertionError(f"`{self.code.strip()}` ignored Ctrl-C:\n{self.output()}") from None
        self.handle.close()
        return int(self.proc.returncode)


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A directory like the clone as `make` sees it: Makefile, locks, pyproject, .venv."""
    work = tmp_path / "clone"
    work.mkdir()
    for name in ("Makefile", "pyproject.toml", "requirements.lock", "requirements-dev.lock", ".venv"):
        (work / name).symlink_to(ROOT / name)
    return work


@pytest.fixture
def env() -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("ORDERBRIDGE_") and k != "DATABASE_URL"}
    port = _free_port()
    base.update(ORDERBRIDGE_SANDBOX_CONTROL_PORT="0", ORDERBRIDGE_SANDBOX_TIKTOK_PORT="0",
                ORDERBRIDGE_SANDBOX_SHOPIFY_PORT="0", ORDERBRIDGE_SANDBOX_AMAZON_MCF_PORT="0",
                ORDERBRIDGE_SANDBOX_SHIPBOB_PORT="0", ORDERBRIDGE_PORT=str(port),
                ORDERBRIDGE_BASE_URL=f"http://127.0.0.1:{port}")
    return base


@pytest.fixture
def terminals() -> Iterator[list[Terminal]]:
    started: list[Terminal] = []
    yield started
    for terminal in reversed(started):  # whatever the test's outcome, nothing is left running
        if terminal.proc.poll() is None:
            os.killpg(terminal.proc.pid, signal.SIGKILL)
            terminal.proc.wait(timeout=10)
        terminal.handle.close()


def test_the_page_has_the_whole_path() -> None:
    steps = parse_steps(DOC)
    kinds = [s.kind for s in steps]
    assert kinds.count(BACKGROUND) == 2  # the sandboxes, the engine
    assert kinds.index(REAL) > max(i for i, k in enumerate(kinds) if k == RUN)  # real stores come last
    commands = "\n".join(s.code for s in steps)
    for command in ("make sandbox", "connect sandbox", "orderbridge run", "play order", "play advance",
                    "play fulfil", "play show"):
        assert command in commands
    assert all(s.expected for s in steps if s.kind == BACKGROUND)


@pytest.mark.timeout(900)
def test_getting_started_runs_as_written(workdir: Path, env: dict[str, str], terminals: list[Terminal]) -> None:
    shell = Shell(workdir, env)
    try:
        for step in parse_steps(DOC):
            if step.kind == REAL:
                continue
            if step.kind == BACKGROUND:
                terminal = Terminal(step.code, workdir, env, workdir.parent / f"terminal-{len(terminals) + 1}.log")
                terminals.append(terminal)
                terminal.wait_for(step.expected)
                continue
            _run_until_expected(shell, step)
    finally:
        shell.close()
    for terminal in reversed(terminals):
        status = terminal.stop()
        # 0 or 130, or killed by the SIGINT itself (make re-raises it after its child stops)
        assert status in (0, 130, -signal.SIGINT), f"`{terminal.code.strip()}` exited {status} on Ctrl-C:\n{terminal.output()}"
        assert "Traceback" not in terminal.output(), terminal.output()


def _run_until_expected(shell: Shell, step: Step) -> None:
    deadline = time.monotonic() + EXPECT_TIMEOUT
    while True:
        status, output = shell.run(step.code)
        missing = [e for e in step.expected if e not in normalise(output)]
        if status == 0 and not missing:
            return
        if not step.expected or time.monotonic() > deadline:
            raise AssertionError(f"`{step.code.strip()}` (exit {status}) did not show {missing}:\n{output}")
        time.sleep(1)
