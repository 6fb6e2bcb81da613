"""Recording and replay under the real SDK: what a lesson relies on when it runs offline."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

import anthropic
import pytest

from helpers import MODEL, CorruptRecordingError, MissingRecordingError, get_client
from helpers.client import PROVENANCE_TEXT
from helpers.recordings import IMPROVISED_FOLDER, RecordingFile, request_key
from helpers.settings import RECORDINGS_DIR, Mode
from tests.conftest import FAKE_KEY
from tools.standin.http import StandinServer

QUESTION = "What is an API, in two sentences?"


def ask(client: anthropic.Anthropic, question: str = QUESTION, **extra: object) -> anthropic.types.Message:
    return client.messages.create(
        model=MODEL, max_tokens=200, messages=[{"role": "user", "content": question}], **extra
    )


def stream_text(client: anthropic.Anthropic, question: str = QUESTION) -> tuple[str, anthropic.types.Message]:
    with client.messages.stream(model=MODEL, max_tokens=200, messages=[{"role": "user", "content": question}]) as s:
        text = "".join(s.text_stream)
        return text, s.get_final_message()


def record_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """From now on, time.sleep() is recorded instead of slept: the waits the SDK and the workbook asked for."""
    waited: list[float] = []
    monkeypatch.setattr(time, "sleep", waited.append)
    return waited


def improvised(recordings: Path) -> Path:
    """Where auto mode keeps what it recorded (never the shipped file)."""
    return recordings / "improvised" / "lesson.json"


def go_offline(monkeypatch: pytest.MonkeyPatch, mode: str = "auto") -> None:
    """No key, no server: what a student at home has (auto mode replays what auto mode recorded)."""
    monkeypatch.setenv("WORKBOOK_MODE", mode)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")  # nothing listens: any request would fail


def test_auto_mode_records_a_miss_then_replays_it_offline(online, recordings, monkeypatch):
    live = ask(get_client("lesson", quiet=True))
    assert len(online.state.requests) == 1
    go_offline(monkeypatch)
    replayed = ask(get_client("lesson", quiet=True))
    assert replayed == live, "a replayed reply should parse to exactly the recorded Message"


def test_a_stream_is_recorded_as_events_and_replayed_as_a_stream(online, recordings, monkeypatch):
    live_text, live_final = stream_text(get_client("lesson", quiet=True))
    stored = json.loads(improvised(recordings).read_text())["interactions"][0]["responses"][0]
    names = [event["event"] for event in stored["events"]]
    assert names[0] == "message_start" and names[-1] == "message_stop", names
    assert all(isinstance(event["at"], float | int) for event in stored["events"])

    go_offline(monkeypatch)
    text, final = stream_text(get_client("lesson", quiet=True))
    assert (text, final.usage) == (live_text, live_final.usage)


def test_replayed_stream_is_paced_by_recorded_timings_only_when_asked(recordings, monkeypatch):
    with StandinServer(pace=0.05) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        stream_text(get_client("lesson", quiet=True))
    recorded = json.loads(improvised(recordings).read_text())["interactions"][0]["responses"][0]["events"]
    go_offline(monkeypatch)
    waited = record_sleeps(monkeypatch)
    stream_text(get_client("lesson", quiet=True, stream_speed=0))
    assert waited == [], "speed 0 replays at once"
    stream_text(get_client("lesson", quiet=True, stream_speed=2))
    assert recorded[-1]["at"] > 0 and sum(waited) == pytest.approx(recorded[-1]["at"] / 2), "speed 2: half the time"


def test_miss_without_key_fails_at_once_with_a_message_that_says_what_to_do(recordings, standin, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", standin.url)
    client = get_client("lesson", quiet=True)
    waited = record_sleeps(monkeypatch)
    with pytest.raises(MissingRecordingError) as caught:
        ask(client, "a question never recorded")
    assert standin.state.requests == [], "a miss without a key must not touch the network"
    assert waited == [], "a miss is raised at once, not after the SDK's retries"
    message = str(caught.value)
    for needed in ("a question never recorded", "lesson.json", "ANTHROPIC_API_KEY", ".env"):
        assert needed in message, f"the message should mention {needed!r}: {message}"


def test_replay_mode_never_calls_the_api_even_with_a_key(online, recordings, monkeypatch):
    monkeypatch.setenv("WORKBOOK_MODE", "replay")
    with pytest.raises(MissingRecordingError, match="replay"):
        ask(get_client("lesson", quiet=True))
    assert online.state.requests == []


def test_record_mode_always_calls_and_replaces_what_was_recorded(online, recordings, monkeypatch):
    ask(get_client("lesson", quiet=True))
    monkeypatch.setenv("WORKBOOK_MODE", "record")
    ask(get_client("lesson", quiet=True))
    assert len(online.state.requests) == 2
    interactions = json.loads((recordings / "lesson.json").read_text())["interactions"]
    assert [len(item["responses"]) for item in interactions] == [1]


def test_live_mode_calls_the_api_and_saves_nothing(online, recordings, monkeypatch):
    monkeypatch.setenv("WORKBOOK_MODE", "live")
    ask(get_client("lesson", quiet=True))
    assert len(online.state.requests) == 1
    assert not (recordings / "lesson.json").exists()


def test_recordings_match_on_path_and_body_not_on_host(online, recordings, monkeypatch):
    live = ask(get_client("lesson", quiet=True))
    go_offline(monkeypatch)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "https://api.anthropic.com")
    replayed = ask(get_client("lesson", quiet=True))  # recorded at 127.0.0.1, replayed for another host
    assert replayed == live, "the reply recorded from one host should replay for any other"


def test_a_retried_request_replays_its_responses_in_order(recordings, monkeypatch):
    with StandinServer(failures=["429"]) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        ask(get_client("lesson", quiet=True, max_retries=1))
    responses = json.loads(improvised(recordings).read_text())["interactions"][0]["responses"]
    assert [r["status"] for r in responses] == [429, 200]
    assert responses[0]["headers"]["retry-after"] == "1"

    go_offline(monkeypatch)
    with pytest.raises(anthropic.RateLimitError):
        ask(get_client("lesson", quiet=True, max_retries=0))
    client = get_client("lesson", quiet=True, max_retries=0)
    with pytest.raises(anthropic.RateLimitError):
        ask(client)
    assert ask(client).stop_reason == "end_turn", "the second replay of the request is the recorded 200"


def test_a_timeout_is_recorded_and_replayed_as_the_sdks_timeout_error(recordings, monkeypatch):
    with StandinServer(failures=["timeout"], hang_seconds=1.0) as server:
        monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        with pytest.raises(anthropic.APITimeoutError):
            ask(get_client("lesson", quiet=True, max_retries=0, timeout=0.3))
    go_offline(monkeypatch)
    waited = record_sleeps(monkeypatch)
    with pytest.raises(anthropic.APITimeoutError):
        ask(get_client("lesson", quiet=True, max_retries=2))
    assert len(waited) == 2, "the SDK retried the replayed timeout twice (waits of its own, none from replay)"


def test_a_connection_error_is_recorded_and_replayed(recordings, monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")  # closed port: connection refused
    with pytest.raises(anthropic.APIConnectionError):
        ask(get_client("lesson", quiet=True, max_retries=0))
    go_offline(monkeypatch)
    with pytest.raises(anthropic.APIConnectionError) as caught:
        ask(get_client("lesson", quiet=True, max_retries=0))
    assert not isinstance(caught.value, anthropic.APITimeoutError)


def test_error_statuses_reach_the_student_as_the_sdks_typed_errors(online, recordings, monkeypatch):
    bad_history = [{"role": "assistant", "content": "Hello!"}]
    with pytest.raises(anthropic.BadRequestError):
        get_client("lesson", quiet=True).messages.create(model=MODEL, max_tokens=50, messages=bad_history)
    go_offline(monkeypatch)
    with pytest.raises(anthropic.BadRequestError, match="first message"):
        get_client("lesson", quiet=True).messages.create(model=MODEL, max_tokens=50, messages=bad_history)


def test_no_key_reaches_a_recording(online, recordings):
    ask(get_client("lesson", quiet=True))
    stream_text(get_client("lesson", quiet=True))
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
