"""Retrying a call the careful way, with every attempt and wait written down.

A retry helps only when the failure is *transient*: the same request may succeed a little
later. `is_transient` follows the SDK's own rule (the server's x-should-retry header when it
sends one; otherwise 408, 409, 429, every 5xx including 529, timeouts and dropped connections)
and adds one case the SDK cannot retry: an error event inside a stream that had already
started with status 200, recognised by its error type. A *permanent* failure (400 bad request,
401, 403, 404...) gets the same answer however often it is sent, so it is raised at once. So does
a 429 whose error_code names a spend limit (enforced_spend_limit_reached,
contract_spend_limit_reached): it is a RateLimitError, and the SDK would retry it, but the limit
lasts until someone raises it or the month ends, so no wait clears it.

Between attempts the wait grows exponentially (base_delay, 2x, 4x...), each wait capped at
max_delay and shortened by a random amount (jitter) so that many clients that failed together
do not all come back at the same instant. When the server says how long to wait (retry-after),
that wins. A total time budget bounds the whole thing: each attempt is handed the seconds left,
to pass on as its request's timeout, and no wait is started that would use the budget up.

`sleep`, `clock` and `rng` can be replaced, so tests and exercise checks run instantly and
deterministically.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

import anthropic

from .settings import JITTER_RANDOM
from .wire import error_type

T = TypeVar("T")

# The SDK's own backoff when a response asks for no particular wait: 0.5 s before the first retry,
# doubling, at most 8 s, each cut by a jitter of up to a quarter. Carried here because the SDK keeps
# them in a private module (anthropic/_constants.py; anthropic/_base_client.py, _calculate_retry_timeout);
# tests/test_faults.py checks them against what the SDK really waits.
SDK_INITIAL_RETRY_DELAY = 0.5
SDK_MAX_RETRY_DELAY = 8.0
SDK_JITTER_CUT = 0.25

# Statuses worth retrying: request timeout, conflict, rate limit, and every server error (529 too).
RETRYABLE_STATUSES = frozenset({408, 409, 429})
# Error types worth retrying, read from the error body. They matter when the status says nothing:
# an error event inside a stream arrives after the HTTP status 200, and the SDK raises it as a plain
# APIStatusError with status_code 200 (and does not retry it: its retries end when the 200 arrives).
RETRYABLE_ERROR_TYPES = frozenset({"rate_limit_error", "overloaded_error", "api_error", "timeout_error"})
# Error codes (the body's error.details.error_code, the SDK's `err.error_code`) that waiting will not
# clear, though they come with status 429: the SDK raises them as EnforcedSpendLimitReachedError and
# ContractSpendLimitReachedError, RateLimitErrors that its own retry rule still retries (it reads only
# the status). Any other code with "spend_limit" in it counts too, e.g. the 402
# linked_organization_spend_limit_reached. The SDK's other 429 code, ramp_limit_exceeded, clears:
# its type says "Retry after the time in the retry-after header" (anthropic/types/shared/).
PERMANENT_ERROR_CODES = frozenset({"enforced_spend_limit_reached", "contract_spend_limit_reached"})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. The defaults suit an interactive call; a batch job can afford more."""

    max_attempts: int = 5  # requests in all, the first one included
    base_delay: float = 0.5  # seconds before the first retry; doubled for each later one
    max_delay: float = 8.0  # no single backoff wait is longer than this
    max_total: float = 30.0  # seconds from the first request to giving up: attempts and waits together
    jitter: float = 0.5  # each backoff wait is cut by a random fraction up to this (0: none)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts counts the first request too, so it must be at least 1")
        if not (0 <= self.base_delay <= self.max_delay) or self.max_total <= 0:
            raise ValueError("need 0 <= base_delay <= max_delay, and max_total > 0")
        if not 0 <= self.jitter <= 1:
            raise ValueError("jitter is a fraction between 0 and 1")


def is_transient(error: BaseException) -> bool:
    """True when sending the same request again may succeed.

    The SDK's rule (x-should-retry when the server sends it; else 408, 409, 429, 5xx, timeouts and
    connection errors), except for the error codes that name a spend limit, plus the error types of
    RETRYABLE_ERROR_TYPES, for errors inside a stream.
    """
    if isinstance(error, anthropic.APIConnectionError):  # APITimeoutError is one of these
        return True
    if not isinstance(error, anthropic.APIStatusError):
        return False
    should = error.response.headers.get("x-should-retry")  # the server's own opinion, when it gives one
    if should in ("true", "false"):
        return should == "true"
    if is_spend_limit(error):
        return False
    if error.status_code in RETRYABLE_STATUSES or error.status_code >= 500:
        return True
    return error_type(error) in RETRYABLE_ERROR_TYPES


def is_transient_response(stored: dict) -> bool:
    """is_transient() for a stored response (helpers/recordings.py): True for a failure that sending the
    request again may clear (no response at all, a 408, 409, a 429 that names no spend limit, a 5xx, a
    stream that broke off or carried a retryable error event); False for a success or a permanent answer."""
    if "error" in stored:  # a timeout or a connection failure, without a response
        return True
    if "events" in stored:
        if stored.get("end", "complete") not in ("complete", "left early"):
            return True
        errors = [event.get("data") or {} for event in stored["events"] if event.get("event") == "error"]
        return any((data.get("error") or {}).get("type") in RETRYABLE_ERROR_TYPES for data in errors)
    status = stored.get("status", 0)
    should = {name.lower(): value for name, value in stored.get("headers", {}).items()}.get("x-should-retry")
    if should in ("true", "false"):
        return should == "true"
    detail = (stored.get("body") or {}).get("error") if isinstance(stored.get("body"), dict) else None
    code = ((detail or {}).get("details") or {}).get("error_code") if isinstance(detail, dict) else None
    if isinstance(code, str) and (code in PERMANENT_ERROR_CODES or "spend_limit" in code):
        return False
    return status in RETRYABLE_STATUSES or status >= 500


def is_not_served(error: BaseException) -> bool:
    """True when the error says the server has no such endpoint, rather than that this call failed: a 404,
    405 or 501, or a 500 whose body is not the API's error format (the API's own 500 is an `api_error`,
    and passes; a server without the endpoint fails in its own words)."""
    if not isinstance(error, anthropic.APIStatusError):
        return False
    if error.status_code in (404, 405, 501):
        return True
    body = error.body
    return error.status_code == 500 and not (isinstance(body, dict) and body.get("type") == "error")


def is_spend_limit(error: BaseException) -> bool:
    """True when the error's code names a spend limit, which no wait clears (see PERMANENT_ERROR_CODES)."""
    code = getattr(error, "error_code", None)
    return isinstance(code, str) and (code in PERMANENT_ERROR_CODES or "spend_limit" in code)


def retry_after_seconds(error: BaseException) -> float | None:
    """How long the server asked us to wait, from retry-after-ms or retry-after; None if it did not say.

    A wait of 0 (or less) counts as not saying, as in the SDK: the caller then backs off as usual,
    rather than retrying at once.
    """
    if not isinstance(error, anthropic.APIStatusError):
        return None
    headers = error.response.headers
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        try:
            seconds = float(headers[name]) * scale
        except (KeyError, ValueError):
            continue
        if seconds > 0:
            return seconds
    return None


def backoff_delay(retry: int, policy: RetryPolicy, rng: random.Random | None = None) -> float:
    """The wait before retry number `retry` (1 for the first retry): exponential, capped, jittered.

    The result is always between (1 - jitter) and 1 times min(max_delay, base_delay * 2**(retry - 1)).
    """
    ceiling = min(policy.max_delay, policy.base_delay * 2 ** min(retry - 1, 60))
    cut = (rng or JITTER_RANDOM).random() * policy.jitter
    return ceiling * (1 - cut)


def describe_error(error: BaseException) -> str:
    """A short name for a failure: '429 rate_limit_error', 'timeout', 'connection error'."""
    if isinstance(error, anthropic.APITimeoutError):
        return "timeout"
    if isinstance(error, anthropic.APIConnectionError):
        return "connection error"
    if isinstance(error, anthropic.APIStatusError):
        kind = error_type(error)
        described = f"{error.status_code} {kind}" if kind else str(error.status_code)
        code = getattr(error, "error_code", None)
        return f"{described} ({code})" if code else described
    return type(error).__name__


class SimulatedTime:
    """A clock that moves only when slept on: waits are exact and take no time.

    Pass `sleep=timer.sleep, clock=timer.clock` to call_with_retries() to see what a retry policy
    does without waiting for it (tests, exercise checks, a lesson that must read the same every
    run). Leave both out in real code, which must really wait.
    """

    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        """sleep() for asyncio code: notes the wait, and lets the other tasks run."""
        self.sleep(seconds)
        await asyncio.sleep(0)


@dataclass
class Attempt:
    """One request: when it started and ended (seconds since the first began), and what came of it."""

    number: int
    started: float
    ended: float
    outcome: str  # "ok", or the failure, e.g. "529 overloaded_error"
    transient: bool | None = None  # None when it succeeded
    wait: float = 0.0  # the wait after this attempt, before the next
    waited_because: str = ""  # "retry-after" or "backoff"


@dataclass
class RetryLog:
    """Every attempt of one call_with_retries(), for printing and for plotting."""

    attempts: list[Attempt] = field(default_factory=list)
    outcome: str = ""  # how it ended, in words

    @property
    def succeeded(self) -> bool:
        return bool(self.attempts) and self.attempts[-1].outcome == "ok"

    @property
    def total(self) -> float:
        return self.attempts[-1].ended if self.attempts else 0.0

    def __str__(self) -> str:
        lines = []
        for attempt in self.attempts:
            line = f"attempt {attempt.number} at {attempt.started:.2f} s: {attempt.outcome}"
            if attempt.wait:
                line += f", then waited {attempt.wait:.2f} s ({attempt.waited_because})"
            lines.append(line)
        lines.append(self.outcome)
        return "\n".join(lines)


def call_with_retries(
    call: Callable[[float], T],
    *,
    policy: RetryPolicy | None = None,
    log: RetryLog | None = None,
    report: Callable[[str], object] | None = None,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    rng: random.Random | None = None,
) -> T:
    """Run `call(timeout)` until it succeeds, retrying transient failures with backoff; raise the last error otherwise.

    `call` receives the seconds left in the budget (policy.max_total). Pass them on as the request's
    timeout, `lambda timeout: client.messages.create(..., timeout=timeout)`, and no attempt can run
    past the budget; no wait is started that would use it up. (The SDK's timeout bounds each wait
    for the network: for a call without streaming, the wait for the whole reply.)

    Use it with the SDK's own retries off (get_client(..., max_retries=0)), or the two loops multiply.
    The error raised is the API's own (RateLimitError, BadRequestError...), with a note saying why it
    was not retried further. `log` collects the attempts; `report` is called with a line for each.
    """
    policy = policy or RetryPolicy()
    log = log if log is not None else RetryLog()
    say = report or (lambda line: None)
    began = clock()
    for number in range(1, policy.max_attempts + 1):
        started = clock() - began
        try:
            result = call(policy.max_total - started)
        except anthropic.APIError as error:
            attempt = Attempt(number, started, clock() - began, describe_error(error), is_transient(error))
            log.attempts.append(attempt)
            reason = _reason_to_stop(error, attempt, policy)
            if reason is None:
                attempt.wait, attempt.waited_because = _next_wait(error, number, policy, rng)
                if attempt.ended + attempt.wait >= policy.max_total:
                    reason = (
                        f"waiting {attempt.wait:.2f} s more would leave no time for another attempt "
                        f"within the {policy.max_total:.2f} s budget"
                    )
                    attempt.wait, attempt.waited_because = 0.0, ""
            if reason is not None:
                plural = "s" if number > 1 else ""
                log.outcome = f"gave up after {number} attempt{plural}: {reason} (last: {attempt.outcome})"
                say(f"attempt {number}: {attempt.outcome}; giving up: {reason}")
                error.add_note(f"call_with_retries {log.outcome}")
                raise
            say(f"attempt {number}: {attempt.outcome}; waiting {attempt.wait:.2f} s ({attempt.waited_because})")
            sleep(attempt.wait)
            continue
        log.attempts.append(Attempt(number, started, clock() - began, "ok"))
        log.outcome = f"succeeded on attempt {number} after {clock() - began:.2f} s"
        say(f"attempt {number}: ok")
        return result
    raise AssertionError("unreachable: the last attempt either returns or raises")


def _reason_to_stop(error: anthropic.APIError, attempt: Attempt, policy: RetryPolicy) -> str | None:
    if not attempt.transient:
        if is_spend_limit(error):
            return f"{getattr(error, 'error_code', '')} is not retried: a spend limit does not clear by waiting"
        if attempt.number > 1:  # the ones before it failed in passing, and were retried
            before = "attempt 1" if attempt.number == 2 else f"attempts 1 to {attempt.number - 1}"
            return (
                f"{before} failed in passing and {'was' if attempt.number == 2 else 'were'} retried, then attempt "
                f"{attempt.number} got a permanent error, which is not retried: the same request gets the same answer"
            )
        return "a permanent error is not retried, since the same request gets the same answer"
    if attempt.number >= policy.max_attempts:
        return "max_attempts reached"
    return None


def _next_wait(error: BaseException, number: int, policy: RetryPolicy, rng: random.Random | None) -> tuple[float, str]:
    asked = retry_after_seconds(error)
    if asked is not None:
        return asked, "retry-after"
    return backoff_delay(number, policy, rng), "backoff"
