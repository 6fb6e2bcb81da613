"""Shared fixtures: a stand-in Messages API on 127.0.0.1, and a clean workbook environment."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import io
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any, TextIO

import anyio
import pytest

from tests.faces import FACES, Face, Waits
from tools.standin.http import StandinServer

FAKE_KEY = "sk-ant-api03-TESTONLY-" + "x" * 24  # looks like a key, so a leak would be caught
# Seconds a test gives something that should end at once (a thread, a wait) before it reports a hang:
# a guard that a working test never reaches, so no test's outcome depends on how fast the machine is.
HANG_BOUND = 60.0
ROOT = Path(__file__).resolve().parent.parent


def run_script_process(name: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/<name> as a user would, from the repository, with extra environment variables.

    A real subprocess, for the one smoke run per script (and what needs a fresh process, such as
    WORKBOOK_MODEL, read once per process); every other script test uses run_script_in_process.
    """
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MPLBACKEND": "Agg", **env},
        cwd=ROOT,
    )


def load_script(name: str) -> ModuleType:
    """scripts/<name>.py as a fresh module, its main() not yet run."""
    stem = name.removesuffix(".py")
    spec = importlib.util.spec_from_file_location(f"workbook_script_{stem}", ROOT / "scripts" / f"{stem}.py")
    assert spec is not None and spec.loader is not None, f"no scripts/{stem}.py"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ScriptOutput(io.StringIO):
    """What the script's own thread writes, kept; what other threads write at the same time (a test
    server's request threads, say) goes on to `elsewhere`, as it would not reach the script's stream
    in a process of its own."""

    def __init__(self, elsewhere: TextIO) -> None:
        super().__init__()
        self.owner, self.elsewhere = threading.current_thread(), elsewhere

    def write(self, text: str) -> int:
        if threading.current_thread() is self.owner:
            return super().write(text)
        return self.elsewhere.write(text)


def run_script_in_process(name: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """What run_script gives, without a new Python: main() runs here, as the script's `__main__` block
    runs it (helpers.run_script), with `env` over this process's environment and argv set, and its
    exit status, stdout and stderr returned. The environment and argv are restored afterwards."""
    from helpers import cli

    module = load_script(name)
    saved_environment, saved_argv = dict(os.environ), sys.argv
    stdout, stderr = ScriptOutput(sys.stdout), ScriptOutput(sys.stderr)
    os.environ.update(env)
    sys.argv = command = [f"scripts/{name}", *args]
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                status = cli.run_script(module.main)
            except SystemExit as exit_:  # argparse's usage errors (2) and --help (0)
                status = exit_.code if isinstance(exit_.code, int) else 1
    finally:
        os.environ.clear()
        os.environ.update(saved_environment)
        sys.argv = saved_argv
    return subprocess.CompletedProcess(command, status, stdout.getvalue(), stderr.getvalue())


def assert_one_line_failure(result: subprocess.CompletedProcess[str]) -> str:
    """A script that failed as the workbook promises: exit 1, no traceback, one `error: ...` line."""
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


@pytest.fixture
def recordings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty recordings folder, and the environment of a student with no key."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    monkeypatch.setenv("WORKBOOK_RECORDINGS_DIR", str(folder))
    monkeypatch.setenv("WORKBOOK_MODE", "auto")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "")
    monkeypatch.setenv("WORKBOOK_STREAM_SPEED", "0")
    return folder


@pytest.fixture
def standin() -> Iterator[StandinServer]:
    with StandinServer() as server:
        yield server


@pytest.fixture
def online(recordings: Path, standin: StandinServer, monkeypatch: pytest.MonkeyPatch) -> StandinServer:
    """A student with a key, pointed at the stand-in server as their Anthropic-compatible endpoint."""
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", standin.url)
    return standin


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every time.sleep() in this test, recorded instead of slept (for tests that start no server that sleeps)."""
    waited: list[float] = []
    monkeypatch.setattr(time, "sleep", waited.append)
    return waited


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> Waits:
    """Every wait asked for on this test's thread, where its clients and event loops run, noted and not
    waited: time.sleep, asyncio.sleep and anyio.sleep (the async SDK's, between retries). The threads
    of servers the test starts still sleep as they please."""
    noted = Waits()
    test_thread, real_sleep, real_asyncio_sleep = threading.current_thread(), time.sleep, asyncio.sleep

    def time_sleep(seconds: float) -> None:
        if threading.current_thread() is test_thread:
            noted.seen.append(("time.sleep", seconds))
        else:
            real_sleep(seconds)

    async def asyncio_sleep(delay: float, result: Any = None) -> Any:
        noted.seen.append(("asyncio.sleep", delay))
        return await real_asyncio_sleep(0, result)  # still lets the other tasks run

    async def anyio_sleep(delay: float) -> None:
        noted.seen.append(("anyio.sleep", delay))
        await real_asyncio_sleep(0)

    monkeypatch.setattr(time, "sleep", time_sleep)
    monkeypatch.setattr(asyncio, "sleep", asyncio_sleep)
    monkeypatch.setattr(anyio, "sleep", anyio_sleep)
    return noted


@pytest.fixture(params=FACES)
def face(request: pytest.FixtureRequest) -> Iterator[Face]:
    """The test runs once with get_client() and once with get_async_client() (see tests/faces.py)."""
    opened = Face(request.param)
    try:
        yield opened
    finally:
        opened.close()
