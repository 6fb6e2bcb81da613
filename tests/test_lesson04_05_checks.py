"""The exercise checks of lessons 04 and 05: each wrong answer gets its own hint, and nothing raises."""

from __future__ import annotations

import random
import threading
import time

import anthropic
import pytest

from helpers import MODEL
from helpers.checks.lesson04 import check_collect
from helpers.checks.lesson05 import RUNAWAY, check_retry, diagnose
from helpers.replies import reply_text
from helpers.retries import retry_after_seconds

# --- lesson 04: collect a streamed reply -----------------------------------------------


def collect_right(client, prompt):
    with client.messages.stream(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": prompt}]) as s:
        text = "".join(s.text_stream)
        return text, s.get_final_message().usage


def collect_first_piece(client, prompt):
    with client.messages.stream(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": prompt}]) as s:
        return next(iter(s.text_stream)), s.get_final_message().usage


def collect_early_usage(client, prompt):
    with client.messages.stream(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": prompt}]) as s:
        usage = None
        for event in s:
            if event.type == "message_start":
                usage = event.message.usage
        return reply_text(s.get_final_message()), usage


def collect_without_streaming(client, prompt):
    reply = client.messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": prompt}])
    return reply_text(reply), reply.usage


def collect_first_block(client, prompt):
    """The shortcut lesson 01 warns about: the scripted reply opens with a thinking block, as the model's does."""
    with client.messages.stream(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": prompt}]) as s:
        reply = s.get_final_message()
        return reply.content[0].text, reply.usage


def collect_placeholder(client, prompt):
    return None


def collect_crashing(client, prompt):
    raise KeyError("usage")


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (collect_right, "✅"),
        (collect_placeholder, "returns None"),
        (collect_first_piece, "only the first piece"),
        (collect_early_usage, "message_start"),
        (collect_without_streaming, "without streaming"),
        (collect_first_block, "read `.text` off a thinking block"),
        (collect_crashing, "raised KeyError"),
        (42, "define a function"),
        ("collect_missing", "run the cells above first"),
    ],
)
def test_check_collect_names_the_mistake(function, expected, capsys):
    check_collect(function)
    out = capsys.readouterr().out
    assert expected in out, out
    assert out.startswith("✅" if expected == "✅" else "❌")


# --- lesson 05: the retry function ----------------------------------------------------------


def transient(err):
    if isinstance(err, anthropic.RateLimitError):
        return "spend_limit" not in (err.error_code or "")
    return isinstance(err, anthropic.APIConnectionError) or (
        isinstance(err, anthropic.APIStatusError) and err.status_code >= 500
    )


def transient_every_429(err):
    """The rule before spend limits: every RateLimitError is transient."""
    return isinstance(err, anthropic.RateLimitError | anthropic.APIConnectionError) or (
        isinstance(err, anthropic.APIStatusError) and err.status_code >= 500
    )


def retry_right(make_call, *, sleep=time.sleep, max_attempts=4, base_delay=0.5):
    for attempt in range(1, max_attempts + 1):
        try:
            return make_call()
        except anthropic.APIError as err:
            if not transient(err) or attempt == max_attempts:
                raise
            wait = base_delay * 2 ** (attempt - 1) * random.uniform(0.5, 1)
            sleep(max(wait, retry_after_seconds(err) or 0))


def retry_with_time_sleep(make_call, *, sleep=time.sleep, max_attempts=4, base_delay=0.5):
    """Right but for the wait: time.sleep itself instead of the `sleep` argument (the check never really waits)."""
    return retry_right(make_call, sleep=time.sleep, max_attempts=max_attempts, base_delay=base_delay)


def retry_spend_limits_too(make_call, *, sleep=time.sleep, max_attempts=4, base_delay=0.5):
    """Right in every way but one: it retries a 429 whatever its error_code."""
    for attempt in range(1, max_attempts + 1):
        try:
            return make_call()
        except anthropic.APIError as err:
            if not transient_every_429(err) or attempt == max_attempts:
                raise
            wait = base_delay * 2 ** (attempt - 1) * random.uniform(0.5, 1)
            sleep(max(wait, retry_after_seconds(err) or 0))


def retry_everything(make_call, *, sleep=time.sleep, max_attempts=4, base_delay=0.5):
    for attempt in range(1, max_attempts + 1):
        try:
            return make_call()
        except anthropic.APIError:
            if attempt == max_attempts:
                raise
            sleep(base_delay * 2 ** (attempt - 1))


def retry_only_429(make_call, *, sleep=time.sleep, max_attempts=4, base_delay=0.5):
    for attempt in range(1, max_attempts + 1):
        try:
            return make_call()
        except anthropic.RateLimitError as err:
            if attempt == max_attempts:
                raise
            sleep(max(base_delay * 2 ** (attempt - 1), retry_after_seconds(err) or 0))


def retry_forever(make_call, *, sleep=time.sleep, max_attempts=4, base_delay=0.5):
    attempt = 0
    while True:
        attempt += 1
        try:
            return make_call()
        except anthropic.APIError as err:
            if not transient(err):
                raise
            sleep(max(base_delay * 2 ** (attempt - 1), retry_after_seconds(err) or 0))


def retry_without_waiting(make_call, *, sleep=time.sleep, max_attempts=4, base_delay=0.5):
    for attempt in range(1, max_attempts + 1):
        try:
            return make_call()
        except anthropic.APIError as err:
            if not transient(err) or attempt == max_attempts:
                raise


def retry_fixed_wait(make_call, *, sleep=time.sleep, max_attempts=4, base_delay=0.5):
    for attempt in range(1, max_attempts + 1):
        try:
            return make_call()
        except anthropic.APIError as err:
            if not transient(err) or attempt == max_attempts:
                raise
            sleep(max(base_delay, retry_after_seconds(err) or 0))


def retry_ignoring_retry_after(make_call, *, sleep=time.sleep, max_attempts=4, base_delay=0.5):
    for attempt in range(1, max_attempts + 1):
        try:
            return make_call()
        except anthropic.APIError as err:
            if not transient(err) or attempt == max_attempts:
                raise
            sleep(base_delay * 2 ** (attempt - 1) * random.uniform(0.5, 1))


def retry_too_few(make_call, *, sleep=time.sleep, max_attempts=4, base_delay=0.5):
    return retry_right(make_call, sleep=sleep, max_attempts=max_attempts - 1, base_delay=base_delay)


def retry_returning_none(make_call, *, sleep=time.sleep, max_attempts=4, base_delay=0.5):
    try:
        return retry_right(make_call, sleep=sleep, max_attempts=max_attempts, base_delay=base_delay)
    except anthropic.APIStatusError as err:
        if err.status_code == 400:
            raise
        return None


def retry_placeholder(make_call, *, sleep=time.sleep, max_attempts=4, base_delay=0.5):
    return None


def retry_all_but_400(make_call, *, sleep=time.sleep, max_attempts=4, base_delay=0.5):
    for attempt in range(1, max_attempts + 1):
        try:
            return make_call()
        except anthropic.APIStatusError as err:
            if err.status_code == 400 or attempt == max_attempts:
                raise
            sleep(max(base_delay * 2 ** (attempt - 1) * random.uniform(0.5, 1), retry_after_seconds(err) or 0))
        except anthropic.APIConnectionError:
            if attempt == max_attempts:
                raise
            sleep(base_delay * 2 ** (attempt - 1) * random.uniform(0.5, 1))


def retry_waiting(backoff):
    """A loop right in everything but its wait: before retry number `attempt` it waits
    `backoff(attempt, base_delay)`, or what retry-after asks if that is longer."""

    def retry(make_call, *, sleep=time.sleep, max_attempts=4, base_delay=0.5):
        for attempt in range(1, max_attempts + 1):
            try:
                return make_call()
            except anthropic.APIError as err:
                if not transient(err) or attempt == max_attempts:
                    raise
                wait = backoff(attempt, base_delay)
                asked = retry_after_seconds(err)
                sleep(wait if asked is None else max(wait, asked))

    return retry


def retry_with(jitter):
    """A correct loop whose random factor comes from `jitter()`."""
    return retry_waiting(lambda attempt, base_delay: base_delay * 2 ** (attempt - 1) * jitter())


retry_without_jitter = retry_with(lambda: 1.0)
# Doubles from the first retry on: 1, 2, 4 x base_delay instead of 1/2, 1, 2.
retry_off_by_one = retry_waiting(lambda attempt, base_delay: base_delay * 2**attempt * random.uniform(0.5, 1))
retry_jittered_but_flat = retry_waiting(lambda attempt, base_delay: base_delay * random.uniform(0.5, 1))
# Counts retries from 0 the other way: half of base_delay first, each wait half its ceiling.
retry_counted_from_zero = retry_waiting(
    lambda attempt, base_delay: base_delay * 2 ** (attempt - 2) * random.uniform(0.5, 1)
)


def retry_reading_status_code(make_call, *, sleep=time.sleep, max_attempts=4, base_delay=0.5):
    """Reads err.status_code of every error, a timeout's too, which has none."""
    for attempt in range(1, max_attempts + 1):
        try:
            return make_call()
        except anthropic.APIError as err:
            if isinstance(err, anthropic.RateLimitError) and "spend_limit" in (err.error_code or ""):
                raise
            if err.status_code not in (429, 529) or attempt == max_attempts:
                raise
            sleep(max(base_delay * 2 ** (attempt - 1) * random.uniform(0.5, 1), retry_after_seconds(err) or 0))


# Counts retries from 0 and has no jitter: every wait is twice its ceiling.
retry_shifted = retry_waiting(lambda attempt, base_delay: base_delay * 2**attempt)


JITTER_STYLES = {
    "half (0.5 to 1)": lambda: random.uniform(0.5, 1),
    "full (0 to 1)": random.random,
    "equal (half fixed, half random)": lambda: 0.5 + random.random() / 2,
    "gentle (0.9 to 1)": lambda: random.uniform(0.9, 1),
}


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (retry_right, "fails fast on 400, 401, 404 and a spent limit"),
        (retry_spend_limits_too, "err.error_code is 'enforced_spend_limit_reached'"),
        (retry_with(lambda: random.uniform(0.5, 1.5)), "jitter that lengthens waits"),
        (retry_with(lambda: random.uniform(0.8, 1.2)), "the random factor goes above 1"),
        (retry_with(lambda: random.uniform(-0.5, 0.5)), "a negative wait"),
        (retry_with(lambda: 1 + random.random()), "Either retries are counted from 0"),
        (retry_shifted, "every wait is exactly twice its ceiling. Count retries from 1"),
        (retry_placeholder, "never calls make_call()"),
        (retry_everything, "retrying a 400"),
        (retry_all_but_400, "retrying a 401"),
        (retry_off_by_one, "waiting too long: before retry 2"),
        (retry_jittered_but_flat, "not backing off: over 64 runs"),
        (retry_only_429, "a 529 overloaded is transient"),
        (retry_forever, "never giving up"),
        (retry_without_waiting, "not backing off: call sleep"),
        (retry_with_time_sleep, "it waited with time.sleep() itself"),
        (retry_fixed_wait, "not backing off: over 64 runs"),
        (retry_ignoring_retry_after, "ignoring retry-after"),
        (retry_too_few, "giving up too early"),
        (retry_returning_none, "returned instead of raising"),
        (retry_without_jitter, "no jitter"),
        (retry_counted_from_zero, "the retries are counted from 0"),
        (retry_reading_status_code, "has no status_code. Check isinstance(err, anthropic.APIStatusError)"),
        (42, "define `retry_call"),
    ],
)
def test_check_retry_gives_a_specific_hint_for_each_wrong_behaviour(function, expected):
    passed, message = diagnose(function)
    assert expected in message, message
    assert passed == (function is retry_right)


@pytest.mark.parametrize("style", JITTER_STYLES)
def test_a_correct_loop_passes_with_any_jitter_every_time(style):
    """The check judges jitter statistically: it must never fail a right loop, whatever the draws.
    Forty seeded runs of each style, the same draws on every test run, so a failure can be replayed."""
    function = retry_with(JITTER_STYLES[style])
    state = random.getstate()
    try:
        for seed in range(40):
            random.seed(seed)
            passed, message = diagnose(function)
            assert passed, f"seed {seed}: {message}"
    finally:
        random.setstate(state)


def test_the_hint_for_a_401_says_400_is_not_the_only_permanent_error():
    passed, message = diagnose(retry_all_but_400)
    assert not passed and "400 is not the only permanent error" in message and "key" in message


def test_check_retry_never_really_waits_and_never_raises(capsys, sleeps):
    for function in (retry_right, retry_forever, retry_placeholder, "nonsense"):
        check_retry(function)
    assert sleeps == [], "the check must hand the student's code a fake sleep, never really wait"
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("✅") and all(line.startswith("❌") for line in lines[1:])


def test_another_threads_time_sleep_during_the_check_still_waits_and_is_not_the_students(capsys):
    """The kernel's own threads call time.sleep while a check runs: they must neither crash nor count."""
    waited: list[float] = []

    def elsewhere() -> None:
        for _ in range(RUNAWAY + 10):  # more sleeps than the check lets the student's code make
            started = time.monotonic()
            time.sleep(0.001)
            waited.append(time.monotonic() - started)

    def retry_beside_a_thread(make_call, *, sleep=time.sleep, max_attempts=4, base_delay=0.5):
        if not waited:  # the check calls this many times: one thread is enough
            thread = threading.Thread(target=elsewhere)
            thread.start()
            thread.join()
        return retry_right(make_call, sleep=sleep, max_attempts=max_attempts, base_delay=base_delay)

    check_retry(retry_beside_a_thread)
    assert capsys.readouterr().out.startswith("✅"), "another thread's time.sleep was taken for the student's"
    assert len(waited) == RUNAWAY + 10 and min(waited) >= 0.001, "another thread's time.sleep did not really wait"


def test_a_loop_that_swallows_every_exception_is_still_stopped():
    def swallow(make_call, *, sleep=time.sleep, max_attempts=4, base_delay=0.5):
        while True:
            try:
                return make_call()
            except Exception:
                sleep(0.1)

    passed, message = diagnose(swallow)
    assert not passed and "400" in message
