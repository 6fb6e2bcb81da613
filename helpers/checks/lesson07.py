"""Checks for the exercise of lesson 07, a bounded map with retries.

The student's `map_bounded(call, items, *, limit, max_attempts, sleep)` is a coroutine function. The
check runs it in an event loop of its own, on a thread of its own: a notebook's kernel already runs an
event loop on its main thread, where asyncio.run() would fail, so the check works the same in a cell,
in a script and in pytest.

`call(item)` makes a real request through the SDK's AsyncAnthropic over a scripted transport (no
recording, no network, no SDK retries), and returns the reply's text: the item upper-cased, so a
result that is lost or out of place shows. The transport holds each request a few hundredths of a
second, some items longer than others (so calls finish out of order), and counts how many are in
flight at once. It fails on demand, per item, with the responses of helpers.faults: a 429 that asks
for RETRY_AFTER seconds (retry-after), 529s, a timeout, a 400. `sleep` is a fake that writes down each
wait, with the item whose task asked for it, and waits no time. While the check runs, time.sleep and
asyncio.sleep are replaced, on the check's thread only, by functions that note the call and wait no
time: time.sleep blocks the event loop (it stops the run at once), and asyncio.sleep is not the sleep
the function was given.

Four runs, each looking for its own mistakes:
1. twelve items, limit 3, nothing fails: every result, in the order of items; exactly `limit` in
   flight at once, not more (no Semaphore), not one (sequential), not fewer;
2. the same items, limit 4, some failing first (429 with retry-after, two 529s, a timeout): each
   retried, after at least the wait the 429 asks for and after a wait for each other retry;
3. one item answered 400: raised at once, sent once, no wait (an ExceptionGroup of it, as
   asyncio.TaskGroup raises, counts too);
4. one item answered 529 every time, max_attempts=4: exactly 4 calls, then the last error raised.

Runaway guards: past RUNAWAY requests or waits, or RUNAWAY_ITEM requests for one item, a run is
stopped (by a BaseException, so `except Exception` cannot swallow it); a run still going after
TIMEOUT seconds is abandoned (a deadlock); a thread whose event loop never comes back (a loop that
never awaits) is interrupted.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import inspect
import json
import threading
import time
import traceback
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx2

from ..client import build_async_client
from ..faults import FaultTransport
from ..retries import describe_error, is_transient
from ..settings import MODEL
from . import Outcome, exercise, explain, message_json, report

ITEMS = (
    "apple",
    "banana",
    "cherry",
    "date",
    "elderberry",
    "fig",
    "grape",
    "honeydew",
    "kiwi",
    "lemon",
    "mango",
    "nectarine",
)
EXPECTED = [item.upper() for item in ITEMS]
HOLDS = (0.024, 0.008, 0.016)  # seconds each request is held, by item: calls finish out of order
LIMIT = 3
MAX_ATTEMPTS = 3
RETRY_AFTER = 2.0  # what the check's 429 asks for: longer than any short backoff

TRANSIENT_LIMIT = 4  # another limit, so a Semaphore(3) written out shows
TRANSIENT = {"banana": ["429"], "date": ["529", "529"], "grape": ["timeout"]}  # then a reply
PERMANENT = "fig"  # answered 400, every time
ENDLESS = "cherry"  # answered 529, every time
ENDLESS_ATTEMPTS = 4  # not the default, so a number written out shows

RUNAWAY = 200  # requests (or waits) after which a run is stopped
RUNAWAY_ITEM = 40  # requests for one item after which a run is stopped
HELD_ATTEMPTS = ENDLESS_ATTEMPTS + 1  # the calls of an item that are held; later ones are answered at once
TIMEOUT = 10.0  # seconds after which a run still going is abandoned
GRACE = 2.0  # seconds more for the thread to end before it is interrupted
CLEANUP = 0.2  # seconds for the tasks left over to end once cancelled

SIGNATURE = "async def map_bounded(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep)"

_pause = asyncio.sleep  # the real one, for the check's own waits while asyncio.sleep is watched


class _Stop(BaseException):
    """Stops a run. A BaseException, so `except Exception` cannot swallow it."""


class Run:
    """One run of the student's function against a scripted model, and what it did."""

    def __init__(
        self,
        *,
        limit: int,
        max_attempts: int,
        faults: dict[str, list[str]] | None = None,
        always: dict[str, str] | None = None,
    ) -> None:
        self.limit, self.max_attempts = limit, max_attempts
        scripted = {**{item: [] for item in always or {}}, **(faults or {})}
        self.faults = {
            item: FaultTransport(_NOWHERE, list(script), always=(always or {}).get(item), retry_after=RETRY_AFTER)
            for item, script in scripted.items()
        }
        self.attempts: Counter[str] = Counter()  # requests sent, by item
        self.raised: defaultdict[str, list[BaseException]] = defaultdict(list)  # errors call() raised, by item
        self.in_flight = 0
        self.most = 0  # the most requests in flight at once
        self.waits: list[tuple[str | None, Any]] = []  # (item of the task that waited, seconds), awaited
        self.unawaited: Counter[str] = Counter()  # coroutines of call() and sleep() never awaited
        self.time_sleeps: list[Any] = []
        self.asyncio_sleeps: list[Any] = []
        self.result: Any = None
        self.error: BaseException | None = None
        self.signature_error: TypeError | None = None
        self.halted: str | None = None  # "runaway" or "time.sleep"
        self.timed_out = False
        self.blocked = False
        self.stop: asyncio.Event | None = None
        self.client: Any = None
        self._task_items: dict[Any, str] = {}
        self._coroutines: list[tuple[str, Any]] = []

    @property
    def requests(self) -> int:
        return sum(self.attempts.values())

    def waits_of(self, item: str) -> list[Any]:
        return [seconds for waiter, seconds in self.waits if waiter == item]

    # --- what the student's function is given ---------------------------------------------------

    def call(self, item: Any) -> Any:
        coroutine = self._call(item)
        self._coroutines.append(("call", coroutine))
        return coroutine

    async def _call(self, item: Any) -> str:
        if not isinstance(item, str) or item not in ITEMS:
            raise TypeError(f"call() takes one of the items as it is, call(item); it was given {item!r}")
        if self.requests >= RUNAWAY or self.attempts[item] >= RUNAWAY_ITEM:
            await self.halt("runaway")
        self._task_items[asyncio.current_task()] = item
        self.attempts[item] += 1
        try:
            reply = await self.client.messages.create(
                model=MODEL, max_tokens=20, messages=[{"role": "user", "content": item}]
            )
        except Exception as error:
            self.raised[item].append(error)
            raise
        return "".join(block.text for block in reply.content if block.type == "text")

    def sleep(self, seconds: Any) -> Any:
        coroutine = self._sleep(seconds)
        self._coroutines.append(("sleep", coroutine))
        return coroutine

    async def _sleep(self, seconds: Any) -> None:
        if len(self.waits) >= RUNAWAY:
            await self.halt("runaway")
        self.waits.append((self._task_items.get(asyncio.current_task()), seconds))
        await _pause(0)

    async def answer(self, request: httpx2.Request) -> httpx2.Response:
        """The scripted model: hold the request a little, then the item's fault or its text upper-cased."""
        item = json.loads(request.content)["messages"][0]["content"]
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        try:
            if self.attempts[item] <= HELD_ATTEMPTS:  # so a runaway is stopped quickly
                await _pause(HOLDS[ITEMS.index(item) % len(HOLDS)])
        finally:
            self.in_flight -= 1
        fault = self.faults.get(item)
        failed = fault.fail(request) if fault is not None else None
        return failed if failed is not None else httpx2.Response(200, json=message_json(item.upper()))

    # --- stopping -------------------------------------------------------------------------------

    def halt_now(self, reason: str) -> None:
        if self.halted is None:
            self.halted = reason
        if self.stop is not None:
            self.stop.set()
        raise _Stop

    async def halt(self, reason: str) -> None:
        if self.halted is None:
            self.halt_now(reason)
        # Stopped already, and the _Stop was swallowed: wait here for good rather than spin the loop.
        await asyncio.get_running_loop().create_future()

    def release(self) -> None:
        """Let go of what the student's code left: the frames of the error it raised hold its locals (a
        coroutine never awaited, say), which are freed now, while the check hides their warnings."""
        if self.error is not None:
            for error in {id(e): e for e in [self.error, *_leaves(self.error)]}.values():
                traceback.clear_frames(error.__traceback__)
        self.result = self.error = None

    def close_unawaited(self) -> None:
        """Close the coroutines of call() and sleep() that were never awaited (no warnings), counting them."""
        for kind, coroutine in self._coroutines:
            if inspect.getcoroutinestate(coroutine) == inspect.CORO_CREATED:
                self.unawaited[kind] += 1
                coroutine.close()


_ABANDONED: list[asyncio.Task[Any]] = []  # tasks of the student's that would not end (see _shut)
_NOWHERE = httpx2.MockTransport(lambda request: httpx2.Response(500))  # under the per-item faults; never used


def run_map(
    function: Any,
    *,
    limit: int = LIMIT,
    max_attempts: int = MAX_ATTEMPTS,
    faults: dict[str, list[str]] | None = None,
    always: dict[str, str] | None = None,
) -> Run:
    """Run `function` over ITEMS in a fresh event loop, on a thread of its own, and record what it did."""
    run = Run(limit=limit, max_attempts=max_attempts, faults=faults, always=always)
    worker = threading.Thread(target=_work, args=(function, run), name="check_map_bounded", daemon=True)
    with _watching_sleeps(run, worker):
        worker.start()
        worker.join(TIMEOUT + GRACE)
        if worker.is_alive():  # its event loop never came back: code that never awaits
            run.blocked = True
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(worker.ident or 0), ctypes.py_object(_Stop))
            worker.join(GRACE)
    return run


@contextlib.contextmanager
def _watching_sleeps(run: Run, worker: threading.Thread) -> Iterator[None]:
    """Replace time.sleep and asyncio.sleep, on the worker thread only, by functions that note the call."""
    real_sleep, real_async_sleep = time.sleep, asyncio.sleep

    def time_sleep(seconds: float) -> None:
        if threading.current_thread() is not worker:
            return real_sleep(seconds)
        run.time_sleeps.append(seconds)
        run.halt_now("time.sleep")

    def async_sleep(delay: float, result: Any = None) -> Any:
        if threading.current_thread() is worker and not (isinstance(delay, int | float) and delay <= 0):
            run.asyncio_sleeps.append(delay)
            return real_async_sleep(0, result)
        return real_async_sleep(delay, result)

    time.sleep, asyncio.sleep = time_sleep, async_sleep  # type: ignore[assignment]
    try:
        yield
    finally:
        time.sleep, asyncio.sleep = real_sleep, real_async_sleep  # type: ignore[assignment]


def _work(function: Any, run: Run) -> None:
    loop = asyncio.new_event_loop()
    loop.set_exception_handler(lambda loop, context: None)  # tasks left over may fail, unseen
    try:
        loop.run_until_complete(_drive(function, run))
    except BaseException as error:  # the student's SystemExit, or the watchdog's _Stop
        if run.error is None and not isinstance(error, _Stop):
            run.error = error
    finally:
        _shut(loop, run)


async def _drive(function: Any, run: Run) -> None:
    run.stop = asyncio.Event()
    run.client = build_async_client(httpx2.MockTransport(run.answer), api_key="check", max_retries=0)
    try:
        work = function(run.call, list(ITEMS), limit=run.limit, max_attempts=run.max_attempts, sleep=run.sleep)
    except TypeError as error:  # arguments that do not fit its signature
        run.signature_error = error
        return
    if not inspect.isawaitable(work):
        run.result = work
        return
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(run.stop.wait())
    await asyncio.wait({task, stopped}, timeout=TIMEOUT, return_when=asyncio.FIRST_COMPLETED)
    stopped.cancel()
    if task.done():
        if task.cancelled():
            run.error = asyncio.CancelledError()
        elif task.exception() is not None:
            run.error = task.exception()
        else:
            run.result = task.result()
            for value in run.result if isinstance(run.result, list | tuple) else []:
                if inspect.iscoroutine(value):
                    value.close()  # the student's own coroutines, never awaited: no warning
    elif run.halted is None:
        run.timed_out = True


def _shut(loop: asyncio.AbstractEventLoop, run: Run) -> None:
    """Cancel what is left, close the client, close the loop; never wait long for code that will not end."""
    try:
        pending = asyncio.all_tasks(loop)
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.wait(pending, timeout=CLEANUP))
            # Tasks that swallow their cancellation are kept, never collected: closing them would run
            # their `except BaseException` once more, outside any loop, and print an error nobody asked for.
            _ABANDONED.extend(task for task in pending if not task.done())
        if run.client is not None:
            loop.run_until_complete(asyncio.wait_for(run.client.close(), CLEANUP))
        loop.run_until_complete(loop.shutdown_asyncgens())
    except BaseException:  # leftovers of a run that went wrong: what it did is recorded already
        pass
    finally:
        run.close_unawaited()
        loop.close()


# --- the hints --------------------------------------------------------------------------------------


def _leaves(error: BaseException) -> list[BaseException]:
    """The errors in `error`: itself, or those inside an ExceptionGroup (asyncio.TaskGroup raises one)."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def _item_of(run: Run, error: BaseException) -> str | None:
    return next((item for item, errors in run.raised.items() if any(e is error for e in errors)), None)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _error_hint(error: BaseException) -> str:
    if isinstance(error, RuntimeError) and "cannot be called from a running event loop" in str(error):
        return (
            "`map_bounded` already runs in an event loop, so asyncio.run() fails inside it: await the calls "
            "instead (return await asyncio.gather(...))."
        )
    if isinstance(error, asyncio.CancelledError):
        return "it was cancelled (CancelledError) before it returned: await every task it starts, and cancel none."
    return explain(error)  # type: ignore[arg-type]


def _trouble(run: Run, runaway: str) -> str | None:
    """The hint for a run that could not finish: a signature that does not fit, a blocked or stuck loop."""
    if run.signature_error is not None:
        return (
            f"calling map_bounded(call, items, limit=..., max_attempts=..., sleep=...) failed: {run.signature_error}. "
            f"Keep the signature `{SIGNATURE}`."
        )
    if run.time_sleeps or run.halted == "time.sleep":
        return (
            "time.sleep blocks the whole event loop: await sleep(...) instead, with the sleep you are given. "
            "While time.sleep waits, every call in flight stops."
        )
    if run.blocked:
        return (
            f"it kept the event loop busy for over {TIMEOUT:g} s without letting anything else run: look for a "
            "loop that never awaits or never ends (a retry loop must stop after max_attempts calls)."
        )
    if run.halted == "runaway":
        return runaway
    if run.timed_out:
        return (
            f"it was still running after {TIMEOUT:g} s, for calls that take a few hundredths of a second each: "
            "look for something awaited that never comes, such as a Semaphore acquired and never released (use "
            "`async with semaphore:`) or a task nobody starts."
        )
    return None


def _results_hint(result: Any, expected: list[str]) -> str | None:
    """The hint for results that are not what `call` returned for each item, in the order of the items."""
    if result is None:
        return (
            "`map_bounded` returns None: await call(item) for every item and return the results, in the order "
            "of items (return await asyncio.gather(...))."
        )
    if inspect.isawaitable(result):
        return (
            f"it returned a {type(result).__name__} without awaiting it: return the results themselves, "
            "return await asyncio.gather(...)."
        )
    if not isinstance(result, list | tuple):
        return f"it returned {type(result).__name__}: return a list of the results, one per item."
    if any(inspect.iscoroutine(value) for value in result):
        return (
            "it returned coroutines, not their results: nothing ran them. Await them, e.g. "
            "results = await asyncio.gather(*coroutines)."
        )
    if any(isinstance(value, asyncio.Future) for value in result):
        return "it returned tasks, not their results: await them, e.g. results = await asyncio.gather(*tasks)."
    if any(isinstance(value, BaseException) for value in result):
        return (
            "an error came back as a result: asyncio.gather(..., return_exceptions=True) hides errors. Leave "
            "return_exceptions out, so an error that is not retried reaches the caller."
        )
    if list(result) == expected:
        return None
    missing = sum(value is None for value in result)
    if len(result) < len(expected) or missing:
        got = f"{len(result)} results for {len(expected)} items" + (f", {missing} of them None" if missing else "")
        return (
            f"results went missing: {got}. Return one result per item, what `await call(item)` returned "
            "(return it from each task; asyncio.gather collects them all)."
        )
    if len(result) > len(expected):
        return f"{len(result)} results for {len(expected)} items: return exactly one result per item."
    if sorted(map(repr, result)) == sorted(map(repr, expected)):
        return (
            "the results are in the order the calls finished, not in the order of items: return results in "
            "the order of items: gather keeps it (asyncio.as_completed does not)."
        )
    at = next(i for i, (got, want) in enumerate(zip(result, expected, strict=True)) if got != want)
    return (
        f"result {at} is {result[at]!r}, but call({ITEMS[at]!r}) returned {expected[at]!r}: return what "
        "`await call(item)` returns, for each item, unchanged."
    )


def _concurrency_hint(run: Run) -> str | None:
    if run.most > run.limit:
        return (
            f"{run.most} calls were in flight at once with limit={run.limit}: make one asyncio.Semaphore(limit) "
            "before the tasks start, shared by them all, and hold it around each call (async with semaphore: "
            "...). A Semaphore made inside each task bounds nothing: every task gets a fresh one of its own."
        )
    if run.most == 1 and run.limit > 1:
        return (
            f"nothing overlaps: with limit={run.limit} the calls ran one at a time. Start them all with "
            "gather/TaskGroup and bound them with a Semaphore: "
            "await asyncio.gather(*(one(item) for item in items))."
        )
    if run.most < run.limit:
        return (
            f"at most {run.most} calls ran at once with limit={run.limit}: let limit of them run at once, "
            "asyncio.Semaphore(limit)."
        )
    return None


def _plain_hint(run: Run) -> str | None:
    trouble = _trouble(
        run, f"it sent {RUNAWAY}+ requests for {len(ITEMS)} items, none of which failed: call each item once."
    )
    if trouble:
        return trouble
    if run.error is not None:
        return _error_hint(run.error)
    hint = _results_hint(run.result, EXPECTED) or _concurrency_hint(run)
    if hint:
        return hint
    if run.requests > len(ITEMS):
        return f"it sent {run.requests} requests for {len(ITEMS)} items, none of which failed: call each item once."
    if any(not _number(w) or w > 0 for _, w in run.waits) or run.asyncio_sleeps:
        return "it waited though nothing failed: sleep only before retrying a call that raised a transient error."
    return None


def _transient_hint(run: Run) -> str | None:
    trouble = _trouble(
        run,
        f"never giving up: it sent {RUNAWAY}+ requests for {len(ITEMS)} items, of which 3 fail a time or two. "
        "Return an item's result as soon as a call succeeds, and stop after max_attempts calls.",
    )
    if trouble:
        return trouble
    if run.error is not None:
        for leaf in _leaves(run.error):
            item = _item_of(run, leaf)
            if item is None or not is_transient(leaf):
                continue
            what, calls = describe_error(leaf), run.attempts[item]
            if calls <= 1:
                extra = (
                    " (a timeout is an APIConnectionError, not an APIStatusError: catch anthropic.APIError, and "
                    "let is_transient(err) decide)"
                    if isinstance(leaf, anthropic.APIConnectionError)
                    else ""
                )
                return (
                    f"no retry of a transient error: the {what} for {item!r} was raised at once. It is transient "
                    f"(helpers.retries.is_transient(err) is True){extra}: wait, then call again, up to max_attempts "
                    "calls in all."
                )
            return (
                f"giving up too early: {item!r} got {', '.join(TRANSIENT[item])}, then a reply, but its {what} was "
                f"raised after {calls} calls, with max_attempts={run.max_attempts}. max_attempts counts every call, "
                "the first included: retry until that many have failed."
            )
        return _error_hint(run.error)
    if run.unawaited["sleep"]:
        return "sleep(...) was called but never awaited, so it did not wait: write `await sleep(seconds)`."
    retries = sum(max(0, run.attempts[item] - 1) for item in TRANSIENT)
    waits = [seconds for _, seconds in run.waits]
    if retries and not waits:
        used = " (it waited with asyncio.sleep)" if run.asyncio_sleeps else ""
        return (
            f"wait with the sleep you are given: it retried {retries} times but never awaited the `sleep` passed "
            f"to it{used}. Write `await sleep(seconds)`, so the check (and a test) decides how long a wait takes."
        )
    for seconds in waits:
        if seconds is None:
            return (
                "it called sleep(None): retry_after_seconds(err) is None when the error carries no retry-after "
                "(a 529, a timeout). Wait a short backoff then, e.g. 0.5 * 2 ** (attempt - 1) seconds."
            )
        if not _number(seconds):
            return f"it called sleep({seconds!r}): pass sleep a number of seconds."
        if seconds < 0:
            return f"it called sleep({seconds!r}): a wait can't be negative."
    if len(waits) < retries:
        return (
            f"it retried {retries} times but waited only {len(waits)} times: await sleep(seconds) before every retry."
        )
    asked = run.waits_of("banana") or waits
    if max(asked, default=0.0) < RETRY_AFTER * (1 - 1e-9):
        return (
            f"ignoring retry-after: the 429 for 'banana' asked for {RETRY_AFTER:g} s (its retry-after header), but "
            f"it waited {max(asked, default=0.0):.2f} s. Wait what retry_after_seconds(err) says; a short backoff "
            "only when it says None."
        )
    if any(seconds == 0 for seconds in waits):
        return (
            "a wait of 0 s before a retry: when the error carries no retry-after (a 529, a timeout), wait a short "
            "backoff, e.g. 0.5 * 2 ** (attempt - 1) seconds."
        )
    hint = _results_hint(run.result, EXPECTED) or _concurrency_hint(run)
    if hint:
        return hint
    for item in ITEMS:
        needed = 1 + len(TRANSIENT.get(item, []))
        if run.attempts[item] > needed:
            return (
                f"{item!r} was called {run.attempts[item]} times, though its call succeeded on call {needed}: "
                "return the result as soon as a call succeeds."
            )
    return None


def _permanent_hint(run: Run) -> str | None:
    calls = run.attempts[PERMANENT]
    retried = (
        f"retrying a permanent error: the 400 for {PERMANENT!r} was sent "
        f"{'over and over' if run.halted == 'runaway' else f'{calls} times'}. The same request gets the same "
        "answer: raise it at once when helpers.retries.is_transient(err) is False."
    )
    trouble = _trouble(run, retried)
    if trouble:
        return trouble
    if calls > 1:
        return retried
    if run.error is None:
        if isinstance(run.result, list | tuple) and any(isinstance(v, BaseException) for v in run.result):
            return _results_hint(run.result, EXPECTED)
        return (
            f"on the 400 for {PERMANENT!r} it returned instead of raising: a permanent error must reach the "
            "caller. Re-raise it (a bare `raise`)."
        )
    leaves = _leaves(run.error)
    if not all(isinstance(leaf, anthropic.BadRequestError) for leaf in leaves):
        if not any(isinstance(leaf, anthropic.APIError) for leaf in leaves):
            return _error_hint(run.error)
        return (
            f"on the 400 for {PERMANENT!r} it raised {type(run.error).__name__}: re-raise the API's own error "
            "(a bare `raise`), so the caller sees what went wrong."
        )
    if run.waits_of(PERMANENT):
        return (
            f"it waited before raising the 400 for {PERMANENT!r}: a permanent error is raised at once, without "
            "sleeping."
        )
    return None


def _endless_hint(run: Run) -> str | None:
    m, calls = run.max_attempts, run.attempts[ENDLESS]
    trouble = _trouble(
        run,
        f"never giving up: {ENDLESS!r} got a 529 every time, and it sent {RUNAWAY}+ requests. Stop after "
        "max_attempts calls, and raise the last error.",
    )
    if trouble:
        return trouble
    if calls > m:
        return (
            f"more attempts than max_attempts: {ENDLESS!r} got a 529 every time and was sent {calls} times, with "
            f"max_attempts={m}. max_attempts counts every call, the first included."
        )
    if calls < m:
        return (
            f"giving up too early: {ENDLESS!r} got a 529 every time, and it gave up after {calls} calls, with "
            f"max_attempts={m}: use the max_attempts you are given (it counts every call, the first included)."
        )
    if run.error is None:
        if isinstance(run.result, list | tuple) and any(isinstance(v, BaseException) for v in run.result):
            return _results_hint(run.result, EXPECTED)
        return (
            f"when all {m} calls for {ENDLESS!r} failed it returned instead of raising: raise the last error "
            "(a bare `raise`)."
        )
    leaves = _leaves(run.error)
    if not all(isinstance(leaf, anthropic.OverloadedError) for leaf in leaves):
        if not any(isinstance(leaf, anthropic.APIError) for leaf in leaves):
            return _error_hint(run.error)
        return (
            f"when all {m} calls for {ENDLESS!r} failed it raised {type(run.error).__name__}: raise the last "
            "error itself, the API's (a bare `raise`)."
        )
    last = run.raised[ENDLESS][-1] if run.raised[ENDLESS] else None
    if not any(leaf is last for leaf in leaves):
        return f"when all {m} calls for {ENDLESS!r} failed it raised an earlier error: raise the last one."
    if len(run.waits_of(ENDLESS)) > m - 1:
        return (
            f"it waited after the last of the {m} calls for {ENDLESS!r}: nobody retries after that, so raise at once."
        )
    return None


# Each run, and the hint for what went wrong in it (None when nothing did).
SCENARIOS: list[tuple[Callable[[Run], str | None], dict[str, Any]]] = [
    (_plain_hint, {}),
    (_transient_hint, {"limit": TRANSIENT_LIMIT, "faults": TRANSIENT}),
    (_permanent_hint, {"always": {PERMANENT: "400"}}),
    (_endless_hint, {"max_attempts": ENDLESS_ATTEMPTS, "always": {ENDLESS: "529"}}),
]


def diagnose(function: Any) -> tuple[bool, str]:
    """(passed, message) for a student's map_bounded; one specific hint for the first wrong behaviour."""
    if not callable(function):
        return False, f"define `{SIGNATURE}`."
    if not inspect.iscoroutinefunction(function):
        return False, (
            "`map_bounded` is not a coroutine function: define it with `async def`, so it can await the calls "
            f"(`{SIGNATURE}`)."
        )
    for hint_of, options in SCENARIOS:
        run = run_map(function, **options)
        try:
            hint = hint_of(run)
        finally:
            run.release()
        if hint:
            return False, hint
    return True, (
        f"at most limit calls at once ({LIMIT} of {len(ITEMS)} overlapped), results in the order of items, "
        f"transient errors retried (a 429 after its retry-after) up to max_attempts calls, the last error raised, "
        "and a 400 raised at once."
    )


@exercise(1, "A bounded map with retries")
def check_map_bounded(function: Any) -> Outcome:
    """Exercise 07.1: the bounded map, run in an event loop of its own against a scripted model."""
    with warnings.catch_warnings():
        # A coroutine of the student's left unawaited (say, by an asyncio.run() that failed) would warn
        # when collected, after the check's line: the hint says what went wrong already.
        warnings.filterwarnings("ignore", message="coroutine .* was never awaited", category=RuntimeWarning)
        passed, message = diagnose(function)
    return report(passed, message)
