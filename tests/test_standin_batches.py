"""What the stand-in plays of the API for many calls, and what the recordings keep of it: the Message
Batches API under the SDK's own `client.messages.batches` (bare, and recorded then replayed through
get_client), the anthropic-ratelimit-* headers on every Messages reply (kept in recordings, and not a
change when a re-record brings other values), and replies without streaming that take time.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import anthropic
import pytest
from anthropic.types.messages import MessageBatch

from helpers import MODEL, MissingRecordingError, get_client, tickets, wire
from helpers.costs import cost_usd
from helpers.faults import INPUT_TOKENS_PER_MINUTE, OUTPUT_TOKENS_PER_MINUTE, REQUESTS_PER_MINUTE
from helpers.recordings import RecordingFile
from helpers.retries import SimulatedTime
from instructor import record_lessons
from instructor.record_lessons import Outcome
from tests.conftest import FAKE_KEY
from tests.faces import SYNC, Client, Face
from tests.test_recorded_files import check_response, check_sample_token_counts
from tools.standin.http import StandinServer
from tools.standin.limits import Bucket, RateLimits
from tools.standin.replies import build_message, json_reply_delay, stream_events

LESSON = "batch_test"
TICKETS = tickets.TICKETS[:3]
STOPPED_AT = 1_900_000_000.0  # a whole second: what time.time() says while the clock stands still
RATE_LIMIT_HEADERS = {
    f"{wire.RATE_LIMIT_PREFIX}{kind}-{part}" for kind in wire.RATE_LIMIT_KINDS for part in wire.RATE_LIMIT_PARTS
}


def batch_requests(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"custom_id": f"ticket-{n}", "params": tickets.request_for(text)} for n, text in enumerate(TICKETS)] + [
        *extra
    ]


def run_batch(
    client: Client, requests: list[dict[str, Any]], face: Face = SYNC
) -> tuple[list[MessageBatch], list[Any]]:
    """Create a batch, retrieve it until its processing has ended, read its results: every MessageBatch
    seen on the way, and the results in the order they came."""
    batches = client.messages.batches
    seen = [face.result(batches.create(requests=requests))]
    while seen[-1].processing_status != "ended":
        assert len(seen) < 10, "the batch never ended"
        seen.append(face.result(batches.retrieve(seen[0].id)))
    return seen, face.listed(batches.results(seen[0].id))


def steady(batch: MessageBatch) -> dict[str, Any]:
    """A MessageBatch without what two servers cannot agree on: the times, and the results URL's host."""
    data = batch.model_dump(exclude={"created_at", "expires_at", "ended_at"})
    data["results_url"] = data["results_url"] and data["results_url"].split("/v1/", 1)[1]
    return data


def use(monkeypatch: pytest.MonkeyPatch, mode: str, *, key: str = "", base_url: str = "") -> None:
    monkeypatch.setenv("WORKBOOK_MODE", mode)
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", base_url)


@pytest.fixture
def bare() -> Iterator[anthropic.Anthropic]:
    """The SDK's own client, nothing of the workbook's underneath, against a stand-in of its own."""
    with StandinServer() as server:
        yield anthropic.Anthropic(base_url=server.url, api_key=FAKE_KEY, max_retries=0)


# --- the Message Batches API -----------------------------------------------------------------------


def test_a_batch_is_in_progress_for_two_polls_then_ended_with_a_result_per_request(bare):
    seen, results = run_batch(bare, batch_requests())
    created = seen[0]
    assert created.id.startswith("msgbatch_sample_") and created.type == "message_batch"
    assert [batch.processing_status for batch in seen] == ["in_progress", "in_progress", "in_progress", "ended"]
    assert created.request_counts.processing == len(TICKETS) and created.results_url is None
    assert (created.expires_at - created.created_at).total_seconds() == 24 * 3600
    ended = seen[-1]
    assert ended.request_counts.succeeded == len(TICKETS) and ended.request_counts.processing == 0
    assert ended.ended_at is not None and ended.ended_at >= created.created_at
    assert ended.results_url == f"{bare.base_url}".rstrip("/") + f"/v1/messages/batches/{created.id}/results"
    assert [entry.custom_id for entry in results] == [f"ticket-{n}" for n in range(len(TICKETS))]
    for entry, text in zip(results, TICKETS, strict=True):
        assert entry.result.type == "succeeded"
        # The Message the stand-in answers the same params with, when they are sent on their own.
        alone = bare.messages.create(**tickets.request_for(text))
        assert entry.result.message == alone
        assert tickets.category_of(entry.result.message) in tickets.CATEGORIES


def test_the_results_are_json_lines_of_the_content_type_the_api_sends(bare):
    seen, _ = run_batch(bare, batch_requests())
    raw = bare.messages.batches.with_raw_response.results(seen[0].id)
    assert raw.headers["content-type"] == "application/x-jsonl"
    assert raw.headers["content-disposition"].endswith(f"{seen[0].id}_results.jsonl")
    lines = raw.http_response.read().decode().splitlines()
    assert [json.loads(line)["custom_id"] for line in lines] == [f"ticket-{n}" for n in range(len(TICKETS))]


def test_the_same_requests_again_make_another_batch_with_another_id(bare):
    first = bare.messages.batches.create(requests=batch_requests())
    again = bare.messages.batches.create(requests=batch_requests())
    assert first.id != again.id
    assert [batch.id for batch in bare.messages.batches.list()] == [again.id, first.id], "most recent first"
    page = bare.messages.batches.list(limit=1)
    assert [batch.id for batch in page.data] == [again.id] and page.has_more
    assert [batch.id for batch in page.get_next_page().data] == [first.id]


@pytest.mark.parametrize(
    ("requests", "named"),
    [
        ([*batch_requests(), {"custom_id": "ticket-0", "params": tickets.request_for("Hello")}], "'ticket-0'"),
        ([{"custom_id": "not an id!", "params": tickets.request_for("Hello")}], "'not an id!'"),
        ([{"custom_id": "no-params"}], "'no-params'"),
        ([], "at least 1 item"),
    ],
    ids=["a custom_id twice", "a custom_id with spaces", "no params", "no requests"],
)
def test_a_batch_the_api_cannot_take_is_refused_at_once_naming_the_request(bare, requests, named):
    with pytest.raises(anthropic.BadRequestError) as refused:
        bare.messages.batches.create(requests=requests)
    assert refused.value.body["error"]["type"] == "invalid_request_error"
    assert named in refused.value.body["error"]["message"]
    assert list(bare.messages.batches.list()) == [], "a refused batch is not made"


def test_params_the_api_would_refuse_come_back_errored_once_the_batch_has_ended(bare):
    """As the API documents: a batch's params are validated when it is processed, not when it is sent."""
    empty = {"custom_id": "empty", "params": {"model": MODEL, "max_tokens": 50, "messages": []}}
    prefilled = {
        "custom_id": "prefilled",
        "params": {**tickets.request_for(TICKETS[0]), "messages": [{"role": "assistant", "content": "Hi"}]},
    }
    seen, results = run_batch(bare, batch_requests(empty, prefilled))
    counts = seen[-1].request_counts
    assert (counts.succeeded, counts.errored) == (len(TICKETS), 2)
    by_id = {entry.custom_id: entry.result for entry in results}
    assert by_id["empty"].type == "errored" and by_id["empty"].error.error.type == "invalid_request_error"
    assert "at least one message" in by_id["empty"].error.error.message
    assert by_id["prefilled"].type == "errored" and "first message" in by_id["prefilled"].error.error.message
    assert all(by_id[f"ticket-{n}"].type == "succeeded" for n in range(len(TICKETS)))


def test_a_batch_canceled_in_progress_ends_with_every_request_canceled_and_can_then_be_deleted(bare):
    batch = bare.messages.batches.create(requests=batch_requests())
    with pytest.raises(anthropic.BadRequestError, match="cancel it"):
        bare.messages.batches.delete(batch.id)
    canceling = bare.messages.batches.cancel(batch.id)
    assert canceling.processing_status == "canceling" and canceling.cancel_initiated_at is not None
    ended = bare.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended" and ended.request_counts.canceled == len(TICKETS)
    assert {entry.result.type for entry in bare.messages.batches.results(batch.id)} == {"canceled"}
    assert bare.messages.batches.delete(batch.id).type == "message_batch_deleted"
    with pytest.raises(anthropic.NotFoundError):
        bare.messages.batches.retrieve(batch.id)


def test_results_before_the_batch_has_ended_are_not_found(bare):
    batch = bare.messages.batches.create(requests=batch_requests())
    with pytest.raises(anthropic.NotFoundError, match="has not ended"):
        bare.get(f"/v1/messages/batches/{batch.id}/results", cast_to=object)


def test_a_local_model_server_has_no_batches():
    with StandinServer(plain_text=True) as server:
        client = anthropic.Anthropic(base_url=server.url, api_key="ollama", max_retries=0)
        with pytest.raises(anthropic.NotFoundError):
            client.messages.batches.create(requests=batch_requests())


# --- recorded through get_client, then replayed offline ---------------------------------------------


def test_a_batch_recorded_through_get_client_replays_the_same_batches_and_results_offline(
    face, recordings, bare, monkeypatch
):
    expected_seen, expected_results = run_batch(bare, batch_requests())
    with StandinServer() as server:
        use(monkeypatch, "record", key=FAKE_KEY, base_url=server.url)
        recorded_seen, recorded_results = run_batch(face.client(LESSON), batch_requests(), face)
        sent = len(server.state.requests)
    # The workbook's client changes nothing the SDK sees: what the bare client saw from another server.
    assert [steady(batch) for batch in recorded_seen] == [steady(batch) for batch in expected_seen]
    assert recorded_results == expected_results

    # Offline, behind another base URL (a gateway path too): the same objects, the results URL found by its path.
    for base_url in ("", "https://gateway.example/anthropic"):
        use(monkeypatch, "replay", base_url=base_url)
        replayed_seen, replayed_results = run_batch(face.client(LESSON), batch_requests(), face)
        assert replayed_seen == recorded_seen and replayed_results == recorded_results
    assert sent == len(recorded_seen) + 2  # create, the polls, results()'s own retrieve, and the results

    # What was stored: every response parses as its endpoint's type, sample token counts from the estimator.
    items = RecordingFile(recordings / f"{LESSON}.json").data["interactions"]
    assert [(item["request"]["method"], item["model"]) for item in items] == [
        ("POST", MODEL),
        ("GET", None),
        ("GET", None),
    ]
    for item in items:
        for response in item["responses"]:
            check_response(item, response)
    check_sample_token_counts(items)
    # The re-record's summary bills each request once, at the batch price.
    usages = [entry.result.message.usage for entry in recorded_results]
    tokens_in, tokens_out, dollars = Outcome(LESSON, [], items).usage()
    assert (tokens_in, tokens_out) == (sum(u.input_tokens for u in usages), sum(u.output_tokens for u in usages))
    assert dollars == pytest.approx(sum(cost_usd(usage, MODEL, batch=True) or 0 for usage in usages))


def test_a_replayed_batch_that_was_never_recorded_says_which_request_is_missing(recordings, monkeypatch):
    use(monkeypatch, "replay")
    with pytest.raises(MissingRecordingError, match=r"POST /v1/messages/batches, a Message Batch of 3 request"):
        get_client(LESSON, quiet=True).messages.batches.create(requests=batch_requests())
    with pytest.raises(MissingRecordingError, match=r"GET /v1/messages/batches/msgbatch_x"):
        get_client(LESSON, quiet=True).messages.batches.retrieve("msgbatch_x")


# --- rate-limit headers -------------------------------------------------------------------------------


def rate_limits(headers: Any) -> dict[str, str]:
    return {name: value for name, value in headers.items() if name.startswith(wire.RATE_LIMIT_PREFIX)}


def test_every_messages_reply_carries_the_rate_limit_headers_with_remaining_falling(bare, monkeypatch):
    monkeypatch.setattr(time, "time", lambda: STOPPED_AT)  # the stand-in's clock stands still: nothing flows back
    request = tickets.request_for(TICKETS[0])
    replies = [bare.messages.with_raw_response.create(**request) for _ in range(3)]
    with bare.messages.with_streaming_response.create(**request, stream=True) as streamed:
        streamed.read()  # to its end, as a reader would
        replies.append(streamed)
    seen = [rate_limits(reply.headers) for reply in replies]
    assert all(set(headers) == RATE_LIMIT_HEADERS for headers in seen)
    first = seen[0]
    assert first[f"{wire.RATE_LIMIT_PREFIX}requests-limit"] == str(REQUESTS_PER_MINUTE)
    assert first[f"{wire.RATE_LIMIT_PREFIX}input-tokens-limit"] == str(INPUT_TOKENS_PER_MINUTE)
    assert first[f"{wire.RATE_LIMIT_PREFIX}output-tokens-limit"] == str(OUTPUT_TOKENS_PER_MINUTE)
    assert first[f"{wire.RATE_LIMIT_PREFIX}tokens-limit"] == str(INPUT_TOKENS_PER_MINUTE + OUTPUT_TOKENS_PER_MINUTE)
    remaining = [int(headers[f"{wire.RATE_LIMIT_PREFIX}requests-remaining"]) for headers in seen]
    assert remaining == sorted(remaining, reverse=True) and remaining[0] > remaining[-1]
    assert remaining[0] == REQUESTS_PER_MINUTE - 1, "the reply counts its own request"
    used = int(first[f"{wire.RATE_LIMIT_PREFIX}input-tokens-limit"]) - int(
        first[f"{wire.RATE_LIMIT_PREFIX}input-tokens-remaining"]
    )
    assert used == replies[0].parse().usage.input_tokens, "the input the reply used is gone from the bucket"
    now = datetime.fromtimestamp(STOPPED_AT, UTC)
    for name, value in first.items():
        if name.endswith("-reset"):  # an RFC 3339 time in whole seconds: when the bucket is full again
            reset = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            assert timedelta(0) <= reset - now <= timedelta(minutes=1), f"{name} is not within the minute: {value}"


def test_a_429_from_the_standin_says_no_requests_remain():
    with StandinServer(failures=["429"]) as server:
        client = anthropic.Anthropic(base_url=server.url, api_key=FAKE_KEY, max_retries=0)
        with pytest.raises(anthropic.RateLimitError) as limited:
            client.messages.create(**tickets.request_for(TICKETS[0]))
    headers = limited.value.response.headers
    assert set(rate_limits(headers)) == RATE_LIMIT_HEADERS
    assert headers[f"{wire.RATE_LIMIT_PREFIX}requests-remaining"] == "0" and headers["retry-after"] == "1"


def test_with_the_limits_enforced_a_request_that_does_not_fit_gets_a_429_until_the_bucket_refills():
    limits = RateLimits(requests=Bucket(3))  # three a minute: one flows back every 20 seconds
    with StandinServer(enforce_rate_limits=True, rate_limits=limits) as server:
        client = anthropic.Anthropic(base_url=server.url, api_key=FAKE_KEY, max_retries=0)
        for _ in range(3):
            client.messages.create(**tickets.request_for(TICKETS[0]))
        with pytest.raises(anthropic.RateLimitError) as limited:
            client.messages.create(**tickets.request_for(TICKETS[0]))
        headers = limited.value.response.headers
        assert 19 <= int(headers["retry-after"]) <= 20
        assert headers[f"{wire.RATE_LIMIT_PREFIX}requests-remaining"] == "0"
        assert limited.value.body["error"]["type"] == "rate_limit_error"
        limits.requests.used -= 1  # as if 20 seconds had passed
        client.messages.create(**tickets.request_for(TICKETS[0]))


def test_a_replayed_reply_carries_the_recorded_rate_limit_headers_and_date(recordings, online, monkeypatch):
    use(monkeypatch, "record", key=FAKE_KEY, base_url=online.url)
    recorded = get_client(LESSON, quiet=True).messages.with_raw_response.create(**tickets.request_for(TICKETS[0]))
    use(monkeypatch, "replay")
    replayed = get_client(LESSON, quiet=True).messages.with_raw_response.create(**tickets.request_for(TICKETS[0]))
    assert rate_limits(replayed.headers) == rate_limits(recorded.headers) != {}
    assert replayed.headers["date"] == recorded.headers["date"]
    stored = RecordingFile(recordings / f"{LESSON}.json").data["interactions"][0]["responses"][0]["headers"]
    assert "server" not in stored and "x-workbook-sample" not in stored, "only the kept headers are stored"


def test_headers_that_differ_on_every_run_do_not_make_a_rerecord_a_change(recordings, monkeypatch):
    """Two runs against two servers, the second after requests of another lesson: other request ids,
    remaining counts, batch times and results URLs (another port); other dates and resets too. The same
    replies, so the same recording as far as a re-record is concerned."""
    other_lesson = {"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": "Hi"}]}
    runs = []
    for earlier in (0, 7):
        folder = recordings / f"run{earlier}"
        folder.mkdir()
        monkeypatch.setenv("WORKBOOK_RECORDINGS_DIR", str(folder))
        with StandinServer() as server:
            use(monkeypatch, "record", key=FAKE_KEY, base_url=server.url)
            client = get_client(LESSON, quiet=True)
            for _ in range(earlier):
                client.messages.create(**other_lesson)
            client.messages.create(**tickets.request_for(TICKETS[0]))
            run_batch(client, batch_requests())
        items = RecordingFile(folder / f"{LESSON}.json").data["interactions"]
        runs.append([item for item in items if item["request"]["body"] != other_lesson])
    before, after = runs
    reply = after[0]["responses"][0]
    later = {
        name: "2031-01-01T00:00:00Z" if name.endswith("-reset") else value for name, value in reply["headers"].items()
    }
    after[0]["responses"][0] = {**reply, "headers": {**later, "date": "Wed, 01 Jan 2031 00:00:00 GMT"}}
    assert json.dumps(before) != json.dumps(after), "the two runs should differ in what is volatile"
    assert record_lessons.same_replies(before, after)
    assert Outcome(LESSON, before, after).changed() == 0

    # A limit that changed (another tier) is a change.
    other_tier = {**reply, "headers": {**reply["headers"], f"{wire.RATE_LIMIT_PREFIX}requests-limit": "1000"}}
    assert not record_lessons.same_replies(before, [{**after[0], "responses": [other_tier]}, *after[1:]])


# --- time ------------------------------------------------------------------------------------------------


def test_with_json_latency_a_reply_takes_as_long_as_it_would_have_streamed(recordings, monkeypatch):
    timer = SimulatedTime()  # the stand-in's waits, and the clock the recording times replies by: exact and instant
    monkeypatch.setattr(time, "sleep", timer.sleep)
    monkeypatch.setattr(time, "monotonic", timer.clock)
    request = tickets.request_for(TICKETS[0])
    with StandinServer() as server:
        anthropic.Anthropic(base_url=server.url, api_key=FAKE_KEY).messages.create(**request)
    assert timer.clock() == 0, "without json_latency a reply comes at once"
    with StandinServer(json_latency=True, first_token_delay=0.3, pace=0.05) as server:
        use(monkeypatch, "record", key=FAKE_KEY, base_url=server.url)
        get_client(LESSON, quiet=True).messages.create(**request)
        message = build_message(request, server.state)
        expected = json_reply_delay(message, server.state, request)
    assert timer.clock() == expected, "with json_latency a reply waits as long as its stream would take"
    deltas = sum(1 for name, _ in stream_events(message) if name == "content_block_delta")
    elapsed = RecordingFile(recordings / f"{LESSON}.json").data["interactions"][0]["responses"][0]["elapsed"]
    assert 0.15 + 0.05 * deltas <= expected <= 0.9 + 0.05 * deltas, "the first token's wait is spread, within bounds"
    assert elapsed == round(expected, 3), "the recording keeps the time the reply took"


def test_reply_times_vary_from_request_to_request_but_not_from_run_to_run():
    state = StandinServer(json_latency=True, first_token_delay=0.6, pace=0.04).state
    times = [
        json_reply_delay(build_message(tickets.request_for(t), state), state, tickets.request_for(t)) for t in TICKETS
    ]
    assert len({round(t, 3) for t in times}) > len(TICKETS) // 2, "a busy server's replies take different times"
    again = [
        json_reply_delay(build_message(tickets.request_for(t), state), state, tickets.request_for(t)) for t in TICKETS
    ]
    assert times == again
