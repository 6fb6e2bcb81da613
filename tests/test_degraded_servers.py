"""Each shape a compatible server's replies can take where they fall short of the API, served by the
stand-in, meets one notice and the lesson's step goes on (helpers/notices.py and the helpers each uses).

The fast tier checks each shape against the helpers the lessons call; the release tier runs every
lesson, both editions, in live mode against the stand-in in each shape, with no error output.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import anthropic
import httpx2
import nbformat
import pytest
from nbclient import NotebookClient

from helpers import MODEL, get_async_client, get_client, tickets
from helpers.agent import count_input_tokens
from helpers.batches import create_batch
from helpers.notices import say_if_not_growing, sent_tokens
from tests.test_any_model import environment, error_outputs
from tools.standin.http import StandinServer
from tools.standin.replies import LLAMA_CPP_MODEL_PATH

ROOT = Path(__file__).resolve().parent.parent
REQUEST = {"model": MODEL, "max_tokens": 50, "messages": [{"role": "user", "content": "Hello"}]}
# The degraded shapes the release tier runs every lesson in (tools/standin/__init__.py says what each is).
SHAPES = {
    "llama-server": {"llama_cpp": True},
    "a proxy that does not stream, count tokens or batch": {
        "plain_text": True,
        "stream_as_json": True,
        "missing": {"count_tokens": 500, "batches": 501},
    },
    "flat usage, a Message for a batch": {
        "flat_usage": True,
        "batch_create_as_message": True,
        "missing": {"count_tokens": 405},
    },
}


def live(monkeypatch, server: StandinServer, tmp_path: Path) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("WORKBOOK_MODE", "live")
    monkeypatch.setenv("WORKBOOK_RECORDINGS_DIR", str(tmp_path))


@pytest.mark.parametrize("status", [404, 405, 500, 501])
def test_count_tokens_not_served_counts_nothing_and_is_asked_once(status, monkeypatch, tmp_path):
    with StandinServer(missing={"count_tokens": status}) as server:
        live(monkeypatch, server, tmp_path)
        assert count_input_tokens(get_client("lesson", quiet=True), REQUEST) is None
        assert len(server.state.requests) == 1, "a server without the endpoint is not asked again"


def test_the_apis_own_500_on_count_tokens_is_an_error_not_a_missing_endpoint(monkeypatch, tmp_path):
    with StandinServer(always="500") as server:
        live(monkeypatch, server, tmp_path)
        with pytest.raises(anthropic.InternalServerError):
            count_input_tokens(get_client("lesson", quiet=True), REQUEST)


@pytest.mark.parametrize(
    "shape", [{"missing": {"batches": 404}}, {"missing": {"batches": 501}}, {"batch_create_as_message": True}]
)
def test_a_server_without_message_batches_gets_one_line_and_no_batch(shape, monkeypatch, tmp_path):
    said: list[str] = []
    requests = [{"custom_id": "ticket-00", "params": tickets.request_for(tickets.TICKETS[0])}]
    with StandinServer(**shape) as server:
        live(monkeypatch, server, tmp_path)
        client = get_async_client("lesson", quiet=True)
        assert asyncio.run(create_batch(client, requests, say=said.append)) is None
    assert len(said) == 1 and "Message Batches API" in said[0]
    assert "<html" not in said[0].lower(), "never the server's page"


def test_flat_usage_is_said_not_to_grow(monkeypatch, tmp_path):
    said: list[str] = []
    with StandinServer(flat_usage=True) as server:
        live(monkeypatch, server, tmp_path)
        client = get_client("lesson", quiet=True)
        history = [{"role": "user", "content": "Hello"}]
        usages = []
        for turn in range(3):
            reply = client.messages.create(model=MODEL, max_tokens=50, messages=history)
            usages.append(reply.usage)
            history += [{"role": "assistant", "content": reply.content}, {"role": "user", "content": f"And {turn}?"}]
    say_if_not_growing(usages, so="x", say=said.append)
    assert len(said) == 1


def test_a_reply_without_a_tool_call_leaves_the_agent_one_call(monkeypatch, tmp_path):
    from helpers import bookshop
    from helpers.agent import Limits, run_agent

    with StandinServer(plain_text=True) as server:
        live(monkeypatch, server, tmp_path)
        run = run_agent(
            get_client("lesson", quiet=True),
            bookshop.TASK,
            limits=Limits(max_calls=2),
            show_text=None,
            say=None,
            tools=bookshop.TOOLS,
            toolbox=bookshop.TOOLBOX,
            system=bookshop.SYSTEM,
        )
    assert len(run.calls) == 1, "no tool call: the run ends by itself, under any max_calls"


# --- llama-server, as the stand-in plays it ------------------------------------------------------------


def test_the_llama_cpp_stand_in_reports_most_of_a_conversation_as_cache_reads_under_its_file_path(
    monkeypatch, tmp_path
):
    with StandinServer(llama_cpp=True) as server:
        live(monkeypatch, server, tmp_path)
        client = get_client("lesson", quiet=True)
        first = client.messages.create(**REQUEST)
        history = [
            *REQUEST["messages"],
            {"role": "assistant", "content": first.content},
            {"role": "user", "content": "More?"},
        ]
        second = client.messages.create(**{**REQUEST, "messages": history})
        raw = client.messages.with_raw_response.create(**REQUEST)
    assert first.model == second.model == LLAMA_CPP_MODEL_PATH, "the model is the file's path, whatever was asked"
    assert second.usage.cache_read_input_tokens and second.usage.cache_creation_input_tokens is None
    assert sent_tokens(second.usage) > sent_tokens(first.usage), "counted with its cache reads, the input grows"
    assert raw.parse().usage.input_tokens == 1, "a request sent again: all but one token read from its cache"
    assert "request-id" not in raw.headers


def test_the_llama_cpp_stand_in_streams_without_pings(monkeypatch, tmp_path):
    with StandinServer(llama_cpp=True) as server:
        live(monkeypatch, server, tmp_path)
        events = list(get_client("lesson", quiet=True).messages.create(**REQUEST, stream=True))
    kinds = [event.type for event in events]
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop" and "ping" not in kinds


@pytest.mark.parametrize(
    "body",
    [
        {**REQUEST, "messages": [{"role": "assistant", "content": "Hi"}]},
        {**REQUEST, "messages": []},
        {**REQUEST, "max_tokens": 0},
        {"max_tokens": 50, "messages": REQUEST["messages"]},
    ],
    ids=["starts with assistant", "empty messages", "max_tokens 0", "no model"],
)
def test_the_llama_cpp_stand_in_accepts_what_the_api_refuses(body):
    with StandinServer(llama_cpp=True) as server:
        response = httpx2.post(f"{server.url}/v1/messages", json=body)  # no key either
    assert response.status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"model": MODEL, "max_tokens": 50},
        {**REQUEST, "messages": [{"role": "user", "content": [{"type": "image", "source": {"type": "base64"}}]}]},
    ],
    ids=["no messages", "an image"],
)
def test_the_llama_cpp_stand_in_answers_500_in_its_own_error_format(body):
    with StandinServer(llama_cpp=True) as server:
        response = httpx2.post(f"{server.url}/v1/messages", json=body)
    assert response.status_code == 500
    error = response.json()
    assert "type" not in error and error["error"]["type"] == "server_error", "no top-level type, its own types"


def test_the_llama_cpp_stand_in_refuses_a_prompt_longer_than_its_context():
    long = {**REQUEST, "messages": [{"role": "user", "content": "word " * 40_000}]}
    with StandinServer(llama_cpp=True) as server:
        response = httpx2.post(f"{server.url}/v1/messages", json=long)
    assert response.status_code == 400 and response.json()["error"]["type"] == "exceed_context_size_error"


# --- every lesson in each shape (release) ------------------------------------------------------------


@pytest.mark.release
@pytest.mark.parametrize("edition", ["solutions", "notebooks"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("lesson", sorted(path.name for path in (ROOT / "solutions").glob("[0-9][0-9]_*.ipynb")))
def test_every_lesson_runs_to_its_end_in_each_degraded_shape(lesson, shape, edition, tmp_path):
    notebook = nbformat.read(ROOT / edition / lesson, as_version=4)
    with StandinServer(**SHAPES[shape]) as server:
        client = NotebookClient(
            notebook,
            timeout=180,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(ROOT / edition)}},
        )
        client.execute(env=environment(server, tmp_path))
    errors = error_outputs(notebook)
    assert not errors, f"{edition}/{lesson} against {shape}:\n" + "\n".join(errors)
