"""helpers.retries: what is retried, how long it waits, and when it gives up, all without waiting."""

from __future__ import annotations

import itertools
import os
import random
import re
import subprocess
import sys
import typing

import anthropic
import httpx2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from helpers.checks import scripted_client
from helpers.faults import fault_transport, with_faults
from helpers.retries import (
    PERMANENT_ERROR_CODES,
    RETRYABLE_ERROR_TYPES,
    RetryLog,
    RetryPolicy,
    SimulatedTime,
    backoff_delay,
    call_with_retries,
    is_transient,
    retry_after_seconds,
)
from helpers.wire import ERRORS, error_body
from tests.conftest import ROOT
from tests.test_faults import REQUEST, scripted


def run(faults, always=None, policy=None, retry_after=1.0):
    client = with_faults(scripted(), faults, always=always, retry_after=retry_after)
    fake, log = SimulatedTime(), RetryLog()
    try:
        result = call_with_retries(
            lambda timeout: client.messages.create(**REQUEST, timeout=timeout),
            policy=policy or RetryPolicy(),
            log=log,
            sleep=fake.sleep,
            clock=fake.clock,
            rng=random.Random(1),
        )
    except anthropic.APIError as error:
        result = error
    return result, fake, log, fault_transport(client).requests


def status_error(status: int, headers: dict[str, str] | None = None) -> anthropic.APIStatusError:
    request = httpx2.Request("POST", "https://api.anthropic.com/v1/messages")
    response = httpx2.Response(status, headers=headers or {}, request=request)
    return anthropic.APIStatusError("test", response=response, body=None)


# --- what is transient ------------------------------------------------------------


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 529])
def test_rate_limits_timeouts_and_server_errors_are_transient(status):
    assert is_transient(status_error(status))


@pytest.mark.parametrize("status", [400, 401, 403, 404, 413, 422])
def test_client_errors_are_permanent(status):
    assert not is_transient(status_error(status))


def test_network_failures_are_transient():
    request = httpx2.Request("POST", "https://api.anthropic.com/v1/messages")
    assert is_transient(anthropic.APITimeoutError(request))
    assert is_transient(anthropic.APIConnectionError(request=request))


def test_the_servers_x_should_retry_header_wins():
    assert not is_transient(status_error(529, {"x-should-retry": "false"}))
    assert is_transient(status_error(400, {"x-should-retry": "true"}))


def test_retry_after_ms_is_preferred_and_junk_is_ignored():
    assert retry_after_seconds(status_error(429, {"retry-after": "3", "retry-after-ms": "1500"})) == 1.5
    assert retry_after_seconds(status_error(429, {"retry-after": "2"})) == 2.0
    assert retry_after_seconds(status_error(429, {"retry-after": "soon"})) is None
    assert retry_after_seconds(status_error(529)) is None


def test_a_retry_after_of_zero_means_back_off_as_usual_as_in_the_sdk():
    assert retry_after_seconds(status_error(429, {"retry-after": "0", "retry-after-ms": "0"})) is None
    _, fake, log, _ = run(["429"], retry_after=0.0)
    assert log.attempts[0].waited_because == "backoff" and fake.waits[0] > 0


def stream_error(kind: str) -> anthropic.APIStatusError:
    """What the SDK raises for an error event inside a stream: status 200, the type in the body."""
    request = httpx2.Request("POST", "https://api.anthropic.com/v1/messages")
    response = httpx2.Response(200, headers={"content-type": "text/event-stream"}, request=request)
    body = {"type": "error", "error": {"type": kind, "message": "..."}}
    return anthropic.APIStatusError(str(body), response=response, body=body)


@pytest.mark.parametrize("kind", sorted(RETRYABLE_ERROR_TYPES))
def test_an_error_inside_a_stream_is_judged_by_its_type(kind):
    assert is_transient(stream_error(kind))


def test_a_permanent_error_type_inside_a_stream_stays_permanent():
    assert not is_transient(stream_error("invalid_request_error"))


# --- the rule against every error class of the SDK, raised by a real client -------------------


def raised(answer) -> anthropic.APIError:
    """What a real SDK client raises when its transport answers with `answer` (the SDK's own path)."""
    with pytest.raises(anthropic.APIError) as caught:
        scripted_client(answer).messages.create(**REQUEST)
    return caught.value


def responding(status: int, kind: str | None = None, code: str | None = None, headers: dict[str, str] | None = None):
    """A transport answer: the API's error response for `status`, with error.details.error_code if `code`."""
    kind = kind or ERRORS.get(status, ("api_error" if status >= 500 else "invalid_request_error", ""))[0]
    body = error_body(kind, f"a {status} for the test")
    if code is not None:
        body["error"]["details"] = {"error_code": code}
    return lambda request: httpx2.Response(status, headers=headers or {}, json=body)


def failing(error: type[httpx2.TransportError]):
    def answer(request: httpx2.Request) -> httpx2.Response:
        raise error("injected for the test", request=request)

    return answer


TRANSIENT, PERMANENT = True, False
SDK_ERROR_CLASSES = [
    (anthropic.BadRequestError, responding(400), PERMANENT),
    (anthropic.AuthenticationError, responding(401), PERMANENT),
    (anthropic.PaymentRequiredError, responding(402), PERMANENT),
    (
        anthropic.LinkedOrganizationSpendLimitReachedError,
        responding(402, code="linked_organization_spend_limit_reached"),
        PERMANENT,
    ),
    (anthropic.PermissionDeniedError, responding(403), PERMANENT),
    (anthropic.NotFoundError, responding(404), PERMANENT),
    (anthropic.RequestTimeoutError, responding(408, "timeout_error"), TRANSIENT),
    (anthropic.ConflictError, responding(409, "conflict_error"), TRANSIENT),
    (anthropic.PreconditionFailedError, responding(412), PERMANENT),
    (anthropic.ContentTooLargeError, responding(413), PERMANENT),
    (anthropic.UnprocessableEntityError, responding(422), PERMANENT),
    (anthropic.RateLimitError, responding(429), TRANSIENT),
    (anthropic.RampLimitExceededError, responding(429, code="ramp_limit_exceeded"), TRANSIENT),
    (anthropic.EnforcedSpendLimitReachedError, responding(429, code="enforced_spend_limit_reached"), PERMANENT),
    (anthropic.ContractSpendLimitReachedError, responding(429, code="contract_spend_limit_reached"), PERMANENT),
    (anthropic.RequestHeaderFieldsTooLargeError, responding(431), PERMANENT),
    (anthropic.ClientClosedRequestError, responding(499), PERMANENT),
    (anthropic.InternalServerError, responding(500), TRANSIENT),
    (anthropic.HTTPNotImplementedError, responding(501), TRANSIENT),
    (anthropic.InternalServerError, responding(502), TRANSIENT),
    (anthropic.ServiceUnavailableError, responding(503), TRANSIENT),
    (anthropic.GatewayTimeoutError, responding(504), TRANSIENT),
    (anthropic.OverloadedError, responding(529), TRANSIENT),
    (anthropic.APITimeoutError, failing(httpx2.ReadTimeout), TRANSIENT),
    (anthropic.APIConnectionError, failing(httpx2.ConnectError), TRANSIENT),
]


@pytest.mark.parametrize(
    ("error_class", "answer", "transient"),
    SDK_ERROR_CLASSES,
    ids=[f"{cls.__name__}-{i}" for i, (cls, _, _) in enumerate(SDK_ERROR_CLASSES)],
)
def test_the_retry_rule_gives_the_right_answer_for_each_sdk_error_class_the_spend_limit_ones_included(
    error_class, answer, transient
):
    error = raised(answer)
    assert type(error) is error_class, f"the SDK raised {type(error).__name__}, not {error_class.__name__}"
    assert is_transient(error) is transient, (
        f"{error_class.__name__} should be {'transient' if transient else 'permanent'}"
    )


def error_codes(error_class: type) -> tuple[str, ...]:
    """The error_code a class of the SDK's stands for, from its Literal annotation."""
    annotation = error_class.__annotations__["error_code"]
    if isinstance(annotation, str):
        return tuple(re.findall(r"[\"'](\w+)[\"']", annotation))
    return typing.get_args(annotation)


def test_every_429_with_a_code_that_the_sdk_knows_is_judged_and_only_spend_limits_are_permanent():
    subclasses = anthropic.RateLimitError.__subclasses__()
    codes = {code: cls for cls in subclasses for code in error_codes(cls)}
    assert {"enforced_spend_limit_reached", "contract_spend_limit_reached"} <= set(codes), sorted(codes)
    for code, cls in codes.items():
        error = raised(responding(429, code=code))
        assert type(error) is cls, f"{code}: the SDK raised {type(error).__name__}"
        assert is_transient(error) is ("spend_limit" not in code), f"{code}: judged {is_transient(error)}"
    assert set(codes) >= PERMANENT_ERROR_CODES, "a permanent code the SDK no longer knows"


def test_an_unknown_code_on_a_429_leaves_it_transient_and_x_should_retry_still_wins():
    assert is_transient(raised(responding(429, code="some_future_code")))
    spent = responding(429, code="enforced_spend_limit_reached", headers={"x-should-retry": "false"})
    assert not is_transient(raised(spent))
    assert not is_transient(raised(responding(429, headers={"x-should-retry": "false"})))


def test_a_spend_limit_is_raised_at_once_saying_why():
    result, fake, log, requests = run(["spend-limit"])
    assert isinstance(result, anthropic.EnforcedSpendLimitReachedError)
    assert requests == 1 and fake.waits == [], "no wait clears a spend limit"
    assert log.attempts[0].outcome == "429 rate_limit_error (enforced_spend_limit_reached)"
    assert "spend limit does not clear by waiting" in result.__notes__[-1]


# --- the backoff, property-based ---------------------------------------------------

policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(1, 10),
    base_delay=st.floats(0, 5),
    max_delay=st.floats(5, 60),
    jitter=st.floats(0, 1),
)


@given(policy=policies, retry=st.integers(1, 2000), seed=st.integers(0, 2**32))
def test_every_backoff_wait_stays_within_its_bounds(policy, retry, seed):
    ceiling = min(policy.max_delay, policy.base_delay * 2 ** min(retry - 1, 60))
    wait = backoff_delay(retry, policy, random.Random(seed))
    assert ceiling * (1 - policy.jitter) - 1e-9 <= wait <= ceiling + 1e-9
    assert 0 <= wait <= policy.max_delay + 1e-9


@given(policy=policies, seed=st.integers(0, 2**32))
def test_without_jitter_the_waits_double_until_the_cap(policy, seed):
    exact = RetryPolicy(base_delay=policy.base_delay, max_delay=policy.max_delay, jitter=0)
    waits = [backoff_delay(n, exact, random.Random(seed)) for n in range(1, 12)]
    for before, after in itertools.pairwise(waits):
        assert after == pytest.approx(min(2 * before, exact.max_delay))


@given(seed=st.integers(0, 2**32), attempts=st.integers(1, 8), total=st.floats(0.01, 20))
def test_endless_failures_stop_within_both_caps(seed, attempts, total):
    policy = RetryPolicy(max_attempts=attempts, base_delay=0.5, max_delay=4.0, max_total=total)
    client = with_faults(scripted(), [], always="529")
    fake = SimulatedTime()
    with pytest.raises(anthropic.OverloadedError):
        call_with_retries(
            lambda timeout: client.messages.create(**REQUEST),
            policy=policy,
            sleep=fake.sleep,
            clock=fake.clock,
            rng=random.Random(seed),
        )
    assert fault_transport(client).requests <= attempts
    assert fake.now <= total + 1e-9, "the waiting never passes the total budget"


class HangingCall:
    """A request that hangs for `hang` seconds of fake time, or until its timeout, then times out."""

    def __init__(self, fake: SimulatedTime, hang: float) -> None:
        self.fake, self.hang = fake, hang
        self.timeouts: list[float] = []

    def __call__(self, timeout: float):
        self.timeouts.append(timeout)
        self.fake.now += min(self.hang, timeout)
        raise anthropic.APITimeoutError(httpx2.Request("POST", "https://api.anthropic.com/v1/messages"))


def test_the_budget_bounds_attempts_too_not_only_the_waits():
    # The reviewer's case: a 30 s budget, requests that hang for a 25 s timeout. Without handing each
    # attempt the time left, the second attempt ran to 50 s.
    fake = SimulatedTime()
    call = HangingCall(fake, hang=25.0)
    with pytest.raises(anthropic.APITimeoutError) as caught:
        call_with_retries(
            call, policy=RetryPolicy(max_total=30.0), sleep=fake.sleep, clock=fake.clock, rng=random.Random(0)
        )
    assert fake.now <= 30.0
    assert call.timeouts[0] == 30.0 and call.timeouts[1] < 5.0, "the retry gets only what is left"
    assert "budget" in caught.value.__notes__[-1]


@given(
    seed=st.integers(0, 2**32),
    total=st.floats(0.01, 60),
    hang=st.floats(0, 100),
    attempts=st.integers(1, 10),
    retry_after=st.one_of(st.none(), st.floats(0.01, 20)),
)
def test_an_attempt_that_obeys_its_timeout_never_runs_past_the_budget(seed, total, hang, attempts, retry_after):
    fake = SimulatedTime()
    hanging = HangingCall(fake, hang)
    limited = with_faults(scripted(), [], always="429", retry_after=retry_after or 1.0)

    def call(timeout: float):
        if retry_after is None:
            return hanging(timeout)
        fake.now += min(hang, timeout)  # a slow 429
        return limited.messages.create(**REQUEST)

    policy = RetryPolicy(max_attempts=attempts, base_delay=0.5, max_delay=8.0, max_total=total)
    with pytest.raises(anthropic.APIError):
        call_with_retries(call, policy=policy, sleep=fake.sleep, clock=fake.clock, rng=random.Random(seed))
    assert fake.now <= total + 1e-9


# --- the loop -------------------------------------------------------------------------


def test_transient_failures_are_retried_until_success():
    result, fake, log, requests = run(["429", "529", "timeout", "connection"], retry_after=2.0)
    assert isinstance(result, anthropic.types.Message)
    assert requests == 5 and len(fake.waits) == 4
    assert fake.waits[0] == 2.0, "the 429's retry-after is obeyed exactly"
    assert [a.outcome for a in log.attempts] == [
        "429 rate_limit_error",
        "529 overloaded_error",
        "timeout",
        "connection error",
        "ok",
    ]
    assert log.succeeded and "succeeded on attempt 5" in log.outcome


def test_a_permanent_error_is_raised_at_once_with_a_note():
    result, fake, _, requests = run(["400"])
    assert isinstance(result, anthropic.BadRequestError)
    assert requests == 1 and fake.waits == []
    assert "permanent" in result.__notes__[-1]


def test_endless_failures_give_up_after_max_attempts_with_the_last_error():
    result, fake, log, requests = run([], always="529", policy=RetryPolicy(max_attempts=4, base_delay=0.5))
    assert isinstance(result, anthropic.OverloadedError)
    assert requests == 4 and len(fake.waits) == 3, "no wait after the last attempt"
    assert log.outcome == "gave up after 4 attempts: max_attempts reached (last: 529 overloaded_error)"
    assert not log.succeeded


def test_a_retry_after_longer_than_the_budget_gives_up_instead_of_waiting():
    result, fake, log, requests = run(["429"], policy=RetryPolicy(max_total=5.0), retry_after=60.0)
    assert isinstance(result, anthropic.RateLimitError)
    assert requests == 1 and fake.waits == []
    assert "budget" in log.outcome


def test_workbook_errors_are_not_retried():
    from helpers.errors import MissingRecordingError

    def missing(timeout):
        raise MissingRecordingError("no recording")

    with pytest.raises(MissingRecordingError):
        call_with_retries(missing, sleep=lambda s: pytest.fail("must not wait"))


def test_the_log_prints_one_line_per_attempt_and_the_outcome():
    _, _, log, _ = run(["529"])
    lines = str(log).splitlines()
    assert lines[0].startswith("attempt 1 at 0.00 s: 529 overloaded_error, then waited")
    assert lines[-1].startswith("succeeded on attempt 2")


@pytest.mark.parametrize(
    "bad", [{"max_attempts": 0}, {"base_delay": 10, "max_delay": 1}, {"jitter": 2}, {"max_total": 0}]
)
def test_a_policy_that_makes_no_sense_is_refused(bad):
    with pytest.raises(ValueError):
        RetryPolicy(**bad)


# A fresh process: what the global random numbers and the helpers' jitter draw after the helpers are imported.
DRAWS = """
import random
import helpers
from helpers.retries import RetryPolicy, backoff_delay
print(random.random())
print([backoff_delay(4, RetryPolicy()) for _ in range(5)])
"""


def test_workbook_seed_seeds_the_helpers_jitter_and_leaves_the_global_random_numbers_alone():
    runs = [
        subprocess.run(
            [sys.executable, "-c", DRAWS],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "WORKBOOK_SEED": "2026"},
            cwd=ROOT,
            check=True,
        ).stdout.splitlines()
        for _ in range(2)
    ]
    (global_first, jitter_first), (global_second, jitter_second) = runs
    assert jitter_first == jitter_second, "with WORKBOOK_SEED set, two runs drew different jitter"
    assert global_first != global_second, "importing helpers seeded Python's global random numbers"
