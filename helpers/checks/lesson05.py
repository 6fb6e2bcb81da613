"""Checks for the exercise of lesson 05, a retry function written by hand.

The student's `retry_call(make_call, *, sleep, max_attempts, base_delay)` is run against a
scripted client that fails on demand (helpers.faults), with a fake `sleep` that only writes
down what it was asked to wait. So the check is instant, needs no recording, and can tell
exactly which behaviour is wrong.

The waits are judged against their bounds, never against each other's random values: each
backoff wait must lie between 0 and its ceiling, base_delay * 2**(n - 1) for retry n, so any
jitter that only shortens a wait passes (0.5 to 1 of the ceiling, "full jitter" from 0 to 1, or
none). That the waits grow, and that they vary, is judged over GROWTH_RUNS runs: a correct loop
with full jitter fails that with probability 2**-GROWTH_RUNS, and with any gentler jitter never.
A wait past its ceiling is told apart, over GROWTH_RUNS runs too, as retries counted from 0 (every
wait exactly twice its ceiling), a random factor above 1 (waits that vary past the ceiling), or
either (waits up to twice the ceiling, as both mistakes give).

Last comes a 429 that no wait clears (a spent limit, told by its error_code): one request, no wait.
"""

from __future__ import annotations

import functools
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx2

from ..faults import SPEND_LIMIT, SPEND_LIMIT_FAULT, FaultTransport, fault_transport, with_faults
from ..settings import MODEL
from . import Outcome, exercise, message_json, report, scripted_client

MAX_ATTEMPTS = 4
BASE_DELAY = 0.5
RETRY_AFTER = 2.0  # what the check's 429 asks for: more than any backoff wait before it
RUNAWAY = 30  # requests after which the check stops a loop that never gives up
GROWTH_RUNS = 64  # runs against endless 529s over which the waits must grow and vary
SLACK = 1e-9  # rounding allowed on a ceiling


class _Runaway(BaseException):
    """Stops a loop that never gives up. A BaseException, so `except Exception` cannot swallow it."""


def _reply(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json=message_json("It worked.", usage={"input_tokens": 10, "output_tokens": 4}))


@dataclass
class Trial:
    """One run of the student's function against a fault sequence."""

    faults: list[str]
    always: str | None = None
    waits: list[float] = field(default_factory=list)
    result: Any = None
    error: BaseException | None = None
    runaway: bool = False
    transport: FaultTransport | None = None
    real_sleeps: list[Any] = field(default_factory=list)  # what it asked time.sleep() for, not the `sleep` given

    @property
    def requests(self) -> int:
        return self.transport.requests if self.transport else 0


def run_trial(function: Any, faults: list[str], always: str | None = None) -> Trial:
    trial = Trial(faults, always)
    client = with_faults(scripted_client(_reply), faults, always=always, retry_after=RETRY_AFTER)
    trial.transport = fault_transport(client)

    def make_call() -> Any:
        if trial.requests >= RUNAWAY:
            raise _Runaway
        return client.messages.create(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "Hi"}])

    return _run(function, trial, make_call)


@functools.cache
def _overloaded() -> anthropic.OverloadedError:
    request = httpx2.Request("POST", "https://api.anthropic.com/v1/messages")
    body = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    response = httpx2.Response(529, json=body, request=request)
    return anthropic.OverloadedError("Overloaded", response=response, body=body)


def endless_waits(function: Any) -> list[float]:
    """The waits of one run against endless 529s, without the HTTP layer: fast enough to run many times."""
    trial = Trial([], "529")
    error = _overloaded()  # built once and raised again: building the SDK's error is the slow part
    calls = 0

    def make_call() -> Any:
        nonlocal calls
        calls += 1
        if calls > RUNAWAY:
            raise _Runaway
        error.__traceback__ = None
        if hasattr(error, "__notes__"):
            del error.__notes__
        raise error

    return _run(function, trial, make_call).waits


def _run(function: Any, trial: Trial, make_call: Callable[[], Any]) -> Trial:

    def sleep(seconds: float) -> None:
        trial.waits.append(seconds)
        if len(trial.waits) > RUNAWAY:
            raise _Runaway

    checking = threading.get_ident()

    def real_sleep(seconds: Any) -> None:  # stands in for time.sleep while the student's code runs: no real wait
        if threading.get_ident() != checking:
            # Another thread (the kernel's own, say, which sleeps a second at a time) waits as it always does.
            return waiting(seconds)
        trial.real_sleeps.append(seconds)
        if len(trial.real_sleeps) > RUNAWAY:
            raise _Runaway
        return None

    waiting, time.sleep = time.sleep, real_sleep
    try:
        trial.result = function(make_call, sleep=sleep, max_attempts=MAX_ATTEMPTS, base_delay=BASE_DELAY)
    except _Runaway:
        trial.runaway = True
    except Exception as error:  # the student's function may raise anything
        trial.error = error
    finally:
        time.sleep = waiting
    return trial


def _name(error: BaseException | None) -> str:
    return type(error).__name__ if error is not None else "nothing"


def ceiling(retry: int) -> float:
    """The longest backoff wait allowed before retry number `retry` (1 for the first retry)."""
    return BASE_DELAY * 2 ** (retry - 1)


def _number(wait: Any) -> bool:
    return isinstance(wait, int | float) and not isinstance(wait, bool)


def _too_long(waits: list[Any], asked: dict[int, float] | None = None) -> tuple[int, Any] | None:
    """(retry, wait) for the first wait that is not a number, is negative, or passes its ceiling (or,
    after a retry-after, retry-after plus that ceiling); None when every wait is within bounds."""
    for retry, wait in enumerate(waits, start=1):
        if not _number(wait) or wait < 0:
            return retry, wait
        if wait > (ceiling(retry) + (asked or {}).get(retry, 0.0)) * (1 + SLACK):
            return retry, wait
    return None


def _negative(retry: int, wait: float) -> str:
    return (
        f"a negative wait: before retry {retry} it asked sleep() for {wait:.2f} s. If you multiply the wait by a "
        "random factor (jitter), keep the factor between 0 and 1, e.g. random.uniform(0.5, 1), so every wait "
        "lies between 0 and base_delay x 2^(n-1)."
    )


def _too_long_hint(
    function: Any, found: tuple[int, Any], asked: dict[int, float] | None = None, runs: list[list[Any]] | None = None
) -> str:
    """The hint for a wait out of bounds: counting from 0, jitter above 1, both possible, or retry-after."""
    retry, wait = found
    if not _number(wait):
        return f"not backing off: call sleep(seconds) with a number of seconds, 0 or more; got {wait!r}."
    if wait < 0:
        return _negative(retry, wait)
    top = ceiling(retry)
    said = f"before retry {retry} it waited {wait:.2f} s, but base_delay x 2^({retry}-1) is {top:.2f} s"
    if runs is None:  # the waits of many runs against endless 529s, where no retry-after interferes
        runs = [endless_waits(function) for _ in range(GROWTH_RUNS)]
    ratios = [w / ceiling(n) for waits in runs for n, w in enumerate(waits, start=1) if _number(w)]
    negative = next(((n, w) for waits in runs for n, w in enumerate(waits, start=1) if _number(w) and w < 0), None)
    if negative:
        return _negative(*negative)
    if not any(ratio > 1 + SLACK for ratio in ratios):
        if asked and retry in asked:
            return (
                f"waiting too long after the 429: it asked for {asked[retry]:g} s (retry-after), but {said}. Wait "
                "what retry-after says, or at most that plus the backoff wait, no longer."
            )
        return f"waiting too long: {said}, and jitter may only shorten a wait."
    if all(abs(ratio - 2) <= 2 * SLACK for ratio in ratios):
        return (
            f"waiting too long: {said}, and every wait is exactly twice its ceiling. Count retries from 1: the "
            "first retry waits at most base_delay."
        )
    lowest, highest = min(ratios), max(ratios)
    if 1.8 <= highest <= 2 * (1 + SLACK):
        return (
            f"waiting too long: {said}; over {GROWTH_RUNS} runs the waits reached twice their ceiling. Either "
            "retries are counted from 0 (count from 1: the first retry waits at most base_delay), or the random "
            "factor goes above 1 (jitter may only shorten a wait: keep the factor between 0 and 1)."
        )
    return (
        f"jitter that lengthens waits: {said}. Over {GROWTH_RUNS} runs the waits went from {lowest:.2f} to "
        f"{highest:.2f} times their ceiling, so the random factor goes above 1. Jitter may only shorten a wait: "
        "multiply by a factor between 0 and 1 (e.g. random.uniform(0.5, 1)), not more, and add nothing to it."
    )


def _one_step_behind(runs: list[list[Any]]) -> bool:
    """Whether the waits grow by doubling but never pass half their ceiling: backoff counted from 0."""
    ratios = [w / ceiling(n) for waits in runs for n, w in enumerate(waits, start=1) if _number(w)]
    if not ratios or max(ratios) > 0.5 * (1 + SLACK):
        return False
    last = [max((waits[n] for waits in runs if len(waits) > n), default=0.0) for n in range(MAX_ATTEMPTS - 1)]
    return all(later > earlier * (1 + SLACK) for earlier, later in itertools.pairwise(last))


PERMANENT_CHECKED = {
    "401": (anthropic.AuthenticationError, "a 401 means the key is wrong or missing"),
    "404": (anthropic.NotFoundError, "a 404 usually means a misspelled model name"),
}


def diagnose(function: Any) -> tuple[bool, str]:
    """(passed, message) for a student's retry function; one specific hint for the first wrong behaviour."""
    if not callable(function):
        return False, "define `retry_call(make_call, *, sleep, max_attempts, base_delay)`."

    # 1. A permanent error: one request, no wait, the API's own error raised.
    bad = run_trial(function, [], always="400")
    if bad.requests == 0 and bad.error is None:
        return False, "`retry_call` never calls make_call() yet. Call it, and return what it returns."
    if bad.runaway or bad.requests > 1:
        return False, (
            f"retrying a 400: it sent the request {bad.requests if not bad.runaway else 'over and over'} times. "
            "A 400 (like 401, 403, 404) means the request itself is wrong, so the same request gets the same "
            "answer. Re-raise at once unless the error is transient."
        )
    if not isinstance(bad.error, anthropic.BadRequestError):
        if bad.error is None:
            return False, "on a 400 it returned instead of raising: re-raise the error (`raise`) so the caller sees it."
        return False, f"on a 400 it raised {_name(bad.error)}: re-raise the API's own error with a bare `raise`."
    if bad.waits:
        return False, "it waited before giving up on a 400: a permanent error should fail at once, without sleeping."

    # 1b. Other permanent errors: a loop that spares only 400 still retries these.
    for fault, (expected, meaning) in PERMANENT_CHECKED.items():
        other = run_trial(function, [], always=fault)
        if other.runaway or other.requests > 1:
            return False, (
                f"retrying a {fault}: it sent the request {other.requests if not other.runaway else 'over and over'} "
                f"times. {meaning.capitalize()}: sending it again changes nothing. 400 is not the only permanent "
                "error, so test for what is transient (429, 5xx, connection errors and timeouts) and re-raise "
                "everything else at once."
            )
        if other.error is None:
            return False, f"on a {fault} it returned instead of raising: re-raise the error (`raise`)."
        if not isinstance(other.error, expected):
            return False, f"on a {fault} it raised {_name(other.error)}: re-raise the API's own error with `raise`."

    # 2. Transient failures, then success: 429 (with retry-after), 529, timeout, then a reply.
    good = run_trial(function, ["429", "529", "timeout"])
    if good.runaway:
        return False, "never giving up: after the reply came back it kept calling. Return the result at once."
    if good.error is not None:
        hints = {
            "RateLimitError": "a 429 rate limit is transient: wait and retry it.",
            "OverloadedError": "a 529 overloaded is transient, like every 5xx: retry it (status_code >= 500).",
            "APITimeoutError": (
                "a timeout is transient: catch anthropic.APIConnectionError too (APITimeoutError is a subclass)."
            ),
        }
        if isinstance(good.error, AttributeError) and "status_code" in str(good.error):
            return False, (
                f"your code raised AttributeError ({good.error}) on attempt {good.requests}, the timeout: a timeout "
                "got no response, so its error (APITimeoutError, an APIConnectionError) has no status_code. Check "
                "isinstance(err, anthropic.APIStatusError) before reading err.status_code."
            )
        hint = hints.get(_name(good.error), f"it raised {_name(good.error)}.")
        return False, f"giving up too early on attempt {good.requests} of {MAX_ATTEMPTS}: {hint}"
    if not isinstance(good.result, anthropic.types.Message):
        return False, f"after the retries it returned {good.result!r}: return what make_call() returned."
    if good.real_sleeps and not good.waits:
        return False, (
            "it waited with time.sleep() itself, not with the `sleep` it was given: call sleep(wait). The "
            "caller decides how to wait (the check, a test, an async loop each hand in their own), so the "
            "function waits only through its argument."
        )
    negative = next(((n, w) for n, w in enumerate(good.waits, start=1) if _number(w) and w < 0), None)
    if negative:
        return False, _negative(*negative)
    if len(good.waits) < 3 or not all(_number(w) for w in good.waits) or not any(good.waits):
        return False, "not backing off: call sleep(seconds) with a wait greater than 0 before every retry."
    if good.waits[0] < RETRY_AFTER:
        return False, (
            f"ignoring retry-after: the 429 asked for {RETRY_AFTER:g} s (header retry-after) but it waited "
            f"{good.waits[0]:.2f} s. When the error carries retry-after, wait at least that long "
            "(helpers.retries.retry_after_seconds(err) reads it)."
        )
    found = _too_long(good.waits, asked={1: RETRY_AFTER})
    if found:
        return False, _too_long_hint(function, found, asked={1: RETRY_AFTER})

    # 3. Failures that never stop: exactly max_attempts requests, then the last error.
    endless = run_trial(function, [], always="529")
    if endless.runaway:
        return False, f"never giving up: against endless 529s it sent {RUNAWAY}+ requests. Stop after max_attempts."
    if endless.requests > MAX_ATTEMPTS:
        return False, (
            f"too many attempts: {endless.requests} requests with max_attempts={MAX_ATTEMPTS}. "
            "max_attempts counts the first try too."
        )
    if endless.requests < MAX_ATTEMPTS:
        return False, (
            f"giving up too early: only {endless.requests} requests with max_attempts={MAX_ATTEMPTS}. "
            "Keep retrying transient errors until max_attempts requests have been sent."
        )
    if not isinstance(endless.error, anthropic.APIStatusError):
        if endless.error is None:
            return False, "when the attempts run out it returned instead of raising: raise the last error."
        return False, f"when the attempts run out it raised {_name(endless.error)}: re-raise the last API error."
    if len(endless.waits) > MAX_ATTEMPTS - 1:
        return False, "it waited after the last attempt: nobody will retry, so give up at once instead."

    # 4. Growth and jitter, over many runs against endless 529s. Every wait must stay within its
    # ceiling; somewhere in those runs each wait must pass the ceiling of the wait before it (with
    # full jitter each run does with probability 1/2); and the runs must not all wait the same.
    runs = [endless.waits, *(endless_waits(function) for _ in range(GROWTH_RUNS - 1))]
    for waits in runs:
        found = _too_long(waits)
        if found:
            return False, _too_long_hint(function, found, runs=runs)
    for retry in range(2, MAX_ATTEMPTS):
        longest = max((waits[retry - 1] for waits in runs if len(waits) >= retry), default=0.0)
        if longest <= ceiling(retry - 1) * (1 + SLACK):
            if _one_step_behind(runs):
                return False, (
                    "the waits double, but each is half of what it may be: the retries are counted from 0. "
                    f"Before retry n, counting from 1, wait base_delay x 2^(n-1): the first retry waits up to "
                    f"base_delay ({ceiling(1):g} s), the second up to twice that (e.g. the waits were "
                    f"{', '.join(f'{w:.2f}' for w in endless.waits)} s)."
                )
            return False, (
                f"not backing off: over {GROWTH_RUNS} runs, the wait before retry {retry} was never longer than "
                f"{ceiling(retry - 1):.2f} s (base_delay x 2^{retry - 2}), the most retry {retry - 1} may wait. "
                f"Double the wait for each retry: base_delay, 2 x base_delay, 4 x ... (e.g. the waits were "
                f"{', '.join(f'{w:.2f}' for w in endless.waits)} s)."
            )
    if all(waits == runs[0] for waits in runs):
        return False, (
            f"no jitter: {GROWTH_RUNS} runs all waited exactly the same. Shorten each wait by a random fraction "
            "(e.g. wait * random.uniform(0.5, 1)) so clients that failed together do not retry together."
        )

    # 5. A 429 that no wait clears: a spent limit, told apart from a rate limit by its error_code.
    spent = run_trial(function, [], always=SPEND_LIMIT_FAULT)
    _, code, _ = SPEND_LIMIT
    if spent.runaway or spent.requests > 1:
        return False, (
            f"retrying a 429 that no wait clears: it sent the request "
            f"{spent.requests if not spent.runaway else 'over and over'} times, but this RateLimitError's "
            f"err.error_code is {code!r}: the organization's spend limit is used up until next month. Check "
            "err.error_code before retrying a 429, and re-raise at once when it names a spend limit."
        )
    if spent.error is None:
        return False, f"on a 429 with error_code {code!r} it returned instead of raising: re-raise it (`raise`)."
    if not isinstance(spent.error, anthropic.RateLimitError):
        return False, f"on a 429 with error_code {code!r} it raised {_name(spent.error)}: re-raise the API's error."
    if spent.waits:
        return False, (
            f"it waited before giving up on a 429 with error_code {code!r}: no wait clears a spend limit, so "
            "re-raise at once, without sleeping."
        )
    return True, (
        f"retries transient failures with growing, jittered waits, honours retry-after, fails fast on 400, "
        f"401, 404 and a spent limit (error_code), and gives up after {MAX_ATTEMPTS} attempts."
    )


@exercise(1, "Write the retry function")
def check_retry(function: Any) -> Outcome:
    """Exercise 05.1: the retry function, run against permanent errors, transient ones, and endless 529s."""
    passed, message = diagnose(function)
    return report(passed, message)
