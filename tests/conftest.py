"""Shared fixtures: a stand-in Messages API on 127.0.0.1, and a clean workbook environment."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tools.standin_server import StandinServer

FAKE_KEY = "sk-ant-api03-TESTONLY-" + "x" * 24  # looks like a key, so a leak would be caught
ROOT = Path(__file__).resolve().parent.parent


def run_script_process(name: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/<name> as a user would, from the repository, with extra environment variables."""
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / name), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MPLBACKEND": "Agg", **env},
        cwd=ROOT,
    )


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
    import time

    waited: list[float] = []
    monkeypatch.setattr(time, "sleep", waited.append)
    return waited
