"""The companion scripts under every fault in the matrix: exit 1 and one line on stderr that says what
went wrong and how to fix it, never a traceback, never the API's raw error dict.

The matrix runs each script's main() in-process through run_script (fast), with a fake key against a
server on 127.0.0.1: the stand-in server for the API's own errors, tests/scripted_server.py for what it
cannot send (a 403, a 413, a gateway's HTML page, a hang, a dropped connection, a 200 that is not a
Message). A few cases also run as real subprocesses, as a user runs them. explain_error's other
cases (errors inside a stream, a stream that breaks off, ...) are checked on the errors themselves.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import anthropic
import httpx2
import pydantic
import pytest

import helpers.client
from helpers import run_script, tickets
from helpers.cli import MAX_QUOTE, explain_error
from helpers.errors import CorruptRecordingError
from tests.conftest import FAKE_KEY, ROOT, run_script_process
from tests.scripted_server import Script, ScriptedServer
from tools.standin_server import ERRORS, StandinServer

SHORT_TIMEOUT = 0.3  # seconds; the scripts' own (get_client's 120 s) is patched down to this in-process
MAX_HANG = 10.0  # a hung reply ends by itself after this, should a patched timeout ever not apply

# batch_run sorts a file of one ticket, one call at a time: its run is then one call and that call's
# retries (three attempts, like the SDK's own for the other scripts), so the line reports the server's
# fault. With its 24 default tickets, the next call is already under way when the first one's error
# ends the run, and the stand-in's thread reports that abandoned request on stderr.
ONE_TICKET = Path(tempfile.mkdtemp(prefix="workbook-one-ticket-")) / "tickets.txt"
ONE_TICKET.write_text(f"{tickets.TICKETS[0]}\n", encoding="utf-8")
atexit.register(shutil.rmtree, ONE_TICKET.parent, ignore_errors=True)

# The arguments each script runs with: retry_pattern with no injected faults and one attempt, so the
# server's fault is what it reports, at once; agent (which injects none by default) with one attempt
# per request too; batch_run with one ticket (above).
SCRIPTS: dict[str, list[str]] = {
    "hello_api": [],
    "conversation": [],
    "retry_pattern": ["--faults", "none", "--max-attempts", "1"],
    "agent": ["--max-attempts", "1"],
    "batch_run": ["--concurrency", "1", str(ONE_TICKET)],
}

Env = dict[str, str]
Serve = Callable[[Path], AbstractContextManager[Env]]


# --- the faults ------------------------------------------------------------------


def live(url: str, folder: Path) -> Env:
    return {
        "WORKBOOK_MODE": "live",
        "ANTHROPIC_API_KEY": FAKE_KEY,
        "ANTHROPIC_BASE_URL": url,
        "WORKBOOK_RECORDINGS_DIR": str(folder),
    }


def standin(fault: str) -> Serve:
    """The stand-in API answering every request with one of its ERRORS (400, 401, 404, 429, 500, 529)."""

    @contextmanager
    def serve(folder: Path) -> Iterator[Env]:
        with StandinServer(always=fault) as server:
            yield live(server.url, folder)

    return serve


def scripted(script: Script) -> Serve:
    """The scripted server answering every request (the first and the SDK's two retries) with `script`."""

    @contextmanager
    def serve(folder: Path) -> Iterator[Env]:
        with ScriptedServer([script] * 3, max_hang=MAX_HANG) as server:
            yield live(server.url, folder)

    return serve


def json_reply(status: int, body: bytes, **options: object) -> Script:
    return Script(status=status, headers={"content-type": "application/json"}, body=body, chunked=False, **options)


def api_error(status: int, kind: str, message: str) -> Script:
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": f"req_{status}"}
    return Script(
        status=status,
        headers={"content-type": "application/json", "request-id": f"req_{status}"},
        body=json.dumps(body).encode(),
    )


@contextmanager
def closed_port(folder: Path) -> Iterator[Env]:
    """A port on 127.0.0.1 where nothing listens: the connection is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    yield live(f"http://127.0.0.1:{port}", folder)


@contextmanager
def replay_with_nothing_recorded(folder: Path) -> Iterator[Env]:
    yield {"WORKBOOK_MODE": "replay", "WORKBOOK_RECORDINGS_DIR": str(folder)}


@contextmanager
def corrupt_recordings(folder: Path) -> Iterator[Env]:
    for name in SCRIPTS:  # each script's recordings are named after it
        (folder / f"{name}.json").write_text('{"interactions": [{"request": ', encoding="utf-8")
    yield {"WORKBOOK_MODE": "replay", "WORKBOOK_RECORDINGS_DIR": str(folder)}


def said_by_standin(fault: str) -> str:
    """The stand-in's own message for `fault`, as the line quotes it (without its final period)."""
    return ERRORS[fault][2].rstrip(".")


@dataclass(frozen=True)
class Fault:
    serve: Serve
    fix: tuple[str, ...]  # what the line must say (case-insensitive): the fix, and what happened


GATEWAY_PAGE = b"<html>\n<head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad Gateway</h1></body>\n</html>\n"

FAULTS: dict[str, Fault] = {
    "400": Fault(standin("400"), ("rejected", said_by_standin("400"), "request-id req_sample_")),
    "401": Fault(standin("401"), ("401", "check ANTHROPIC_API_KEY in .env")),
    "403": Fault(
        scripted(api_error(403, "permission_error", "Your API key does not have permission to use the model.")),
        ("403 permission_error", "lacks permission", "does not have permission"),
    ),
    "404": Fault(standin("404"), ("404", "check the model name WORKBOOK_MODEL", "ANTHROPIC_BASE_URL")),
    "413": Fault(
        scripted(api_error(413, "request_too_large", "Request exceeds the maximum allowed number of bytes.")),
        ("413", "too large", "send less"),
    ),
    "429": Fault(
        standin("429"),
        (
            "429 rate_limit_error",
            f"wait {ERRORS['429'][3]['retry-after']} s (the server's retry-after)",
            "try again later",
        ),
    ),
    "500": Fault(standin("500"), ("500 api_error", "try again later")),
    "529": Fault(standin("529"), ("529 overloaded_error", said_by_standin("529"), "try again later")),
    "502 html": Fault(
        scripted(
            Script(status=502, headers={"content-type": "text/html"}, body=GATEWAY_PAGE, chunked=False),
        ),
        ("502 Bad Gateway", "text/html", "try again later"),
    ),
    "connection refused": Fault(closed_port, ("could not reach the server at http://127.0.0.1:", "check the network")),
    "read timeout": Fault(
        # The server sends its status line and headers, then nothing: the read times out.
        scripted(Script(status=200, headers={"content-type": "application/json"}, ending="hang")),
        ("no answer from http://127.0.0.1:", "in time", "try again"),
    ),
    "dropped": Fault(
        scripted(json_reply(200, b'{"id": "msg_01', content_length=400, ending="drop")),
        ("broke off before the reply was complete", "try again"),
    ),
    "not a Message": Fault(
        scripted(json_reply(200, b'{"hello": 1}')),
        ("not in the Messages API format", "ANTHROPIC_BASE_URL"),
    ),
    "invalid JSON": Fault(
        scripted(json_reply(200, b'{"id": "msg_01", "type": "mess')),
        ("not in the Messages API format", "JSONDecodeError", "ANTHROPIC_BASE_URL"),
    ),
    "missing recording": Fault(replay_with_nothing_recorded, ("matches this request", "WORKBOOK_MODE=auto")),
    "corrupt recording": Fault(corrupt_recordings, ("damaged", "git checkout")),
}

# Failures that are not the API's (anthropic.APIError): retry_pattern's loop lets them through untried.
NOT_API_ERRORS = ("not a Message", "invalid JSON", "missing recording", "corrupt recording")

# --- running a script ------------------------------------------------------------


def load(name: str) -> ModuleType:
    """scripts/<name>.py as a module, its main() not yet run."""
    spec = importlib.util.spec_from_file_location(f"_script_{name}", ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    """No waiting in-process: the SDK still retries (each fault is sent three times), but at once;
    and a request that gets no answer times out after SHORT_TIMEOUT, not get_client's 120 s."""
    monkeypatch.setattr(anthropic.Anthropic, "_calculate_retry_timeout", lambda self, *args, **kwargs: 0.0)
    monkeypatch.setattr(helpers.client, "DEFAULT_TIMEOUT", httpx2.Timeout(SHORT_TIMEOUT))


def run_in_process(name: str, env: Env, monkeypatch: pytest.MonkeyPatch, capsys) -> tuple[int, str]:
    """Run scripts/<name>.py's main() as its `__main__` block does; return the exit status and stderr."""
    for variable in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "WORKBOOK_DEBUG", "WORKBOOK_MODEL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("WORKBOOK_STREAM_SPEED", "0")
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    module = load(name)
    if hasattr(module, "call_with_retries"):
        # retry_pattern hands each attempt the seconds left in its 30 s budget as the request's
        # timeout; cap it, so that a hung server times out as quickly here as for the other scripts.
        retry = module.call_with_retries
        monkeypatch.setattr(
            module,
            "call_with_retries",
            lambda call, **options: retry(lambda left: call(min(left, SHORT_TIMEOUT)), **options),
        )
    monkeypatch.setattr(sys, "argv", [f"scripts/{name}.py", *SCRIPTS[name]])
    capsys.readouterr()
    status = run_script(module.main)
    return status, capsys.readouterr().err


def assert_one_line_with_the_fix(status: int, stderr: str, fix: tuple[str, ...]) -> str:
    assert status == 1, stderr
    assert "Traceback" not in stderr
    assert "{'type': 'error'" not in stderr and '{"type": "error"' not in stderr, "never the raw error dict"
    assert "<html>" not in stderr, "never a gateway's raw page"
    assert FAKE_KEY not in stderr
    assert stderr.count("\n") == 1 and stderr.endswith("\n"), f"exactly one line:\n{stderr}"
    line = stderr.rstrip("\n")
    assert line.startswith("error: "), line
    for words in fix:
        assert words.lower() in line.lower(), f"{words!r} missing from: {line}"
    return line


# --- the matrix ------------------------------------------------------------------


@pytest.mark.usefixtures("quick")
@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_reports_every_fault_in_one_line_with_its_fix(name, fault, tmp_path, monkeypatch, capsys):
    with FAULTS[fault].serve(tmp_path) as env:
        status, stderr = run_in_process(name, env, monkeypatch, capsys)
    line = assert_one_line_with_the_fix(status, stderr, FAULTS[fault].fix)
    if name == "retry_pattern" and fault not in NOT_API_ERRORS:
        assert "Retries: gave up after 1 attempt" in line, "retry_pattern adds how its retries ended"


@pytest.mark.parametrize(
    ("name", "fault"),
    [
        ("hello_api", "401"),
        ("hello_api", "not a Message"),
        ("conversation", "404"),
        ("conversation", "corrupt recording"),
        ("retry_pattern", "529"),
        ("retry_pattern", "missing recording"),
        ("agent", "400"),
        ("batch_run", "404"),
    ],
)
def test_as_a_subprocess_too(name, fault, tmp_path):
    # Faults the SDK does not retry (or, for retry_pattern, retries only once), so nothing waits.
    with FAULTS[fault].serve(tmp_path) as env:
        result = run_script_process(f"{name}.py", *SCRIPTS[name], WORKBOOK_DEBUG="", **env)
    assert_one_line_with_the_fix(result.returncode, result.stderr, FAULTS[fault].fix)


def test_the_same_fault_reads_alike_in_every_script(tmp_path, monkeypatch, capsys):
    lines = {}
    with FAULTS["401"].serve(tmp_path) as env:
        for name in SCRIPTS:
            status, stderr = run_in_process(name, env, monkeypatch, capsys)
            lines[name] = assert_one_line_with_the_fix(status, stderr, FAULTS["401"].fix)
    plain = {line.split(" (401 ")[0] for line in lines.values()}
    assert len(plain) == 1, lines
    assert (
        lines["retry_pattern"].split(" Retries: ")[0].split("request-id")[0]
        == (lines["hello_api"].split("request-id")[0])
    )


# --- run_script's own rules --------------------------------------------------------


def test_a_bug_in_a_script_is_one_line_too_and_workbook_debug_shows_the_traceback(monkeypatch, capsys):
    def buggy() -> int:
        return {}["missing"]

    monkeypatch.delenv("WORKBOOK_DEBUG", raising=False)
    assert run_script(buggy) == 1
    err = capsys.readouterr().err
    assert err == "error: unexpected KeyError: 'missing'. Set WORKBOOK_DEBUG=1 to see where.\n"

    monkeypatch.setenv("WORKBOOK_DEBUG", "1")
    assert run_script(buggy) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and err.endswith(
        "error: unexpected KeyError: 'missing'. Set WORKBOOK_DEBUG=1 to see where.\n"
    )


def test_ctrl_c_is_exit_130_and_usage_errors_keep_argparse_s_exit_2(capsys):
    def interrupted() -> int:
        raise KeyboardInterrupt

    def bad_usage() -> int:
        raise SystemExit(2)

    assert run_script(interrupted) == 130
    assert capsys.readouterr().err == "interrupted\n"
    with pytest.raises(SystemExit) as exit_info:
        run_script(bad_usage)
    assert exit_info.value.code == 2
    assert run_script(lambda: None) == 0 and run_script(lambda: 3) == 3


# --- explain_error on errors the scripts above cannot meet -------------------------------------

REQUEST = httpx2.Request("POST", "https://user:s3cret@api.example.com:8443/v1/messages")


def status_error(status: int, body: object, **headers: str) -> anthropic.APIStatusError:
    response = httpx2.Response(status, headers=headers, json=body, request=REQUEST)
    return anthropic.APIStatusError("raw message the SDK made", response=response, body=body)


def api_body(kind: str, message: str) -> dict:
    return {"type": "error", "error": {"type": kind, "message": message}}


def test_an_error_event_inside_a_stream_says_try_again_later():
    # What the SDK raises when a stream that began with status 200 carries an `error` event.
    line = explain_error(status_error(200, api_body("overloaded_error", "Overloaded"), **{"request-id": "req_1"}))
    assert line == (
        "error: the reply broke off with an error inside the stream (200 overloaded_error: Overloaded; "
        "request-id req_1). Try again later."
    )


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (httpx2.RemoteProtocolError("peer closed connection without sending complete message body"), "broke off"),
        (httpx2.ReadTimeout("timed out"), "no more of it arrived in time"),
        (httpx2.ReadError("connection reset"), "the connection failed"),
    ],
)
def test_a_stream_that_breaks_off_while_it_is_read_says_try_again(error, expected):
    line = explain_error(error)
    assert line.startswith("error: the reply broke off") and expected in line and line.endswith("Try again.")


def test_a_reply_the_sdk_cannot_read_points_at_the_base_url():
    class Strict(pydantic.BaseModel):
        content: list

    with pytest.raises(pydantic.ValidationError) as invalid:
        Strict.model_validate({"hello": 1})
    response = httpx2.Response(200, json={"hello": 1}, request=REQUEST)
    for error in (invalid.value, anthropic.APIResponseValidationError(response, {"hello": 1})):
        line = explain_error(error)
        assert "not in the Messages API format" in line and "ANTHROPIC_BASE_URL" in line
        assert "\n" not in line and len(line) < 400


def test_connection_errors_name_the_server_without_its_credentials():
    refused = anthropic.APIConnectionError(request=REQUEST)
    refused.__cause__ = httpx2.ConnectError("[Errno 111] Connection refused")
    line = explain_error(refused)
    assert line == (
        "error: could not reach the server at https://api.example.com:8443 (ConnectError: [Errno 111] Connection "
        "refused). Check the network and ANTHROPIC_BASE_URL."
    )
    timeout = explain_error(anthropic.APITimeoutError(request=REQUEST))
    assert "s3cret" not in timeout and "user" not in timeout and "https://api.example.com:8443" in timeout


def test_a_long_server_message_is_one_line_capped():
    message = "The first line\n\n   and the second,\t" + "very " * 200 + "long."
    line = explain_error(status_error(400, api_body("invalid_request_error", message)))
    assert "\n" not in line and "\t" not in line and "The first line and the second, very very" in line
    assert len(line) < MAX_QUOTE + 150 and "…" in line


@pytest.mark.parametrize(
    ("status", "kind", "fix"),
    [
        (402, "billing_error", "billing"),
        (408, "timeout_error", "try again"),
        (422, "invalid_request_error", "the message says what is wrong"),
        (503, None, "the service had a problem (503 Service Unavailable"),
    ],
)
def test_other_statuses_still_get_one_line_with_a_fix(status, kind, fix):
    body = api_body(kind, "Something.") if kind else None
    line = explain_error(status_error(status, body))
    assert line.startswith("error: ") and fix.lower() in line.lower() and "raw message the SDK made" not in line


def test_a_workbook_error_is_printed_as_it_is():
    error = CorruptRecordingError("The recording file x.json is damaged. Restore it with `git checkout -- x.json`.")
    assert explain_error(error) == f"error: {error}"
