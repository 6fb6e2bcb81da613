"""scripts/hello_api.py as a user runs it: replay, a clear failure, and record-then-replay."""

from __future__ import annotations

import subprocess
from pathlib import Path

from anthropic.types import Message

from helpers import reply_text, usage_line
from helpers.provenance import recording_text
from helpers.recordings import RecordingFile, recorded_message
from tests.conftest import FAKE_KEY, assert_one_line_failure, run_script_in_process
from tools.standin.http import StandinServer

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "hello_api.py"
RECORDING = ROOT / "recordings" / "hello_api.json"


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_script_in_process("hello_api.py", *args, **env)


def after_banner(result: subprocess.CompletedProcess[str]) -> str:
    """What the script printed after get_client's three-line banner (which names the endpoint)."""
    return result.stdout.split("\n", 3)[3]


def recorded_reply() -> Message:
    """The reply recordings/hello_api.json holds for the default question, whatever its words."""
    (item,) = RecordingFile(RECORDING).data["interactions"]
    message = next(filter(None, map(recorded_message, item["responses"])), None)
    assert message is not None, "recordings/hello_api.json holds no reply"
    return message


def test_the_recorded_default_question_replays_offline():
    result = run()
    assert result.returncode == 0, result.stderr
    reply = recorded_reply()
    assert reply_text(reply) in result.stdout, "the script prints the recorded reply"
    assert f"stop_reason: {reply.stop_reason}" in result.stdout
    assert f"usage: {usage_line(reply.usage, reply.model)}" in result.stdout, "the usage line, with its cost"
    recording = RecordingFile(RECORDING)
    said = recording_text(recording.provenance, recording.sources)
    assert f"recordings/hello_api.json, {said}" in result.stdout, (
        f"the banner should say where the recording's replies came from: {said!r}"
    )


def test_a_question_never_recorded_fails_fast_with_one_clear_line():
    line = assert_one_line_failure(run("a question never recorded", WORKBOOK_MODE="auto"))
    assert "a question never recorded" in line and "ANTHROPIC_API_KEY" in line


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
