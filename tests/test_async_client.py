"""get_async_client(): the async face passes the sync client's recording, replay, secret and fault tests.

Each test here mirrors one of tests/test_recordings.py, tests/test_live_path.py and tests/test_faults.py
with `anthropic.AsyncAnthropic` from get_async_client(), run in an event loop of its own (asyncio.run),
as a script would. The differential tests (tests/test_differential.py) compare both faces with the bare
SDK byte for byte; these check what a lesson relies on: replay offline, no key saved, misses that say
what to do, failures replayed as failures, faults on demand, waits that never block the event loop, and
one recording that both faces replay alike.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import anthropic
import anyio
import httpx2
import pytest

from helpers import MODEL, MissingRecordingError, get_async_client, get_client
from helpers.checks import message_json
from helpers.client import build_async_client
from helpers.faults import FAULT_NAMES, fault_transport, with_faults
from helpers.recordings import recorded_message
from helpers.scrubbing import REDACTED
from tests.conftest import FAKE_KEY
from tests.test_live_path import (
    Answer,
    LoopbackServer,
    echo_as_message,
    echo_as_stream,
    echo_split_across_events,
    refuse_the_key,
)
from tools.standin.http import StandinServer

Json = dict[str, Any]

QUESTION = "What is an API, in two sentences?"
CLOSED = "http://127.0.0.1:9"  # nothing listens there: any request that reaches the network fails
# Sent as x-api-key beside the Bearer key; built from parts, so no key-shaped text is tracked.
SECOND_KEY = "sk-ant-" + "api03-TESTONLY-second-" + "y" * 16
REQUEST = {"model": MODEL, "max_tokens": 50, "messages": [{"role": "user", "content": "Hi"}]}


# --- helpers -------------------------------------------------------------------------


def use(monkeypatch: pytest.MonkeyPatch, *, mode: str = "auto", key: str = "", base_url: str = "") -> None:
    monkeypatch.setenv("WORKBOOK_MODE", mode)
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", base_url)


def go_offline(monkeypatch: pytest.MonkeyPatch, mode: str = "auto") -> None:
    """No key, no server: anything that is not replayed fails."""
    use(monkeypatch, mode=mode, base_url=CLOSED)


async def ask(client: anthropic.AsyncAnthropic, question: str = QUESTION) -> anthropic.types.Message:
    return await client.messages.create(model=MODEL, max_tokens=200, messages=[{"role": "user", "content": question}])


async def stream_text(
    client: anthropic.AsyncAnthropic, question: str = QUESTION
) -> tuple[str, anthropic.types.Message]:
    pieces = []
    async with client.messages.stream(
        model=MODEL, max_tokens=200, messages=[{"role": "user", "content": question}]
    ) as events:
        async for text in events.text_stream:
            pieces.append(text)
        return "".join(pieces), await events.get_final_message()


def sync_stream_text(client: anthropic.Anthropic, question: str = QUESTION) -> tuple[str, anthropic.types.Message]:
    with client.messages.stream(model=MODEL, max_tokens=200, messages=[{"role": "user", "content": question}]) as s:
        return "".join(s.text_stream), s.get_final_message()


def run(
    work: Callable[[anthropic.AsyncAnthropic], Awaitable[Any]], client: anthropic.AsyncAnthropic | None = None
) -> Any:
    """work(client) in an event loop of its own, the client closed afterwards in the same loop.
    Without a client: a fresh get_async_client("lesson"), as the environment says."""

    async def in_a_loop() -> Any:
        async with client or get_async_client("lesson", quiet=True) as opened:
            return await work(opened)

    return asyncio.run(in_a_loop())


def client_with(**options: Any) -> anthropic.AsyncAnthropic:
    return get_async_client("lesson", quiet=True, **options)


def shipped(recordings: Path) -> Path:
    return recordings / "lesson.json"


def improvised(recordings: Path) -> Path:
    return recordings / "improvised" / "lesson.json"


def responses_in(path: Path) -> list[Json]:
    interactions = json.loads(path.read_text())["interactions"]
    assert len(interactions) == 1, f"{path.name} should hold one interaction, it holds {len(interactions)}"
    return interactions[0]["responses"]


def text_of(message: anthropic.types.Message) -> str:
    return "".join(block.text for block in message.content if block.type == "text")


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[float]]:
    """What waits in this test's own thread, where its event loops run, and how long: `blocking`
    (time.sleep, which would stall every task of the loop: recorded, not slept), `replay` (asyncio.sleep,
    which the transport paces replays with: really awaited) and `sdk` (anyio.sleep, which the async SDK
    waits between retries with: recorded, not slept). The servers' threads still sleep as they please."""
    seen: dict[str, list[float]] = {"blocking": [], "replay": [], "sdk": []}
    loop_thread, real_sleep, real_asyncio_sleep = threading.current_thread(), time.sleep, asyncio.sleep

    def blocking_sleep(delay: float) -> None:
        if threading.current_thread() is loop_thread:
            seen["blocking"].append(delay)
        else:
            real_sleep(delay)

    async def replay_sleep(delay: float, *args: Any, **kwargs: Any) -> Any:
        seen["replay"].append(delay)
        return await real_asyncio_sleep(delay, *args, **kwargs)

    async def sdk_sleep(delay: float) -> None:
        seen["sdk"].append(delay)

    monkeypatch.setattr(time, "sleep", blocking_sleep)
    monkeypatch.setattr(asyncio, "sleep", replay_sleep)
    monkeypatch.setattr(anyio, "sleep", sdk_sleep)
    return seen


# --- recording and replay --------------------------------------------------------------


def test_auto_mode_records_a_miss_then_replays_it_offline_with_no_key(online, recordings, monkeypatch):
    live = run(ask)
    live_text, live_final = run(stream_text)
    assert len(online.state.requests) == 2, "auto mode with a key did not call the server"
    assert improvised(recordings).exists(), "auto mode did not save what it recorded under improvised/"

    go_offline(monkeypatch)
    assert run(ask) == live, "a replayed reply should parse to exactly the recorded Message"
    text, final = run(stream_text)
    assert (text, final) == (live_text, live_final), "the replayed stream differs from the recorded one"
    assert len(online.state.requests) == 2, "the offline replay reached the network"


def test_a_stream_is_recorded_as_events_with_their_times(online, recordings):
    run(stream_text)
    stored = json.loads(improvised(recordings).read_text())["interactions"][0]["responses"][0]
    names = [event["event"] for event in stored["events"]]
    assert names[0] == "message_start" and names[-1] == "message_stop", names
    assert all(isinstance(event["at"], float | int) for event in stored["events"])
    assert "end" not in stored, f"a stream read to its end was saved as ending otherwise: {stored.get('end')}"


def test_record_mode_writes_the_shipped_file_and_live_mode_saves_nothing(online, recordings, monkeypatch):
    use(monkeypatch, mode="live", key=FAKE_KEY, base_url=online.url)
    run(ask)
    assert not shipped(recordings).exists() and not improvised(recordings).exists(), "live mode saved a recording"
    use(monkeypatch, mode="record", key=FAKE_KEY, base_url=online.url)
    run(ask)
    assert len(responses_in(shipped(recordings))) == 1, "record mode did not save the reply in the shipped file"
    assert not improvised(recordings).exists(), "record mode saved an improvised recording"
    assert len(online.state.requests) == 2


def test_calls_recorded_at_the_same_time_are_each_saved_and_replayed(online, recordings, monkeypatch):
    questions = [f"Question {n}: what is an API?" for n in range(4)]

    async def ask_all(client: anthropic.AsyncAnthropic) -> list[anthropic.types.Message]:
        return list(await asyncio.gather(*(ask(client, question) for question in questions)))

    live = run(ask_all)
    saved = json.loads(improvised(recordings).read_text())["interactions"]
    assert sorted(item["request"]["body"]["messages"][0]["content"] for item in saved) == questions
    go_offline(monkeypatch)
    assert run(ask_all) == live, "calls recorded concurrently did not replay as recorded"


def test_a_retried_request_replays_its_responses_in_order(recordings, monkeypatch, waits):
    with StandinServer(failures=["429"]) as server:
        use(monkeypatch, key=FAKE_KEY, base_url=server.url)
        run(ask, client_with(max_retries=1))
    assert waits["sdk"] == [1.0], "the async SDK should have waited retry-after (1 s) once"
    assert [r["status"] for r in responses_in(improvised(recordings))] == [429, 200]

    go_offline(monkeypatch)

    async def twice(client: anthropic.AsyncAnthropic) -> anthropic.types.Message:
        with pytest.raises(anthropic.RateLimitError):
            await ask(client)
        return await ask(client)

    assert run(twice, client_with(max_retries=0)).stop_reason == "end_turn", "the second replay is the 200"
    assert waits["blocking"] == [], "something blocked the event loop with time.sleep"


# --- a miss without a key -----------------------------------------------------------------


def test_a_miss_without_a_key_fails_at_once_with_the_fix(recordings, standin, monkeypatch, waits):
    use(monkeypatch, base_url=standin.url)
    with pytest.raises(MissingRecordingError) as caught:
        run(lambda client: ask(client, "a question never recorded"))
    assert standin.state.requests == [], "a miss without a key must not touch the network"
    assert waits == {"blocking": [], "replay": [], "sdk": []}, "a miss is raised at once, not after retries"
    message = str(caught.value)
    for needed in ("a question never recorded", "lesson.json", "ANTHROPIC_API_KEY", ".env"):
        assert needed in message, f"the message should mention {needed!r}: {message}"


def test_replay_mode_never_calls_the_api_even_with_a_key(online, recordings, monkeypatch):
    monkeypatch.setenv("WORKBOOK_MODE", "replay")
    with pytest.raises(MissingRecordingError, match="replay"):
        run(ask)
    assert online.state.requests == []


# --- failures are recorded and replayed as the same failures -------------------------------


@pytest.mark.parametrize("failure", ["timeout", "connection"])
def test_a_recorded_failure_replays_as_the_same_httpx2_error(recordings, monkeypatch, waits, failure):
    error = anthropic.APITimeoutError if failure == "timeout" else anthropic.APIConnectionError
    with StandinServer(failures=[failure], hang_seconds=1.0) as server:
        use(monkeypatch, key=FAKE_KEY, base_url=server.url if failure == "timeout" else CLOSED)
        with pytest.raises(error) as caught:
            run(ask, client_with(max_retries=0, timeout=0.3))
    live = caught.value.__cause__
    assert isinstance(live, httpx2.RequestError), f"the SDK's error does not carry the httpx2 one: {live!r}"
    stored = responses_in(improvised(recordings))
    assert [r.get("error") for r in stored] == [failure] and "status" not in stored[0], stored

    go_offline(monkeypatch)
    with pytest.raises(error) as caught:
        run(ask, client_with(max_retries=2))
    replayed = caught.value.__cause__
    assert (type(replayed), str(replayed)) == (type(live), str(live)), "not replayed as the same httpx2 error"
    if failure == "connection":
        assert not isinstance(caught.value, anthropic.APITimeoutError), "a connection failure replayed as a timeout"
    assert len(waits["sdk"]) == 2, "the SDK should retry the replayed failure twice, waiting with anyio.sleep"
    assert waits["blocking"] == [] and waits["replay"] == [], "a replayed failure waits for nothing of its own"


# --- secrets -------------------------------------------------------------------------------


def test_no_key_reaches_a_recording(online, recordings):
    run(ask)
    run(stream_text)
    sent = online.state.requests[0]["headers"]
    assert sent.get("Authorization") == f"Bearer {FAKE_KEY}", "the key was not sent, so the test proves nothing"
    text = improvised(recordings).read_text()
    assert FAKE_KEY not in text and "TESTONLY" not in text


def read_back(answer: Answer) -> Callable[[anthropic.AsyncAnthropic], Awaitable[str]]:
    """How to call a loopback server that answers with `answer`: what the student saw."""

    async def refused(client: anthropic.AsyncAnthropic) -> str:
        with pytest.raises(anthropic.AuthenticationError) as caught:
            await ask(client)
        return str(caught.value)

    async def asked(client: anthropic.AsyncAnthropic) -> str:
        return text_of(await ask(client))

    async def streamed(client: anthropic.AsyncAnthropic) -> str:
        return (await stream_text(client))[0]

    return {refuse_the_key: refused, echo_as_message: asked}.get(answer, streamed)


@pytest.mark.parametrize(
    "answer",
    [refuse_the_key, echo_as_message, echo_as_stream, echo_split_across_events],
    ids=lambda answer: answer.__name__,
)
@pytest.mark.parametrize("headers", ["bearer", "bearer and x-api-key"])
def test_a_key_the_server_echoes_back_is_scrubbed_before_saving(recordings, monkeypatch, answer, headers):
    server = LoopbackServer(answer)
    try:
        use(monkeypatch, mode="record", key=FAKE_KEY, base_url=server.url)
        client = client_with(max_retries=0)
        if headers != "bearer":
            client = client.with_options(default_headers={"x-api-key": SECOND_KEY})
        seen = run(read_back(answer), client)
    finally:
        server.close()
    keys = [FAKE_KEY] if headers == "bearer" else [FAKE_KEY, SECOND_KEY]
    assert server.requests[0].credentials == " ".join(reversed(keys)), "the keys were not sent as expected"
    assert all(key in seen for key in keys), "the server did not echo the key, so the test proves nothing"
    saved = shipped(recordings).read_text()
    assert "TESTONLY" not in saved, "a key was saved in the recording"
    assert REDACTED in saved, f"the echoed key was not replaced by {REDACTED!r}"
    message = recorded_message(responses_in(shipped(recordings))[0])
    if message is not None:  # a stream, joined as a reader joins it: no key spelled out across deltas
        assert "TESTONLY" not in text_of(message), "the saved stream spells out a key"


# --- faults on demand ----------------------------------------------------------------------


def scripted(max_retries: int = 0) -> anthropic.AsyncAnthropic:
    """An async client whose transport always answers with a small valid Message."""
    reply = message_json("Hello.", usage={"input_tokens": 8, "output_tokens": 2})
    transport = httpx2.MockTransport(lambda request: httpx2.Response(200, json=reply))
    return build_async_client(transport, api_key="check", max_retries=max_retries)


FAULT_ERRORS = {
    "400": anthropic.BadRequestError,
    "401": anthropic.AuthenticationError,
    "403": anthropic.PermissionDeniedError,
    "404": anthropic.NotFoundError,
    "413": anthropic.RequestTooLargeError,
    "429": anthropic.RateLimitError,
    "500": anthropic.InternalServerError,
    "529": anthropic.OverloadedError,
    "timeout": anthropic.APITimeoutError,
    "connection": anthropic.APIConnectionError,
    "midstream": anthropic.OverloadedError,  # without streaming, the API would send a 529
    "spend-limit": anthropic.EnforcedSpendLimitReachedError,
}


def test_every_fault_name_is_covered():
    assert set(FAULT_ERRORS) == set(FAULT_NAMES)


@pytest.mark.parametrize("fault", FAULT_ERRORS)
def test_each_fault_reaches_the_async_client_as_the_sdks_own_error(fault):
    with pytest.raises(FAULT_ERRORS[fault]):
        run(lambda client: client.messages.create(**REQUEST), with_faults(scripted(), [fault]))


def test_faults_come_in_order_then_requests_pass_through():
    client = with_faults(scripted(), ["429", "529", "timeout"])

    async def three_failures_then_a_reply(client: anthropic.AsyncAnthropic) -> anthropic.types.Message:
        for error in (anthropic.RateLimitError, anthropic.OverloadedError, anthropic.APITimeoutError):
            with pytest.raises(error):
                await client.messages.create(**REQUEST)
        return await client.messages.create(**REQUEST)

    assert run(three_failures_then_a_reply, client).content[0].text == "Hello."
    assert fault_transport(client).answered == ["429", "529", "timeout", "passed on"]


def test_the_sdks_own_retries_see_the_faults_and_obey_retry_after(waits):
    client = with_faults(scripted(max_retries=2), ["429", "429"], retry_after=0.05)
    assert run(lambda client: client.messages.create(**REQUEST), client).stop_reason == "end_turn"
    assert fault_transport(client).requests == 3
    assert waits["sdk"] == [0.05, 0.05], "the async SDK should wait retry-after-ms (0.05 s), not its own backoff"
    assert waits["blocking"] == [], "a retry blocked the event loop"


def test_an_error_inside_a_stream_comes_after_status_200_and_the_sdk_does_not_retry_it():
    client = with_faults(scripted(max_retries=2), ["midstream"])

    async def read(client: anthropic.AsyncAnthropic) -> None:
        async with client.messages.stream(**REQUEST) as stream:
            await stream.get_final_message()

    with pytest.raises(anthropic.APIStatusError) as caught:
        run(read, client)
    assert type(caught.value) is anthropic.APIStatusError and caught.value.status_code == 200
    assert caught.value.body["error"]["type"] == "overloaded_error"
    assert fault_transport(client).requests == 1, "the SDK's retries end once a response has arrived"


def test_faults_over_a_replaying_async_client_then_the_recorded_reply(online, recordings, monkeypatch):
    live = run(ask)
    go_offline(monkeypatch)
    client = with_faults(client_with(max_retries=0), ["529", "connection"])

    async def two_failures_then_the_reply(client: anthropic.AsyncAnthropic) -> anthropic.types.Message:
        with pytest.raises(anthropic.OverloadedError):
            await ask(client)
        with pytest.raises(anthropic.APIConnectionError):
            await ask(client)
        return await ask(client)

    assert run(two_failures_then_the_reply, client) == live, "after the faults, the recorded reply is replayed"
    assert fault_transport(client).answered == ["529", "connection", "passed on"]


# --- paced replay waits with asyncio.sleep ---------------------------------------------------


def expected_waits(events: list[Json], speed: float) -> list[float]:
    """The waits a replay at `speed` makes between a stream's events: the gaps of their recorded times."""
    times = [0.0] + [float(event["at"]) for event in events]
    return [(later - earlier) / speed for earlier, later in itertools.pairwise(times) if later > earlier]


def test_a_paced_stream_replay_awaits_asyncio_sleep_and_never_blocks(recordings, monkeypatch, waits):
    with StandinServer(pace=0.02) as server:
        use(monkeypatch, key=FAKE_KEY, base_url=server.url)
        live_text, _ = run(stream_text)
    events = responses_in(improvised(recordings))[0]["events"]
    assert events[-1]["at"] > 0.05, "the stand-in did not pace its stream, so the test proves nothing"

    go_offline(monkeypatch)
    waits["replay"].clear()  # what recording awaited, if anything
    assert run(stream_text, client_with(stream_speed=0))[0] == live_text
    assert waits["replay"] == [], "speed 0 replays at once"
    assert run(stream_text, client_with(stream_speed=2))[0] == live_text
    assert waits["replay"] == pytest.approx(expected_waits(events, 2)), "speed 2: each recorded gap, halved"
    assert waits["blocking"] == [], "a paced replay blocked the event loop with time.sleep"


ELAPSED = 0.4  # seconds: the recorded time of each reply in the test below


def test_paced_replies_replayed_at_the_same_time_overlap(online, recordings, monkeypatch, waits):
    questions = [f"Question {n}" for n in range(4)]

    async def ask_all(client: anthropic.AsyncAnthropic) -> tuple[list[anthropic.types.Message], float]:
        started = time.monotonic()
        replies = await asyncio.gather(*(ask(client, question) for question in questions))
        return list(replies), time.monotonic() - started

    live, _ = run(ask_all)
    recording = json.loads(improvised(recordings).read_text())
    for interaction in recording["interactions"]:
        interaction["responses"][0]["elapsed"] = ELAPSED  # as if the API had taken ELAPSED seconds each
    improvised(recordings).write_text(json.dumps(recording))

    go_offline(monkeypatch)
    waits["replay"].clear()  # what recording awaited, if anything
    replayed, took = run(ask_all, client_with(stream_speed=1))
    assert replayed == live
    assert waits["replay"] == [ELAPSED] * len(questions), "each reply waits its recorded time, with asyncio.sleep"
    assert waits["blocking"] == [], "a paced replay blocked the event loop with time.sleep"
    # Waited one after the other they would take 1.6 s; together, about 0.4 s (the bound is generous).
    assert ELAPSED * 0.9 <= took < ELAPSED * len(questions) * 0.75, f"{len(questions)} replays took {took:.2f} s"


# --- one recording, two faces ----------------------------------------------------------------


def comparable(path: Path) -> list[Json]:
    """A recording's interactions without what depends on the moment: times, and header values."""
    moments = {"at", "elapsed", "recorded_on"}

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            if "headers" in value:  # their names: the values (date, request id, limits left) vary
                value = {**value, "headers": sorted(value["headers"])}
            return {name: strip(item) for name, item in value.items() if name not in moments}
        if isinstance(value, list):
            return [strip(item) for item in value]
        return value

    return strip(json.loads(path.read_text())["interactions"])


def test_the_sync_and_async_clients_record_the_same_and_replay_one_recording_alike(
    online, recordings, tmp_path, monkeypatch
):
    use(monkeypatch, mode="record", key=FAKE_KEY, base_url=online.url)
    sync_client = get_client("lesson", quiet=True)
    sync_live = sync_client.messages.create(
        model=MODEL, max_tokens=200, messages=[{"role": "user", "content": QUESTION}]
    )
    sync_text, sync_final = sync_stream_text(sync_client)
    sync_client.close()

    async_folder = tmp_path / "async-recordings"
    async_folder.mkdir()
    monkeypatch.setenv("WORKBOOK_RECORDINGS_DIR", str(async_folder))
    run(ask)
    run(stream_text)
    assert comparable(shipped(async_folder)) == comparable(shipped(recordings)), "the two faces saved differently"

    # Both faces replay the recording the sync client made, and the one the async client made.
    go_offline(monkeypatch, mode="replay")
    for folder in (recordings, async_folder):
        monkeypatch.setenv("WORKBOOK_RECORDINGS_DIR", str(folder))
        sync_client = get_client("lesson", quiet=True)
        sync_replay = sync_client.messages.create(
            model=MODEL, max_tokens=200, messages=[{"role": "user", "content": QUESTION}]
        )
        sync_stream = sync_stream_text(sync_client)
        sync_client.close()
        async_replay, async_stream = run(ask), run(stream_text)
        assert async_replay == sync_replay, f"the faces replay {folder.name} differently"
        assert async_stream == sync_stream, f"the faces replay the stream in {folder.name} differently"
        if folder == recordings:
            assert (async_replay, async_stream) == (sync_live, (sync_text, sync_final)), "not what was recorded"
