"""scripts/hello_api.py as a user runs it: replay, a clear failure, and record-then-replay."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.conftest import FAKE_KEY, run_script
from tools.standin_server import StandinServer

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "hello_api.py"


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_script("hello_api.py", *args, **env)


def after_banner(result: subprocess.CompletedProcess[str]) -> str:
    """What the script printed after get_client's three-line banner (which names the endpoint)."""
    return result.stdout.split("\n", 3)[3]


def test_the_recorded_default_question_replays_offline():
    result = run()
    assert result.returncode == 0, result.stderr
    assert "stop_reason: end_turn" in result.stdout
    assert "usage: input_tokens=" in result.stdout and "cost=$" in result.stdout
    assert "SAMPLE" in result.stdout, "the script should say its reply is a sample"


def test_a_question_never_recorded_fails_fast_with_one_clear_line():
    result = run("a question never recorded", WORKBOOK_MODE="auto")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "a question never recorded" in lines[0] and "ANTHROPIC_API_KEY" in lines[0]


def test_record_from_a_compatible_server_then_replay_without_key_or_network(tmp_path):
    with StandinServer() as server:
        recorded = run(
            "What is a token?",
            WORKBOOK_MODE="record",
            ANTHROPIC_API_KEY=FAKE_KEY,
            ANTHROPIC_BASE_URL=server.url,
            WORKBOOK_RECORDINGS_DIR=str(tmp_path),
        )
        assert recorded.returncode == 0, recorded.stderr
        assert len(server.state.requests) == 1
    replayed = run(
        "What is a token?",
        WORKBOOK_MODE="replay",
        ANTHROPIC_BASE_URL="http://127.0.0.1:9",
        WORKBOOK_RECORDINGS_DIR=str(tmp_path),
    )
    assert replayed.returncode == 0, replayed.stderr
    assert after_banner(replayed) == after_banner(recorded)
    assert FAKE_KEY not in (tmp_path / "hello_api.json").read_text()
