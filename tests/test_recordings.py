"""Recording and replay under the real SDK: what a lesson relies on when it runs offline.

A test that takes `face` runs once with get_client() and once with get_async_client() (tests/faces.py).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import multiprocessing
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import pytest

from helpers import MODEL, CorruptRecordingError, MissingRecordingError, get_client
from helpers.client import PROVENANCE_TEXT
from helpers.recordings import IMPROVISED_FOLDER, RecordingFile, request_key
from helpers.settings import RECORDINGS_DIR, Mode
from tests.conftest import FAKE_KEY
from tests.faces import SYNC, Client, Face
from tests.test_live_path import CLOSED, LoopbackServer, responses_in, stall_before_headers, use
from tools.standin.http import StandinServer

QUESTION = "What is an API, in two sentences?"


def ask(client: Client, question: str = QUESTION, *, face: Face = SYNC) -> anthropic.types.Message:
    return face.result(
        client.messages.create(model=MODEL, max_tokens=200, messages=[{"role": "user", "content": question}])
    )


def stream_text(client: Client, question: str = QUESTION, *, face: Face = SYNC) -> tuple[str, anthropic.types.Message]:
    return face.stream_text(client, model=MODEL, max_tokens=200, messages=[{"role": "user", "content": question}])


def improvised(recordings: Path) -> Path:
    """Where auto mode keeps what it recorded (never the shipped file)."""
    return recordings / "improvised" / "lesson.json"


def go_offline(monkeypatch: pytest.MonkeyPatch, mode: str = "auto") -> None:
    """No key, no server: what a student at home has (auto mode replays what auto mode recorded)."""
    monkeypatch.setenv("WORKBOOK_MODE", mode)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", CLOSED)  # nothing listens: any request would fail


def expected_waits(events: list[dict[str, Any]], speed: float) -> list[float]:
    """The waits a replay at `speed` makes between a stream's events: the gaps of their recorded times."""
    times = [0.0] + [float(event["at"]) for event in events]
    return [(later - earlier) / speed for earlier, later in itertools.pairwise(times) if later > earlier]


def test_auto_mode_records_a_miss_then_replays_it_offline(face, online, recordings, monkeypatch):
    live = ask(face.client(), face=face)
    assert len(online.state.requests) == 1, "auto mode with a key did not call the server"
    assert improvised(recordings).exists(), "auto mode did not save what it recorded under improvised/"
    go_offline(monkeypatch)
    assert ask(face.client(), face=face) == live, "a replayed reply should parse to exactly the recorded Message"
    assert len(online.state.requests) == 1, "the offline replay reached the network"


def test_a_stream_is_recorded_as_events_and_replayed_as_a_stream(face, online, recordings, monkeypatch):
    live = stream_text(face.client(), face=face)
    (stored,) = responses_in(improvised(recordings))
    names = [event["event"] for event in stored["events"]]
    assert names[0] == "message_start" and names[-1] == "message_stop", names
    assert all(isinstance(event["at"], float | int) for event in stored["events"])
    assert "end" not in stored, f"a stream read to its end was saved as ending otherwise: {stored.get('end')}"

    go_offline(monkeypatch)
    assert stream_text(face.client(), face=face) == live, "the replayed stream differs from the recorded one"
    assert len(online.state.requests) == 1, "the offline replay reached the network"


def test_replayed_stream_is_paced_by_recorded_timings_only_when_asked(face, recordings, monkeypatch, waits):
    with StandinServer(pace=0.02) as server:
        use(monkeypatch, key=FAKE_KEY, base_url=server.url)
        live_text, _ = stream_text(face.client(), face=face)
    events = responses_in(improvised(recordings))[0]["events"]
    assert events[-1]["at"] > 0, "the stand-in did not pace its stream, so the test proves nothing"

    go_offline(monkeypatch)
    waits.clear()  # what recording asked for, if anything
    assert stream_text(face.client(stream_speed=0), face=face)[0] == live_text
    assert face.waited(waits) == [], "speed 0 replays at once"
    assert stream_text(face.client(stream_speed=2), face=face)[0] == live_text
    assert face.waited(waits) == pytest.approx(expected_waits(events, 2)), "speed 2: each recorded gap, halved"


def test_miss_without_key_fails_at_once_with_a_message_that_says_what_to_do(
    face, recordings, standin, monkeypatch, waits
):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", standin.url)
    with pytest.raises(MissingRecordingError) as caught:
        ask(face.client(), "a question never recorded", face=face)
    assert standin.state.requests == [], "a miss without a key must not touch the network"
    assert face.waited(waits) == [], "a miss is raised at once, not after the SDK's retries"
    message = str(caught.value)
    for needed in ("a question never recorded", "lesson.json", "ANTHROPIC_API_KEY", ".env"):
        assert needed in message, f"the message should mention {needed!r}: {message}"


def test_a_miss_that_breaks_an_api_rule_names_the_400_the_api_would_send(recordings, monkeypatch):
    go_offline(monkeypatch, mode="replay")
    client = get_client("lesson", quiet=True)
    call = {"type": "tool_use", "id": "toolu_1", "name": "get_order_status", "input": {"order_id": "A1"}}
    result = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "shipped"}
    tools = [{"name": "get_order_status", "input_schema": {"type": "object"}}]
    as_assistant = [
        {"role": "user", "content": "Where is A1?"},
        {"role": "assistant", "content": [call]},
        {"role": "assistant", "content": [result]},
    ]
    with pytest.raises(MissingRecordingError) as caught:
        client.messages.create(model=MODEL, max_tokens=50, tools=tools, messages=as_assistant)
    message = str(caught.value)
    assert "400" in message and "`tool_result` blocks can only be in `user` messages" in message, message
    assert "user turn" in message, f"the miss should say the fix: {message}"
    with pytest.raises(MissingRecordingError) as caught:
        client.messages.create(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": QUESTION}])
    assert "400" not in str(caught.value), "a request that breaks no rule is only a miss"


def test_replay_mode_never_calls_the_api_even_with_a_key(face, online, recordings, monkeypatch):
    monkeypatch.setenv("WORKBOOK_MODE", "replay")
    with pytest.raises(MissingRecordingError, match="replay"):
        ask(face.client(), face=face)
    assert online.state.requests == []


def test_record_mode_always_calls_and_replaces_what_was_recorded(online, recordings, monkeypatch):
    ask(get_client("lesson", quiet=True))
    monkeypatch.setenv("WORKBOOK_MODE", "record")
    ask(get_client("lesson", quiet=True))
    assert len(online.state.requests) == 2
    interactions = json.loads((recordings / "lesson.json").read_text())["interactions"]
    assert [len(item["responses"]) for item in interactions] == [1]


def test_live_mode_calls_the_api_and_saves_nothing(face, online, recordings, monkeypatch):
    monkeypatch.setenv("WORKBOOK_MODE", "live")
    ask(face.client(), face=face)
    assert len(online.state.requests) == 1
    assert not (recordings / "lesson.json").exists() and not improvised(recordings).exists(), "live mode saved"


def test_recordings_match_on_path_and_body_not_on_host(online, recordings, monkeypatch):
    live = ask(get_client("lesson", quiet=True))
    go_offline(monkeypatch)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://api.anthropic.com")
    replayed = ask(get_client("lesson", quiet=True))  # recorded at 127.0.0.1, replayed for another host
    assert replayed == live, "the reply recorded from one host should replay for any other"


def test_a_retried_request_replays_its_responses_in_order(face, recordings, monkeypatch, waits):
    with StandinServer(failures=["429"]) as server:
        use(monkeypatch, key=FAKE_KEY, base_url=server.url)
        ask(face.client(max_retries=1), face=face)
    assert face.waited(waits) == [1.0], "the SDK should have waited retry-after (1 s) once"
    responses = responses_in(improvised(recordings))
    assert [r["status"] for r in responses] == [429, 200]
    assert responses[0]["headers"]["retry-after"] == "1"

    go_offline(monkeypatch)
    with pytest.raises(anthropic.RateLimitError):
        ask(face.client(max_retries=0), face=face)
    client = face.client(max_retries=0)  # a new client replays from the first response again
    with pytest.raises(anthropic.RateLimitError):
        ask(client, face=face)
    assert ask(client, face=face).stop_reason == "end_turn", "the second replay of the request is the recorded 200"


@pytest.mark.parametrize("failure", ["timeout", "connection"])
def test_a_failure_is_recorded_and_replayed_as_the_same_httpx2_error(face, recordings, monkeypatch, waits, failure):
    error = anthropic.APITimeoutError if failure == "timeout" else anthropic.APIConnectionError
    # A server that sends nothing until it closes: the client's own timeout ends the request, however slow the machine.
    with contextlib.closing(LoopbackServer(stall_before_headers)) as server:
        use(monkeypatch, key=FAKE_KEY, base_url=server.url if failure == "timeout" else CLOSED)
        with pytest.raises(error) as caught:
            ask(face.client(max_retries=0, timeout=0.3), face=face)
    live = caught.value.__cause__
    assert isinstance(live, httpx2.RequestError), f"the SDK's error does not carry the httpx2 one: {live!r}"
    stored = responses_in(improvised(recordings))
    assert [r.get("error") for r in stored] == [failure] and "status" not in stored[0], stored

    go_offline(monkeypatch)
    with pytest.raises(error) as caught:
        ask(face.client(max_retries=2), face=face)
    replayed = caught.value.__cause__
    assert (type(replayed), str(replayed)) == (type(live), str(live)), "not replayed as the same httpx2 error"
    if failure == "connection":
        assert not isinstance(caught.value, anthropic.APITimeoutError), "a connection failure replayed as a timeout"
    assert len(face.waited(waits)) == 2, "two waits: the SDK's, before each retry; a replayed failure adds none"


def test_error_statuses_reach_the_student_as_the_sdks_typed_errors(online, recordings, monkeypatch):
    bad_history = [{"role": "assistant", "content": "Hello!"}]
    with pytest.raises(anthropic.BadRequestError):
        get_client("lesson", quiet=True).messages.create(model=MODEL, max_tokens=50, messages=bad_history)
    go_offline(monkeypatch)
    with pytest.raises(anthropic.BadRequestError, match="first message"):
        get_client("lesson", quiet=True).messages.create(model=MODEL, max_tokens=50, messages=bad_history)


def test_no_key_reaches_a_recording(face, online, recordings):
    ask(face.client(), face=face)
    stream_text(face.client(), face=face)
    assert online.state.requests[0]["headers"].get("Authorization") == f"Bearer {FAKE_KEY}", "the key was sent"
    text = improvised(recordings).read_text()
    assert FAKE_KEY not in text and "TESTONLY" not in text


def test_a_corrupt_recording_names_its_file(recordings):
    (recordings / "lesson.json").write_text('{"interactions": [ {"request": ')
    with pytest.raises(CorruptRecordingError, match=r"lesson\.json"):
        get_client("lesson", quiet=True)


def test_a_recording_without_responses_is_corrupt(recordings):
    request = {"method": "POST", "path": "/v1/messages", "body": {}}
    (recordings / "lesson.json").write_text(json.dumps({"interactions": [{"request": request, "responses": []}]}))
    with pytest.raises(CorruptRecordingError, match="has no responses"):
        get_client("lesson", quiet=True)


def _record_many(folder: str, worker: int, count: int) -> None:
    recording = RecordingFile(Path(folder) / "shared.json")
    for number in range(count):
        body = {"worker": worker, "number": number}
        request = {"method": "POST", "path": "/v1/messages", "body": body}
        recording.save_interaction(request, [{"status": 200, "body": body}], provenance="recorded", model=None)


def test_two_kernels_recording_at_once_lose_nothing_and_corrupt_nothing(recordings):
    workers = [multiprocessing.Process(target=_record_many, args=(str(recordings), n, 25)) for n in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    recording = RecordingFile(recordings / "shared.json")
    saved = {json.dumps(item["request"]["body"], sort_keys=True) for item in recording.data["interactions"]}
    assert len(saved) == 50, f"expected 50 interactions from two writers, found {len(saved)}"


def test_request_key_ignores_key_order_in_the_body():
    assert request_key("POST", "/v1/messages", {"a": 1, "b": 2}) == request_key(
        "POST", "/v1/messages", {"b": 2, "a": 1}
    )


def test_the_banner_says_whether_replies_are_samples(online, recordings, monkeypatch, capsys):
    monkeypatch.setenv("WORKBOOK_MODE", "record")
    ask(get_client("lesson", quiet=True))
    go_offline(monkeypatch, mode="auto")
    get_client("lesson")
    banner = capsys.readouterr().out
    assert f"recordings/lesson.json, {PROVENANCE_TEXT['sample']}" in banner, f"no sample provenance: {banner}"


def banner_of(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], mode: Mode, key: str) -> str:
    """What get_client() prints for lesson 01 in `mode`, with `key` ("" for none)."""
    monkeypatch.setenv("WORKBOOK_MODE", mode.value)
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    capsys.readouterr()
    get_client("01_call_anatomy")
    return capsys.readouterr().out


@pytest.fixture
def shipped_lesson(recordings: Path) -> Path:
    """A copy of lesson 01's shipped recordings (so no improvised file of this machine shows in a banner)."""
    name = "01_call_anatomy.json"
    (recordings / name).write_text((RECORDINGS_DIR / name).read_text(encoding="utf-8"), encoding="utf-8")
    return recordings


def test_the_banner_the_builds_store_is_the_one_a_student_without_a_key_sees(shipped_lesson, monkeypatch, capsys):
    # The notebooks are built in replay mode; a student runs them in auto mode, the default, with no key.
    stored = banner_of(monkeypatch, capsys, Mode.REPLAY, "")
    seen = banner_of(monkeypatch, capsys, Mode.AUTO, "")
    assert stored == seen, f"the stored banner differs from a student's:\n{stored}\n{seen}"


def test_the_banner_says_what_happens_to_requests_in_every_mode(shipped_lesson, monkeypatch, capsys):
    situations = [(Mode.AUTO, ""), (Mode.AUTO, FAKE_KEY), (Mode.REPLAY, FAKE_KEY), (Mode.RECORD, FAKE_KEY)]
    situations.append((Mode.LIVE, FAKE_KEY))
    first_lines = {situation: banner_of(monkeypatch, capsys, *situation).splitlines()[0] for situation in situations}
    assert len(set(first_lines.values())) == len(first_lines), f"two modes that differ read the same: {first_lines}"
    improvised_folder = f"recordings/{IMPROVISED_FOLDER}/"
    keeps_improvised = {situation: improvised_folder in line for situation, line in first_lines.items()}
    assert keeps_improvised == {situation: situation == (Mode.AUTO, FAKE_KEY) for situation in situations}, (
        f"only auto mode with a key keeps new replies in {improvised_folder}: {first_lines}"
    )
    recording = first_lines[Mode.RECORD, FAKE_KEY]
    assert "recordings/01_call_anatomy.json" in recording, f"record mode does not name the file it saves: {recording}"
    assert FAKE_KEY not in "".join(first_lines.values()), "the banner printed the key"
