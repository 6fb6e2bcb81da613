"""Auto mode with a key asks the server again only what may have changed: a transient failure.

A recorded 400 is the API's answer to that request, and a lenient server must not replace it; a failure
kept in improvised/ (no network in class, say) never hides the shipped reply; forget leaves nothing behind.
"""

from __future__ import annotations

import json
from pathlib import Path

import anthropic
import pytest

from helpers import MODEL, get_client
from helpers.recordings import RecordingFile, forget
from helpers.retries import is_transient_response
from tools.standin.http import StandinServer

REQUEST = {"model": MODEL, "max_tokens": 50, "messages": [{"role": "user", "content": "Hello"}]}
BAD_REQUEST = {
    "status": 400,
    "headers": {"content-type": "application/json"},
    "body": {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "messages: the first turn must be user"},
    },
}
OVERLOADED = {
    "status": 529,
    "headers": {},
    "body": {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
}
NO_NETWORK = {"error": "connection", "exception": "ConnectError", "message": "[Errno 101] Network is unreachable"}


def stored_request() -> dict:
    return {"method": "POST", "path": "/v1/messages", "body": json.loads(json.dumps(REQUEST, sort_keys=True))}


def ship(folder: Path, *responses: dict, lesson: str = "lesson") -> None:
    RecordingFile(folder / f"{lesson}.json").save_interaction(
        stored_request(), list(responses), provenance="sample", model=MODEL
    )


def improvise(folder: Path, *responses: dict) -> None:
    RecordingFile(folder / "improvised" / "lesson.json").save_interaction(
        stored_request(), list(responses), provenance="recorded", model=MODEL
    )


def with_key(monkeypatch, url: str) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", url)


def test_a_shipped_400_is_replayed_as_shipped_though_a_lenient_server_would_answer_200(recordings, monkeypatch):
    ship(recordings, BAD_REQUEST)
    with StandinServer(llama_cpp=True) as lenient:
        with_key(monkeypatch, lenient.url)
        with pytest.raises(anthropic.BadRequestError):
            get_client("lesson", max_retries=0, quiet=True).messages.create(**REQUEST)
        assert lenient.state.requests == [], "a recorded 400 is the API's answer: nothing is sent"


def test_a_recorded_transient_failure_is_asked_again(recordings, monkeypatch):
    ship(recordings, OVERLOADED)
    with StandinServer() as server:
        with_key(monkeypatch, server.url)
        reply = get_client("lesson", max_retries=0, quiet=True).messages.create(**REQUEST)
        assert len(server.state.requests) == 1 and reply.content, "a 529 may have cleared: ask again"


def test_a_failure_kept_in_improvised_never_hides_the_shipped_reply(recordings, monkeypatch):
    with StandinServer() as server:  # the shipped success, recorded from the stand-in
        with_key(monkeypatch, server.url)
        monkeypatch.setenv("WORKBOOK_MODE", "record")
        shipped = get_client("lesson", quiet=True).messages.create(**REQUEST)
    improvise(recordings, NO_NETWORK)
    monkeypatch.setenv("WORKBOOK_MODE", "auto")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    replayed = get_client("lesson", quiet=True).messages.create(**REQUEST)
    assert replayed.model_dump() == shipped.model_dump(), "the shipped reply wins over an improvised failure"


def test_a_shipped_400_wins_over_a_transient_failure_kept_in_improvised(recordings, monkeypatch):
    ship(recordings, BAD_REQUEST)
    improvise(recordings, NO_NETWORK)
    with pytest.raises(anthropic.BadRequestError):
        get_client("lesson", max_retries=0, quiet=True).messages.create(**REQUEST)


def test_which_stored_failures_are_transient():
    spend_limit = json.loads(json.dumps(BAD_REQUEST))
    spend_limit.update(status=429)
    spend_limit["body"]["error"].update(type="rate_limit_error", details={"error_code": "enforced_spend_limit_reached"})
    assert is_transient_response(NO_NETWORK) and is_transient_response(OVERLOADED)
    assert not is_transient_response(BAD_REQUEST) and not is_transient_response(spend_limit)
    assert is_transient_response({**BAD_REQUEST, "status": 429, "headers": {}})


def test_forget_leaves_no_lock_file_behind(recordings):
    improvise(recordings, NO_NETWORK)
    assert (recordings / "improvised" / "lesson.json.lock").exists(), "a save takes a lock beside the file"
    forget(recordings, ["lesson"])
    assert list((recordings / "improvised").iterdir()) == []
