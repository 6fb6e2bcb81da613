"""Many calls at once: a bounded map with retries, the time each call took, and a rate limiter.

    results = await map_bounded(call, items, limit=5)          # at most 5 in flight, in order
    plan = schedule(durations, limit=5)                        # when each would start and end
    limiter = RateLimiter(); await limiter.wait(); limiter.read(headers)

Lesson 07 uses these with get_async_client(); the exercise of that lesson asks for map_bounded.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import anthropic
import httpx2

from .retries import RetryPolicy, backoff_delay, is_transient, retry_after_seconds
from .transport import RECORDED_ELAPSED
from .wire import RATE_LIMIT_PREFIX

T = TypeVar("T")
R = TypeVar("R")
Sleep = Callable[[float], Awaitable[object]]
Say = Callable[[str], object]


class _RunFailedError(Exception):
    """Stops the calls still waiting to start once another call has failed for good (never raised out)."""


async def map_bounded(
    call: Callable[[T], Awaitable[R]],
    items: Sequence[T],
    *,
    limit: int,
    max_attempts: int = 3,
    sleep: Sleep = asyncio.sleep,
    rng: random.Random | None = None,
) -> list[R]:
    """`await call(item)` for every item, at most `limit` in flight at once, results in the order of
    `items`. A transient error (helpers.retries.is_transient) is retried up to `max_attempts` calls in
    all, after the retry-after it carries or else a short backoff; any other error is raised at once."""
    if limit < 1:
        raise ValueError("limit counts the calls in flight at once, so it must be at least 1")
    gate = asyncio.Semaphore(limit)
    policy = RetryPolicy(max_attempts=max_attempts)
    failed = asyncio.Event()  # set by the first call that fails for good: the others send nothing more

    async def one(item: T) -> R:
        async with gate:
            for attempt in range(1, max_attempts + 1):
                if failed.is_set():
                    raise _RunFailedError
                try:
                    return await call(item)
                except anthropic.APIError as error:
                    if not is_transient(error) or attempt == max_attempts:
                        failed.set()
                        raise
                    asked = retry_after_seconds(error)
                    await sleep(asked if asked is not None else backoff_delay(attempt, policy, rng))
            raise AssertionError("unreachable: the last attempt returns or raises")

    tasks = [asyncio.ensure_future(one(item)) for item in items]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        # gather lets the other calls run on after an error; the run has failed, so stop sending them.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


# --- how long the calls took -----------------------------------------------------------------


def reply_seconds(response: httpx2.Response, measured: float) -> float:
    """How long a reply took: its recorded time when it was replayed, else the time measured."""
    recorded = response.extensions.get(RECORDED_ELAPSED)
    return float(recorded) if recorded is not None else measured


def schedule(durations: Sequence[float], limit: int) -> list[tuple[float, float]]:
    """(start, end) of each call if they are started in order, at most `limit` at once, each as soon as
    one before it ends: the plan of a bounded run, from the time each call takes."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    free_at = [0.0] * limit  # when each of the `limit` places is free again
    plan = []
    for duration in durations:
        place = min(range(limit), key=free_at.__getitem__)
        start = free_at[place]
        free_at[place] = start + duration
        plan.append((start, start + duration))
    return plan


def total_time(plan: Sequence[tuple[float, float]]) -> float:
    return max((end for _, end in plan), default=0.0)


# --- the rate-limit headers -------------------------------------------------------------------


def rate_limits(headers: Mapping[str, str]) -> dict[str, str]:
    """The anthropic-ratelimit-* headers of a reply, by the rest of their name (requests-remaining...)."""
    return {
        name.lower()[len(RATE_LIMIT_PREFIX) :]: value
        for name, value in headers.items()
        if name.lower().startswith(RATE_LIMIT_PREFIX)
    }


@dataclass
class RateLimiter:
    """Spaces calls out as the server's rate-limit headers say the budget runs low, and holds every
    call back after a 429 for as long as it asks: one limiter shared by all the calls of a run, so
    they slow down together. Each decision is said in one line, so a class can watch it.

    `read(headers)` after each reply notes how many requests are left and how long until the budget is
    full again (the reset time against the reply's own `date`, so a replay decides as the recording
    did): when less than `low_water` of the requests are left, calls are spaced so that what is left
    lasts until then. `rate_limited(error)` after a 429 holds all calls for its retry-after. `wait()`
    before each call sleeps until that call may go.
    """

    low_water: float = 0.2
    sleep: Sleep = asyncio.sleep
    clock: Callable[[], float] = time.monotonic
    say: Say | None = print
    spacing: float = 0.0  # seconds between the starts of two calls; 0 while plenty is left
    next_start: float = float("-inf")
    waits: list[float] = field(default_factory=list)

    def read(self, headers: Mapping[str, str]) -> None:
        limits = rate_limits(headers)
        try:
            limit = int(limits["requests-limit"])
            remaining = int(limits["requests-remaining"])
            reset = datetime.fromisoformat(limits["requests-reset"].replace("Z", "+00:00"))
            now = parsedate_to_datetime(headers["date"])
        except (KeyError, ValueError, TypeError):
            return  # a server that sends no rate-limit headers (a local one) is never slowed down
        refill = max((reset - now).total_seconds(), 0.0)
        spacing = refill / max(remaining, 1) if remaining < self.low_water * limit else 0.0
        # A line when it slows down, goes back to full speed, or changes its pace by half or more.
        changed = (spacing > 0) != (self.spacing > 0) or abs(spacing - self.spacing) >= 0.5 * max(self.spacing, 1e-9)
        if changed:
            self._say(
                f"{remaining} of {limit} requests left, full again in {refill:.0f} s: "
                + (f"one call every {spacing:.1f} s" if spacing else "full speed")
            )
        self.spacing = spacing

    def rate_limited(self, error: anthropic.APIStatusError) -> None:
        asked = retry_after_seconds(error)
        hold = asked if asked is not None else 1.0
        self.next_start = max(self.next_start, self.clock() + hold)
        self._say(f"429: every call waits {hold:.1f} s, as the server asked")

    async def wait(self) -> None:
        now = self.clock()
        start = max(now, self.next_start)
        self.next_start = start + self.spacing
        if start > now:
            self.waits.append(start - now)
            await self.sleep(start - now)

    def _say(self, line: str) -> None:
        if self.say is not None:
            self.say(f"  limiter: {line}")


# --- showing progress -----------------------------------------------------------------------


class Progress:
    """A bar that fills as calls finish, in JupyterLab; and one line at the end everywhere (stored
    outputs read the same on every run)."""

    CSS_CLASS = "workbook-progress"

    def __init__(self, total: int, label: str = "calls") -> None:
        from .streaming import display_kind

        self.total, self.label, self.done = total, label, 0
        self.bar: Any = None
        if display_kind() == "widget":
            import ipywidgets
            from IPython.display import display

            self.bar = ipywidgets.IntProgress(value=0, min=0, max=total, description=label)
            self.bar.add_class(self.CSS_CLASS)
            self.text = ipywidgets.Label(value=f"0 of {total}")
            display(ipywidgets.HBox([self.bar, self.text]))

    def advance(self) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.value = self.done
            self.text.value = f"{self.done} of {self.total}"

    def close(self) -> None:
        """One line in every case: a notebook saved from JupyterLab keeps it, readable without widgets."""
        print(f"{self.label}: {self.done} of {self.total} done")
