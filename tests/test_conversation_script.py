"""scripts/conversation.py, run as a student would: offline, with no key, from the recordings."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from helpers import reply_text
from helpers.recordings import RecordingFile, recorded_message
from tests.conftest import run_script_process

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "conversation.py"
RECORDING = ROOT / "recordings" / "conversation.json"
TURN_LINE = re.compile(r"^turn (\d+)\s+input_tokens=(\d+)\s+output_tokens=(\d+)", re.MULTILINE)


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_script_process("conversation.py", *args, **env)


def recorded_replies() -> list[str]:
    """The text of each turn's reply in recordings/conversation.json, turn by turn, whatever its words."""
    interactions = sorted(
        RecordingFile(RECORDING).data["interactions"], key=lambda item: len(item["request"]["body"]["messages"])
    )
    messages = [next(filter(None, map(recorded_message, item["responses"])), None) for item in interactions]
    assert None not in messages, "a turn of recordings/conversation.json holds no reply"
    return [reply_text(message) for message in messages]


def test_three_turns_offline_with_input_tokens_that_climb_every_turn():
    result = run()
    assert result.returncode == 0, result.stderr
    turns = [(int(n), int(tokens_in), int(tokens_out)) for n, tokens_in, tokens_out in TURN_LINE.findall(result.stdout)]
    assert [n for n, _, _ in turns] == [1, 2, 3], f"expected one 'turn N' line per turn:\n{result.stdout}"
    inputs = [tokens_in for _, tokens_in, _ in turns]
    assert inputs[0] < inputs[1] < inputs[2], f"input_tokens should grow every turn as history is re-sent: {inputs}"
    replies = recorded_replies()
    assert len(replies) == 3 and all(f"model: {reply}" in result.stdout for reply in replies), (
        "each recorded reply should be printed"
    )


def test_each_turn_line_comes_before_its_reply():
    output = run().stdout
    lines = output.splitlines()
    for number, reply in enumerate(recorded_replies(), start=1):
        turn = next(i for i, line in enumerate(lines) if line.startswith(f"turn {number} "))
        assert lines[turn + 1].startswith("you: "), output
        assert lines[turn + 2] == f"model: {reply.splitlines()[0] if reply else ''}", output


def test_plot_option_saves_a_png(tmp_path):
    target = tmp_path / "growth.png"
    result = run("--plot", str(target))
    assert result.returncode == 0, result.stderr
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "the file should be a PNG image"
    assert str(target) in result.stdout, "the script should say where it saved the plot"


def test_an_unrecorded_question_without_a_key_fails_with_one_line_that_says_what_to_do():
    result = run("A question nobody recorded")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error:") and "ANTHROPIC_API_KEY" in result.stderr, result.stderr
