"""The exercise check of lesson 07, the bounded map: each typical mistake gets its own hint, and nothing raises.

The check prints one line. These tests feed it the notebook's solution and a few other right ways to
write it, the placeholder, and one deliberately wrong function per hint, and assert on the hint a
student would read. It also has to work where a notebook calls it: inside a running event loop.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import anthropic
import pytest

from helpers.checks import NOT_YET, PASS, lesson07
from helpers.checks.lesson07 import check_map_bounded, diagnose
from helpers.retries import is_transient, retry_after_seconds
from tests.conftest import HANG_BOUND


def verdict(capsys: pytest.CaptureFixture[str]) -> str:
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0, f"a check should print exactly one line, got: {out!r}"
    assert out.startswith((PASS, NOT_YET)), out
    return out


def assert_threads_end(before: set[threading.Thread], problem: str) -> None:
    """Every thread started since `before` (the check's run, its loop's executor) ends: the run was stopped.
    HANG_BOUND only keeps a run that was not stopped from hanging the test."""
    for thread in set(threading.enumerate()) - before:
        thread.join(HANG_BOUND)
        assert not thread.is_alive(), f"{problem}: thread {thread.name} is still running"


def assert_verdict(out: str, expected: str) -> None:
    assert expected in out, out
    assert out.startswith("✅" if expected == "✅" else "❌"), out


def wait_for(err: Exception, attempt: int) -> float:
    asked = retry_after_seconds(err)
    return asked if asked is not None else 0.5 * 2 ** (attempt - 1)


# --- right answers ---------------------------------------------------------------------------------


async def map_solution(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep):
    """The notebook's solution."""
    gate = asyncio.Semaphore(limit)

    async def one(item):
        async with gate:
            for attempt in range(1, max_attempts + 1):
                try:
                    return await call(item)
                except anthropic.APIError as err:
                    if not is_transient(err) or attempt == max_attempts:
                        raise
                    asked = retry_after_seconds(err)
                    await sleep(asked if asked is not None else 0.5 * 2 ** (attempt - 1))

    return await asyncio.gather(*(one(item) for item in items))


async def map_task_group(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep):
    """Right too: a TaskGroup (a 400 comes out inside an ExceptionGroup), and the slot freed while waiting."""
    gate = asyncio.Semaphore(limit)

    async def one(item):
        for attempt in range(1, max_attempts + 1):
            try:
                async with gate:
                    return await call(item)
            except anthropic.APIError as err:
                if not is_transient(err) or attempt == max_attempts:
                    raise
                await sleep(max(wait_for(err, attempt), 0.1))

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(one(item)) for item in items]
    return [task.result() for task in tasks]


async def map_retry_after_plus_backoff(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep):
    """Right too: waits retry-after plus the backoff, and counts attempts down."""
    gate = asyncio.Semaphore(limit)

    async def one(item):
        left = max_attempts
        async with gate:
            while True:
                left -= 1
                try:
                    return await call(item)
                except anthropic.APIError as err:
                    if not is_transient(err) or left == 0:
                        raise
                    await sleep((retry_after_seconds(err) or 0) + 0.25)

    return list(await asyncio.gather(*[one(item) for item in items]))


# --- wrong answers, one per hint ---------------------------------------------------------------------


def bounded(retry_one=None, *, gather=True, limit_of=lambda limit: limit):
    """A map right in everything but what is passed: `retry_one(call, item, max_attempts, sleep)` for each
    item, under a Semaphore(limit_of(limit)); gathered (gather=True) or awaited as they complete."""

    async def map_bounded(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep):
        gate = asyncio.Semaphore(limit_of(limit))

        async def one(item):
            async with gate:
                return await (retry_one or retry_right)(call, item, max_attempts, sleep)

        if gather:
            return await asyncio.gather(*(one(item) for item in items))
        return [await done for done in asyncio.as_completed([one(item) for item in items])]

    return map_bounded


async def retry_right(call, item, max_attempts, sleep):
    for attempt in range(1, max_attempts + 1):
        try:
            return await call(item)
        except anthropic.APIError as err:
            if not is_transient(err) or attempt == max_attempts:
                raise
            await sleep(wait_for(err, attempt))


async def retry_never(call, item, max_attempts, sleep):
    return await call(item)


async def retry_only_429(call, item, max_attempts, sleep):
    for attempt in range(1, max_attempts + 1):
        try:
            return await call(item)
        except anthropic.RateLimitError as err:
            if attempt == max_attempts:
                raise
            await sleep(wait_for(err, attempt))


async def retry_status_errors_only(call, item, max_attempts, sleep):
    for attempt in range(1, max_attempts + 1):
        try:
            return await call(item)
        except anthropic.APIStatusError as err:
            if not is_transient(err) or attempt == max_attempts:
                raise
            await sleep(wait_for(err, attempt))


async def retry_everything(call, item, max_attempts, sleep):
    for attempt in range(1, max_attempts + 1):
        try:
            return await call(item)
        except anthropic.APIError as err:
            if attempt == max_attempts:
                raise
            await sleep(wait_for(err, attempt))


async def retry_ignoring_retry_after(call, item, max_attempts, sleep):
    for attempt in range(1, max_attempts + 1):
        try:
            return await call(item)
        except anthropic.APIError as err:
            if not is_transient(err) or attempt == max_attempts:
                raise
            await sleep(0.5 * 2 ** (attempt - 1))


async def retry_one_too_many(call, item, max_attempts, sleep):
    for attempt in range(max_attempts + 1):
        try:
            return await call(item)
        except anthropic.APIError as err:
            if not is_transient(err) or attempt == max_attempts:
                raise
            await sleep(wait_for(err, attempt + 1))


async def retry_three_times(call, item, max_attempts, sleep):
    return await retry_right(call, item, 3, sleep)


async def retry_with_time_sleep(call, item, max_attempts, sleep):
    for attempt in range(1, max_attempts + 1):
        try:
            return await call(item)
        except anthropic.APIError as err:
            if not is_transient(err) or attempt == max_attempts:
                raise
            time.sleep(wait_for(err, attempt))


async def retry_with_asyncio_sleep(call, item, max_attempts, sleep):
    for attempt in range(1, max_attempts + 1):
        try:
            return await call(item)
        except anthropic.APIError as err:
            if not is_transient(err) or attempt == max_attempts:
                raise
            await asyncio.sleep(wait_for(err, attempt))


async def retry_without_await(call, item, max_attempts, sleep):
    for attempt in range(1, max_attempts + 1):
        try:
            return await call(item)
        except anthropic.APIError as err:
            if not is_transient(err) or attempt == max_attempts:
                raise
            sleep(wait_for(err, attempt))


async def retry_sleeping_none(call, item, max_attempts, sleep):
    for attempt in range(1, max_attempts + 1):
        try:
            return await call(item)
        except anthropic.APIError as err:
            if not is_transient(err) or attempt == max_attempts:
                raise
            await sleep(retry_after_seconds(err))


async def retry_without_return(call, item, max_attempts, sleep):
    for attempt in range(1, max_attempts + 1):
        try:
            await call(item)
            break
        except anthropic.APIError as err:
            if not is_transient(err) or attempt == max_attempts:
                raise
            await sleep(wait_for(err, attempt))


async def retry_forever(call, item, max_attempts, sleep):
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call(item)
        except anthropic.APIError as err:
            if not is_transient(err):
                raise
            await sleep(wait_for(err, attempt))


async def retry_raising_the_first(call, item, max_attempts, sleep):
    first = None
    for attempt in range(1, max_attempts + 1):
        try:
            return await call(item)
        except anthropic.APIError as err:
            first = first or err
            if not is_transient(err):
                raise
            if attempt == max_attempts:
                raise first from None
            await sleep(wait_for(err, attempt))


async def retry_swallowing(call, item, max_attempts, sleep):
    """Catches everything, even what stops a runaway; retries a 400 for ever."""
    while True:
        try:
            return await call(item)
        except BaseException as err:  # the mistake under test
            await sleep(retry_after_seconds(err) or 0.5)


async def map_placeholder(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep):
    """The notebook's placeholder."""
    return None


async def map_semaphore_per_task(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep):
    async def one(item):
        async with asyncio.Semaphore(limit):  # a fresh one per task: no bound at all
            return await retry_right(call, item, max_attempts, sleep)

    return await asyncio.gather(*(one(item) for item in items))


async def map_unbounded(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep):
    return await asyncio.gather(*(call(item) for item in items))


async def map_sequential(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep):
    return [await retry_right(call, item, max_attempts, sleep) for item in items]


async def map_coroutines(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep):
    return [call(item) for item in items]


async def map_tasks(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep):
    return [asyncio.create_task(call(item)) for item in items]


async def map_unawaited_gather(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep):
    return asyncio.gather(*(call(item) for item in items))


async def map_return_exceptions(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep):
    gate = asyncio.Semaphore(limit)

    async def one(item):
        async with gate:
            return await retry_right(call, item, max_attempts, sleep)

    return await asyncio.gather(*(one(item) for item in items), return_exceptions=True)


async def map_asyncio_run(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep):
    return asyncio.run(bounded()(call, items, limit=limit, max_attempts=max_attempts, sleep=sleep))


async def map_without_keywords(call, items, limit):
    return await bounded()(call, items, limit=limit)


async def map_by_index(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep):
    return await asyncio.gather(*(call(index) for index in range(len(items))))


def map_not_async(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep):
    return [call(item) for item in items]


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (map_solution, "✅"),
        (map_task_group, "✅"),
        (map_retry_after_plus_backoff, "✅"),
        (bounded(), "✅"),
        (map_placeholder, "`map_bounded` returns None"),
        (map_not_async, "not a coroutine function: define it with `async def`"),
        # How many of the 12 overlap depends on how fast this machine sends them, so the count is not pinned.
        (map_unbounded, "calls were in flight at once with limit=3: make one asyncio.Semaphore(limit)"),
        (map_semaphore_per_task, "A Semaphore made inside each task bounds nothing"),
        (map_sequential, "nothing overlaps: with limit=3 the calls ran one at a time"),
        (bounded(limit_of=lambda limit: limit - 1), "at most 2 calls ran at once with limit=3"),
        (bounded(limit_of=lambda limit: 3), "at most 3 calls ran at once with limit=4"),
        (bounded(gather=False), "return results in the order of items: gather keeps it"),
        (bounded(retry_without_return), "results went missing: 12 results for 12 items, 12 of them None"),
        (map_coroutines, "it returned coroutines, not their results"),
        (map_tasks, "it returned tasks, not their results"),
        (map_unawaited_gather, "it returned a _GatheringFuture without awaiting it"),
        (bounded(retry_never), "no retry of a transient error"),
        (bounded(retry_only_429), "no retry of a transient error: the 529 overloaded_error for 'date'"),
        (bounded(retry_status_errors_only), "a timeout is an APIConnectionError, not an APIStatusError"),
        (bounded(retry_with_time_sleep), "time.sleep blocks the whole event loop: await sleep(...) instead"),
        (bounded(retry_with_asyncio_sleep), "wait with the sleep you are given"),
        (bounded(retry_without_await), "sleep(...) was called but never awaited"),
        (bounded(retry_sleeping_none), "it called sleep(None)"),
        (bounded(retry_ignoring_retry_after), "ignoring retry-after: the 429 for 'banana' asked for 2 s"),
        (bounded(retry_everything), "retrying a permanent error: the 400 for 'fig' was sent 3 times"),
        (bounded(retry_swallowing), "retrying a permanent error: the 400 for 'fig' was sent over and over"),
        (map_return_exceptions, "return_exceptions=True) hides errors"),
        (bounded(retry_one_too_many), "more attempts than max_attempts: 'cherry' got a 529 every time"),
        (bounded(retry_three_times), "giving up too early: 'cherry' got a 529 every time"),
        (bounded(retry_forever), "never giving up: 'cherry' got a 529 every time"),
        (bounded(retry_raising_the_first), "it raised an earlier error: raise the last one"),
        (map_asyncio_run, "asyncio.run() fails inside it"),
        (map_without_keywords, "Keep the signature `async def map_bounded(call, items, *, limit"),
        (map_by_index, "call() takes one of the items as it is"),
        (42, "define `async def map_bounded"),
        ("map_bounded_missing", "run the cells above first"),
    ],
)
def test_check_map_bounded_names_the_mistake(function: Any, expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    check_map_bounded(function)
    assert_verdict(verdict(capsys), expected)


def test_a_deadlock_is_reported_not_waited_for(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setattr(lesson07, "TIMEOUT", 0.3)

    async def map_never_releasing(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep):
        gate = asyncio.Semaphore(limit)

        async def one(item):
            await gate.acquire()  # and never released: the fourth item waits for ever
            return await call(item)

        return await asyncio.gather(*(one(item) for item in items))

    before = set(threading.enumerate())
    check_map_bounded(map_never_releasing)
    assert_verdict(verdict(capsys), "it was still running after 0.3 s")
    assert_threads_end(before, "the deadlocked run was left going")


def test_a_loop_that_never_awaits_is_interrupted(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:
    monkeypatch.setattr(lesson07, "TIMEOUT", 0.2)
    monkeypatch.setattr(lesson07, "GRACE", 0.2)

    async def map_spinning(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep):
        tasks = [asyncio.ensure_future(call(item)) for item in items]
        while not all(task.done() for task in tasks):  # a busy wait: the tasks never get to run
            pass
        return [task.result() for task in tasks]

    before = set(threading.enumerate())
    check_map_bounded(map_spinning)
    assert_verdict(verdict(capsys), "it kept the event loop busy")
    assert_threads_end(before, "the busy loop was never interrupted")


def test_the_check_works_inside_a_running_event_loop(capsys: pytest.CaptureFixture[str]) -> None:
    """As in a notebook, whose kernel runs an event loop: asyncio.run() would fail there."""

    async def cell() -> None:
        map_bounded = map_solution  # noqa: F841 (read by the check, through this frame)
        check_map_bounded("map_bounded")
        check_map_bounded(map_unbounded)

    asyncio.run(cell())
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(PASS) and "Semaphore(limit)" in lines[1], lines


def test_the_check_looks_the_name_up_where_it_is_called(capsys: pytest.CaptureFixture[str]) -> None:
    map_bounded = map_solution  # noqa: F841 (read by the check, through this frame)
    check_map_bounded("map_bounded")
    assert_verdict(verdict(capsys), "✅")


def test_the_check_never_really_waits_and_leaves_the_sleeps_as_they_were(capsys, sleeps, monkeypatch) -> None:
    # A retry-after far longer than the check lets a run go on (TIMEOUT): a check that really waited it would
    # report the solution as still running, not pass it.
    monkeypatch.setattr(lesson07, "RETRY_AFTER", 3600.0)
    real_async_sleep = asyncio.sleep
    check_map_bounded(map_solution)
    check_map_bounded(bounded(retry_with_time_sleep))
    assert sleeps == [], "the student's time.sleep must be noted, not slept"
    assert asyncio.sleep is real_async_sleep and time.sleep == sleeps.append
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(PASS) and lines[1].startswith(NOT_YET), lines


def test_no_check_raises_whatever_it_is_given(capsys: pytest.CaptureFixture[str]) -> None:
    async def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    async def forty_two(*args: Any, **kwargs: Any) -> int:
        return 42

    def sync_crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    for value in (crash, forty_two, sync_crash, "nothing_by_that_name", None, ...):
        check_map_bounded(value)
        out = verdict(capsys)
        assert out.startswith(NOT_YET), out


def test_the_solution_passes_every_time() -> None:
    for _ in range(2):
        passed, message = diagnose(map_solution)
        assert passed, message


def test_the_workbooks_own_map_bounded_passes() -> None:
    concurrency = pytest.importorskip("helpers.concurrency")
    passed, message = diagnose(concurrency.map_bounded)
    assert passed, message
