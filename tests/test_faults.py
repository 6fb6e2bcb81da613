"""helpers.faults: failures made on demand look to the SDK exactly like the API's own."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta, tzinfo

import anthropic
import httpx2
import pytest

from helpers import MODEL, faults
from helpers.checks import message_json
from helpers.faults import (
    FAULT_NAMES,
    REQUESTS_PER_MINUTE,
    TOKENS_PER_MINUTE,
    describe_fault,
    fault_transport,
    parse_faults,
    with_faults,
)
from helpers.retries import (
    SDK_INITIAL_RETRY_DELAY,
    SDK_JITTER_CUT,
    SDK_MAX_RETRY_DELAY,
    is_transient,
    retry_after_seconds,
)
from helpers.wire import ERRORS
from tests.faces import SYNC, Client, Face

REQUEST = {"model": MODEL, "max_tokens": 50, "messages": [{"role": "user", "content": "Hi"}]}
NEVER_RECORDED = {**REQUEST, "messages": [{"role": "user", "content": "A question nobody recorded"}]}
CLOSED = "http://127.0.0.1:9"  # nothing listens there: any request that reaches the network fails

# What each fault reaches the student as: the SDK's own error for it.
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


MOMENT = datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)  # the time while the clock stands still


class StoppedClock(datetime):
    """A datetime whose now() is always MOMENT: simulated time for what helpers.faults dates."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        return MOMENT.astimezone(tz) if tz is not None else MOMENT.replace(tzinfo=None)


def scripted(max_retries: int = 0, face: Face = SYNC) -> Client:
    """A client whose transport always answers with a small valid Message."""
    reply = message_json("Hello.", usage={"input_tokens": 8, "output_tokens": 2})
    return face.scripted(lambda request: httpx2.Response(200, json=reply), max_retries=max_retries)


def test_every_fault_name_is_covered():
    assert set(FAULT_ERRORS) == set(FAULT_NAMES)


@pytest.mark.parametrize("fault", FAULT_ERRORS)
def test_each_fault_reaches_the_student_as_the_sdks_own_error(face, fault):
    with pytest.raises(FAULT_ERRORS[fault]):
        face.result(with_faults(scripted(face=face), [fault]).messages.create(**REQUEST))


def test_faults_come_in_order_then_requests_pass_through(face):
    client = with_faults(scripted(face=face), ["429", "529", "timeout"])
    for error in (anthropic.RateLimitError, anthropic.OverloadedError, anthropic.APITimeoutError):
        with pytest.raises(error):
            face.result(client.messages.create(**REQUEST))
    assert face.result(client.messages.create(**REQUEST)).content[-1].text == "Hello."
    assert fault_transport(client).answered == ["429", "529", "timeout", "passed on"]


def test_a_429_carries_retry_after_in_seconds_and_milliseconds():
    with pytest.raises(anthropic.RateLimitError) as caught:
        with_faults(scripted(), ["429"], retry_after=0.25).messages.create(**REQUEST)
    headers = caught.value.response.headers
    assert headers["retry-after"] == "1", "retry-after is whole seconds, rounded up, as the API documents it"
    assert headers["retry-after-ms"] == "250", "the SDK-read extra keeps sub-second waits"
    assert retry_after_seconds(caught.value) == 0.25
    assert caught.value.body["error"]["type"] == "rate_limit_error"


def test_a_429_carries_the_documented_rate_limit_headers_consistent_with_retry_after_and_its_message(monkeypatch):
    monkeypatch.setattr(faults, "datetime", StoppedClock)  # the resets count from a moment that stands still
    with pytest.raises(anthropic.RateLimitError) as caught:
        with_faults(scripted(), ["429"], retry_after=2.5).messages.create(**REQUEST)
    headers = caught.value.response.headers

    def moment(name: str) -> datetime:
        return datetime.strptime(headers[name], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)

    assert headers["anthropic-ratelimit-requests-limit"] == str(REQUESTS_PER_MINUTE)
    assert headers["anthropic-ratelimit-requests-remaining"] == "0", "a 429 for requests: none left"
    assert moment("anthropic-ratelimit-requests-reset") - MOMENT == timedelta(seconds=3), "retry-after, rounded up"
    assert headers["anthropic-ratelimit-tokens-limit"] == str(TOKENS_PER_MINUTE)
    assert 0 < int(headers["anthropic-ratelimit-tokens-remaining"]) < TOKENS_PER_MINUTE
    assert timedelta(0) < moment("anthropic-ratelimit-tokens-reset") - MOMENT <= timedelta(seconds=60)
    assert f"{REQUESTS_PER_MINUTE} requests per minute" in ERRORS[429][1], "the message names the same limit"


def test_the_spend_limit_fault_is_a_429_with_an_error_code_and_nothing_that_says_wait():
    with pytest.raises(anthropic.RateLimitError) as caught:
        with_faults(scripted(), ["spend-limit"]).messages.create(**REQUEST)
    err = caught.value
    assert err.body["error"]["type"] == "rate_limit_error"
    assert err.body["error"]["details"] == {"error_code": "enforced_spend_limit_reached"}
    assert err.error_code == "enforced_spend_limit_reached" and err.request_id == "req_injected_0001"
    assert "retry-after" not in err.response.headers and retry_after_seconds(err) is None
    assert not is_transient(err)
    assert describe_fault("spend-limit") == "429 rate_limit_error (enforced_spend_limit_reached: no wait clears it)"


def test_the_sdks_own_retries_retry_a_spend_limit_which_is_why_a_retry_rule_reads_error_code(sleeps):
    client = with_faults(scripted(max_retries=2), [], always="spend-limit")
    with pytest.raises(anthropic.EnforcedSpendLimitReachedError):
        client.messages.create(**REQUEST)
    assert fault_transport(client).requests == 3, "the SDK's rule reads the status only"


def test_a_zero_retry_after_says_zero_in_both_headers():
    with pytest.raises(anthropic.RateLimitError) as caught:
        with_faults(scripted(), ["429"], retry_after=0).messages.create(**REQUEST)
    headers = caught.value.response.headers
    assert (headers["retry-after"], headers["retry-after-ms"]) == ("0", "0")


def test_an_error_inside_a_stream_comes_after_status_200_and_the_sdk_does_not_retry_it(face):
    client = with_faults(scripted(max_retries=2, face=face), ["midstream"])
    with pytest.raises(anthropic.APIStatusError) as caught:
        face.stream_text(client, **REQUEST)
    err = caught.value
    assert type(err) is anthropic.APIStatusError and err.status_code == 200
    assert err.body["error"]["type"] == "overloaded_error"
    assert fault_transport(client).requests == 1, "the SDK's retries end once a response has arrived"


def test_the_sdks_own_retries_see_the_faults_and_obey_retry_after(face, waits):
    client = with_faults(scripted(max_retries=2, face=face), ["429", "429"], retry_after=0.05)
    assert face.result(client.messages.create(**REQUEST)).stop_reason == "end_turn"
    assert fault_transport(client).requests == 3
    assert face.waited(waits) == [0.05, 0.05], "the SDK should wait retry-after-ms (0.05 s), not its own backoff"


def test_the_sdks_own_backoff_is_the_one_helpers_retries_carries(face, waits):
    client = with_faults(scripted(max_retries=1, face=face), ["529"])  # a 529 with no retry-after
    assert face.result(client.messages.create(**REQUEST)).stop_reason == "end_turn"
    (waited,) = face.waited(waits)
    shortest = (1 - SDK_JITTER_CUT) * min(SDK_INITIAL_RETRY_DELAY, SDK_MAX_RETRY_DELAY)
    assert shortest <= waited <= SDK_INITIAL_RETRY_DELAY, f"the SDK's first backoff was {waited} s"


def test_always_fails_for_ever_after_the_listed_faults():
    client = with_faults(scripted(), ["timeout"], always="529")
    for expected in (anthropic.APITimeoutError, anthropic.OverloadedError, anthropic.OverloadedError):
        with pytest.raises(expected):
            client.messages.create(**REQUEST)


def test_a_copy_keeps_the_original_client_working_and_its_settings():
    original = scripted(max_retries=0)
    flaky = with_faults(original, ["500"])
    assert flaky.max_retries == 0 and flaky.timeout == original.timeout
    with pytest.raises(anthropic.InternalServerError):
        flaky.messages.create(**REQUEST)
    flaky.close()  # closing the copy must not close the transport the original still uses
    assert original.messages.create(**REQUEST).stop_reason == "end_turn"


def test_faults_over_a_replaying_client_come_first_then_the_recorded_reply(face, online, recordings, monkeypatch):
    live = face.result(face.client().messages.create(**REQUEST))
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")  # offline: auto mode with no key replays what it recorded
    monkeypatch.setenv("ANTHROPIC_BASE_URL", CLOSED)
    client = with_faults(face.client(max_retries=0), ["529", "connection", "429"])
    with pytest.raises(anthropic.OverloadedError):
        face.result(client.messages.create(**REQUEST))
    with pytest.raises(anthropic.APIConnectionError):
        face.result(client.messages.create(**REQUEST))
    with pytest.raises(anthropic.RateLimitError):  # not a MissingRecordingError: the fault comes before replay
        face.result(client.messages.create(**NEVER_RECORDED))
    assert face.result(client.messages.create(**REQUEST)) == live, "after the faults, the recorded reply is replayed"
    assert fault_transport(client).answered == ["529", "connection", "429", "passed on"]
    assert len(online.state.requests) == 1, "the replaying client reached the network"


@pytest.mark.parametrize(
    ("text", "faults"), [("429,529", ["429", "529"]), ("none", []), ("", []), (" Timeout ", ["timeout"])]
)
def test_parse_faults_reads_the_command_line_form(text, faults):
    assert parse_faults(text) == faults


def test_parse_faults_names_the_choices_for_an_unknown_fault():
    with pytest.raises(ValueError, match=r"unknown fault.*503.*429"):
        parse_faults("429,503")


def test_faults_meant_for_the_model_calls_let_token_counts_through():
    from helpers.faults import MODEL_CALLS

    client = with_faults(scripted(), ["429"], paths=MODEL_CALLS)
    transport = fault_transport(client)
    with contextlib.suppress(Exception):  # the scripted server may not count tokens; only what it met matters
        client.messages.count_tokens(model=REQUEST["model"], messages=REQUEST["messages"])
    assert transport.requests == 0, "a token count must neither meet nor use up a fault"
    with pytest.raises(anthropic.RateLimitError):
        client.messages.create(**REQUEST)
    assert transport.answered == ["429"]
