"""scripts/retry_pattern.py as a user runs it: offline through injected faults, and against a real
(stand-in) server that fails for good: exactly one request on a 400, a bounded number on endless 529s,
each time a one-line message and a non-zero exit, never a traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from helpers import reply_text
from helpers.recordings import RecordingFile, recorded_message
from tests.conftest import FAKE_KEY, assert_one_line_failure, run_script_process
from tools.standin_server import StandinServer

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "retry_pattern.py"
RECORDING = ROOT / "recordings" / "retry_pattern.json"


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_script_process("retry_pattern.py", *args, **env)


def live(server: StandinServer) -> dict[str, str]:
    return {"WORKBOOK_MODE": "live", "ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": server.url}


def test_offline_it_retries_the_two_injected_failures_then_prints_the_reply():
    result = run("--base-delay", "0.05", WORKBOOK_MODE="replay")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "attempt 1: 429 rate_limit_error; waiting 0.10 s (retry-after)" in out
    assert "attempt 2: 529 overloaded_error; waiting" in out and "(backoff)" in out
    assert "attempt 3: ok" in out and "succeeded on attempt 3" in out
    (item,) = RecordingFile(RECORDING).data["interactions"]
    reply = next(filter(None, map(recorded_message, item["responses"])))
    assert out.rstrip().endswith(reply_text(reply).rstrip()), "the recorded reply is printed at the end"


def test_a_base_delay_of_zero_retries_at_once_with_agreeing_headers():
    # The injected 429 says 0 in retry-after and retry-after-ms alike; 0 means "back off as usual",
    # and with --base-delay 0 the usual backoff is 0 too.
    result = run("--base-delay", "0", WORKBOOK_MODE="replay")
    assert result.returncode == 0, result.stderr
    assert "attempt 1: 429 rate_limit_error; waiting 0.00 s (backoff)" in result.stdout


def test_the_default_run_succeeds_offline_with_no_key():
    result = run(WORKBOOK_MODE="replay", ANTHROPIC_API_KEY="", ANTHROPIC_BASE_URL="http://127.0.0.1:9")
    assert result.returncode == 0, result.stderr
    assert "succeeded on attempt 3" in result.stdout


def test_a_400_from_the_server_fails_after_exactly_one_request():
    with StandinServer(always="400") as server:
        result = run("--faults", "none", **live(server))
        assert len(server.state.requests) == 1
    line = assert_one_line_failure(result)
    assert "gave up after 1 attempt" in line and "permanent" in line and "400 invalid_request_error" in line


def test_injected_failures_come_before_the_servers_own_400():
    with StandinServer(always="400") as server:
        result = run("--base-delay", "0.01", **live(server))
        assert len(server.state.requests) == 1, "the injected 429 and 529 never reach the server"
    assert "gave up after 3 attempts" in assert_one_line_failure(result)


def test_endless_529s_give_up_after_a_bounded_number_of_requests():
    with StandinServer(always="529") as server:
        result = run("--faults", "none", "--base-delay", "0.01", "--max-attempts", "4", **live(server))
        assert len(server.state.requests) == 4
    line = assert_one_line_failure(result)
    assert "gave up after 4 attempts: max_attempts reached" in line and "529 overloaded_error" in line
    assert "Overloaded" in line, "the line quotes what the API said"


def test_the_servers_own_429_retry_after_is_obeyed():
    with StandinServer(failures=["429"]) as server:  # the stand-in's 429 says retry-after: 1
        result = run("--faults", "none", "--base-delay", "0.01", **live(server))
        assert len(server.state.requests) == 2
    assert result.returncode == 0, result.stderr
    assert "waiting 1.00 s (retry-after)" in result.stdout


@pytest.mark.parametrize("args", [["--faults", "429,503"], ["--base-delay", "-1"]])
def test_bad_arguments_are_refused_with_a_usage_message(args):
    result = run(*args, WORKBOOK_MODE="replay")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "usage:" in result.stderr
