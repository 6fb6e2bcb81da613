"""scripts/agent.py as a user runs it: offline from the recording with no key, through failures injected
in-process and by a (stand-in) server, and stopped by a limit or an error: each failure one line on
stderr and exit 1, never a traceback. What the model said is read from the recording, never from here."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from anthropic.types import Message

from helpers import bookshop, reply_text
from helpers.recordings import RecordingFile, recorded_message
from tests.conftest import FAKE_KEY, assert_one_line_failure, run_script_in_process
from tools.standin.http import StandinServer
from workbook_base.environment import TEST_ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
RECORDING = ROOT / "recordings" / "agent.json"
CALL_LINE = re.compile(
    r"^call (\d+) \((?:counted [\d,]+|not counted)\): input_tokens=\d+\s+output_tokens=\d+.*-> (\S+):"
)
TOTAL_LINE = re.compile(r"\b(\d+) calls?, [\d,]+ input and [\d,]+ output tokens, ")
TOOL_ERROR = "  tool error, sent back to the model: "


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_script_in_process("agent.py", *args, **{**TEST_ENVIRONMENT, **env})


def live(server: StandinServer) -> dict[str, str]:
    return {"WORKBOOK_MODE": "live", "ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": server.url}


def recorded_replies() -> list[Message]:
    """The model's replies in recordings/agent.json (the token counts left out), in the order of the run."""
    items = [
        item for item in RecordingFile(RECORDING).data["interactions"] if item["request"]["path"].endswith("/messages")
    ]
    items.sort(key=lambda item: len(item["request"]["body"]["messages"]))
    replies = [next(filter(None, map(recorded_message, item["responses"])), None) for item in items]
    assert replies and None not in replies, "a call in recordings/agent.json holds no reply"
    return replies


def tool_calls(reply: Message) -> list[tuple[str, dict]]:
    return [(block.name, dict(block.input)) for block in reply.content if block.type == "tool_use"]


def failing_tool_calls(replies: list[Message]) -> int:
    """How many of the recorded tool calls the bookshop's tools reject: each is one tool error line."""
    failed = 0
    for name, arguments in (call for reply in replies for call in tool_calls(reply)):
        try:
            bookshop.TOOLBOX[name](**arguments)
        except Exception:
            failed += 1
    return failed


def call_lines(stdout: str) -> list[re.Match[str]]:
    return [match for line in stdout.splitlines() if (match := CALL_LINE.match(line))]


def assert_answered(result: subprocess.CompletedProcess[str], calls: int, answer: str | None = None) -> None:
    """Exit 0, nothing on stderr, `calls` call lines numbered from 1, the total line, then the answer: the
    recorded one (by default), or, from a live server, whatever text follows the heading."""
    assert result.returncode == 0 and not result.stderr, result.stdout + result.stderr
    assert [int(match[1]) for match in call_lines(result.stdout)] == list(range(1, calls + 1)), result.stdout
    assert [int(n) for n in TOTAL_LINE.findall(result.stdout)] == [calls], result.stdout
    if answer is None:
        answer = reply_text(recorded_replies()[-1]).strip()
    assert answer and result.stdout.rstrip().endswith(f"answer:\n{answer}"), "the answer comes last, under its heading"
    assert result.stdout.count(answer) == 1, "the answer is printed once, not streamed as well"


# --- offline, from the recording -------------------------------------------------------------------


def test_offline_with_no_key_it_prints_one_line_per_call_the_total_and_the_answer():
    replies = recorded_replies()
    result = run()
    assert_answered(result, len(replies))
    lines = call_lines(result.stdout)
    for line, reply in zip(lines, replies, strict=True):
        assert line[2] == reply.stop_reason, line.string
        for name, arguments in tool_calls(reply):
            assert f"{name}({', '.join(map(repr, arguments.values()))})" in line.string, "each call names its tools"
    assert replies[-1].stop_reason == "end_turn" and not tool_calls(replies[-1])
    assert len(tool_calls(replies[0])) >= 2, "the first call looks several orders up at once"
    assert {name for reply in replies for name, _ in tool_calls(reply)} == set(bookshop.TOOLBOX)
    assert result.stdout.count(TOOL_ERROR) == failing_tool_calls(replies) >= 1, "a tool error goes back to the model"
    assert "attempt " not in result.stdout, "a call that works at once needs no retry line"


def test_injected_failures_are_retried_and_the_run_still_answers():
    result = run("--faults", "529,midstream")
    assert_answered(result, len(recorded_replies()))
    retries = [line.strip() for line in result.stdout.splitlines() if line.startswith("  attempt ")]
    assert [line.split(";")[0] for line in retries] == [
        "attempt 1: 529 overloaded_error",
        "attempt 2: 200 overloaded_error",  # the midstream fault breaks a real stream: the token count is spared
        "attempt 3: ok",
    ], result.stdout


def test_max_calls_stops_the_run_in_one_line_that_names_the_flag():
    result = run("--max-calls", "2")
    line = assert_one_line_failure(result)
    assert "after 2 calls" in line and "--max-calls" in line, line
    assert len(call_lines(result.stdout)) == 2
    assert [int(n) for n in TOTAL_LINE.findall(result.stdout)] == [2], "what the stopped run used is still shown"
    assert "answer:" not in result.stdout


def test_a_task_never_recorded_without_a_key_fails_in_one_line_that_names_the_fix():
    result = run("Where is my order B2000?", WORKBOOK_MODE="auto")
    line = assert_one_line_failure(result)
    assert "ANTHROPIC_API_KEY" in line and "agent.json" in line, line


@pytest.mark.parametrize("args", [["--faults", "429,503"], ["--max-calls", "0"], ["--max-attempts", "0"]])
def test_bad_arguments_are_refused_with_a_usage_message(args):
    result = run(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "usage:" in result.stderr


# --- against a server ------------------------------------------------------------------------------


def test_a_server_that_fails_now_and_then_is_retried_to_the_answer():
    calls = len(recorded_replies())
    with StandinServer(failures=["429", "529"]) as server:
        result = run("--faults", "midstream", **live(server))
        sent = len(server.state.requests)
    assert_answered(result, calls, answer=result.stdout.rpartition("\nanswer:\n")[2].strip())
    assert sent == 2 * calls + 2, "each call counts its tokens first; the server's 429 and 529 are each asked again"
    assert "429 rate_limit_error; waiting 1.00 s (retry-after)" in result.stdout, "the server's retry-after is obeyed"
    assert "200 overloaded_error; waiting" in result.stdout


def test_a_server_overloaded_for_ever_fails_in_one_line_after_a_bounded_number_of_requests():
    with StandinServer(always="529") as server:
        result = run("--max-attempts", "2", **live(server))
        assert len(server.state.requests) == 2
    line = assert_one_line_failure(result)
    assert "529 overloaded_error" in line and "try again later" in line.lower(), line


def test_a_400_fails_in_one_line_after_exactly_one_request():
    with StandinServer(always="400") as server:
        result = run(**live(server))
        assert len(server.state.requests) == 1
    line = assert_one_line_failure(result)
    assert "400 invalid_request_error" in line and "rejected" in line, line
