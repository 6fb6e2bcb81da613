"""helpers/concurrency.py and helpers/batches.py: bounded maps, plans, the limiter, progress, batch polling."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx2
import matplotlib.pyplot as plt
import pytest

from helpers import reply_text, tickets
from helpers.batches import wait_for_batch
from helpers.checks import message_json
from helpers.client import build_async_client
from helpers.concurrency import Progress, RateLimiter, map_bounded, rate_limits, reply_seconds, schedule, total_time
from helpers.faults import with_faults
from helpers.plots import plot_timelines
from helpers.retries import SimulatedTime
from helpers.transport import RECORDED_ELAPSED


def scripted_async(answer) -> object:
    return build_async_client(httpx2.MockTransport(answer), api_key="test", max_retries=0)


# --- map_bounded -----------------------------------------------------------------------------------


def test_map_bounded_keeps_the_order_and_the_bound_and_retries_transient_errors():
    in_flight = most = 0
    answered: list[str] = []

    async def answer(request: httpx2.Request) -> httpx2.Response:
        nonlocal in_flight, most
        in_flight += 1
        most = max(most, in_flight)
        text = json.loads(request.content)["messages"][0]["content"]
        # The others take turns meanwhile: 4 turns for the shortest item, 1 for the longest, so later ones end first.
        for _ in range(5 - len(text) // len("item 0")):
            await asyncio.sleep(0)
        in_flight -= 1
        answered.append(text)
        return httpx2.Response(200, json=message_json(text.upper()))

    timer = SimulatedTime()
    client = with_faults(scripted_async(answer), ["429", "529"], retry_after=1.5)

    async def call(item: str) -> str:
        reply = await client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": item}])
        return reply_text(reply)

    items = [f"item {n}" * (n % 4 + 1) for n in range(10)]
    results = asyncio.run(map_bounded(call, items, limit=3, sleep=timer.asleep))
    assert answered != items, "the calls ended in the order of items, so keeping that order proves nothing"
    assert results == [item.upper() for item in items]
    assert most <= 3 and most > 1, f"{most} calls were in flight at once with limit 3"
    assert timer.waits[0] == 1.5 and len(timer.waits) == 2, "the 429's retry-after, then a backoff for the 529"


def test_map_bounded_raises_a_permanent_error_at_once():
    sent = 0

    async def answer(request: httpx2.Request) -> httpx2.Response:
        nonlocal sent
        sent += 1
        return httpx2.Response(200, json=message_json("ok"))

    client = with_faults(scripted_async(answer), ["400"])

    async def call(item: str) -> str:
        await client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": item}])
        return item

    import anthropic

    with pytest.raises(anthropic.BadRequestError):
        asyncio.run(map_bounded(call, ["a"], limit=1, sleep=SimulatedTime().asleep))
    assert sent == 0, "a 400 is not asked again"


# --- plans -----------------------------------------------------------------------------------------


def test_a_plan_starts_each_call_in_the_next_free_place():
    assert schedule([1.0, 2.0, 1.0], 1) == [(0.0, 1.0), (1.0, 3.0), (3.0, 4.0)]
    assert schedule([1.0, 2.0, 1.0, 1.0], 2) == [(0.0, 1.0), (0.0, 2.0), (1.0, 2.0), (2.0, 3.0)]
    assert total_time(schedule([1.0] * 12, 6)) == 2.0
    with pytest.raises(ValueError):
        schedule([1.0], 0)


def test_a_replayed_reply_took_its_recorded_time_a_live_one_the_time_measured():
    replayed = httpx2.Response(200, extensions={RECORDED_ELAPSED: 0.8})
    assert reply_seconds(replayed, measured=0.001) == 0.8
    assert reply_seconds(httpx2.Response(200), measured=0.25) == 0.25


def test_the_timeline_plot_draws_one_bar_per_call_in_each_panel():
    figure = plot_timelines({"one": schedule([1.0, 2.0], 1), "two": schedule([1.0, 2.0], 2)})
    assert [len(ax.patches) for ax in figure.axes] == [2, 2]
    assert figure.axes[0].get_title(loc="left") == "one: 3.0 s"
    plt.close(figure)


# --- the limiter -----------------------------------------------------------------------------------


def headers(remaining: int, limit: int = 50, seconds_left: int = 30) -> dict[str, str]:
    now = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)
    reset = (now + timedelta(seconds=seconds_left)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "date": format_datetime(now, usegmt=True),
        "anthropic-ratelimit-requests-limit": str(limit),
        "anthropic-ratelimit-requests-remaining": str(remaining),
        "anthropic-ratelimit-requests-reset": reset,
    }


def test_the_limiter_runs_free_with_plenty_left_and_spaces_calls_when_little_is():
    said: list[str] = []
    timer = SimulatedTime()
    limiter = RateLimiter(sleep=timer.asleep, clock=timer.clock, say=said.append)
    limiter.read(headers(remaining=40))
    assert limiter.spacing == 0 and not said
    limiter.read(headers(remaining=5, seconds_left=30))
    assert limiter.spacing == 6.0 and "5 of 50 requests left, full again in 30 s" in said[-1]

    async def three_calls() -> None:
        for _ in range(3):
            await limiter.wait()

    asyncio.run(three_calls())
    assert limiter.waits == [6.0, 6.0], "the first call goes at once, the next ones 6 s apart"
    limiter.read({"date": "nonsense"})  # a server without the headers changes nothing
    assert limiter.spacing == 6.0
    assert rate_limits({"Anthropic-Ratelimit-Requests-Limit": "5", "x": "y"}) == {"requests-limit": "5"}


def test_after_a_429_every_call_waits_what_it_asked_once():
    import anthropic

    timer = SimulatedTime()
    limiter = RateLimiter(sleep=timer.asleep, clock=timer.clock, say=None)
    request = httpx2.Request("POST", "https://api.anthropic.com/v1/messages")
    response = httpx2.Response(429, headers={"retry-after": "3"}, request=request)
    limiter.rate_limited(anthropic.RateLimitError("slow down", response=response, body=None))

    async def calls() -> None:
        await asyncio.gather(limiter.wait(), limiter.wait())

    asyncio.run(calls())
    assert limiter.waits == [3.0], "held until 3 s after the 429; the second call finds the time passed"


def test_progress_outside_a_notebook_says_one_line_at_the_end(capsys):
    progress = Progress(3, "tickets")
    for _ in range(3):
        progress.advance()
    progress.close()
    assert capsys.readouterr().out == "tickets: 3 of 3 done\n"


# --- polling a batch --------------------------------------------------------------------------------


def batch_json(status: str) -> dict:
    counts = {"processing": 2 if status != "ended" else 0, "succeeded": 0 if status != "ended" else 2}
    return {
        "id": "msgbatch_test",
        "type": "message_batch",
        "processing_status": status,
        "request_counts": {"canceled": 0, "errored": 0, "expired": 0, **counts},
        "created_at": "2026-11-26T12:00:00Z",
        "expires_at": "2026-11-27T12:00:00Z",
        "ended_at": "2026-11-26T12:05:00Z" if status == "ended" else None,
        "cancel_initiated_at": None,
        "archived_at": None,
        "results_url": "https://api.anthropic.com/v1/messages/batches/msgbatch_test/results"
        if status == "ended"
        else None,
    }


@pytest.mark.parametrize("replayed", [False, True])
def test_a_batch_is_polled_until_it_ends_waiting_longer_each_time_unless_replayed(replayed):
    statuses = ["in_progress", "in_progress", "in_progress", "ended"]

    async def answer(request: httpx2.Request) -> httpx2.Response:
        extensions = {RECORDED_ELAPSED: 0.1} if replayed else {}
        return httpx2.Response(200, json=batch_json(statuses.pop(0)), extensions=extensions)

    timer = SimulatedTime()
    said: list[str] = []
    batch = asyncio.run(wait_for_batch(scripted_async(answer), "msgbatch_test", sleep=timer.asleep, say=said.append))
    assert batch.processing_status == "ended" and len(said) == 4
    assert timer.waits == ([] if replayed else [1.0, 2.0, 4.0])


def test_the_ticket_requests_ask_for_one_word_without_thinking():
    request = tickets.request_for(tickets.TICKETS[0])
    assert request["thinking"] == {"type": "between_tools"} and request["system"] == tickets.SYSTEM
    assert "thinking" not in tickets.request_for(tickets.TICKETS[0], model="claude-haiku-4-5"), (
        "no thinking to turn off"
    )
    assert len(set(tickets.TICKETS)) == len(tickets.TICKETS) >= 20


def test_after_a_permanent_error_map_bounded_sends_no_more_calls():
    import anthropic

    started = 0

    async def answer(request: httpx2.Request) -> httpx2.Response:
        nonlocal started
        started += 1
        await asyncio.sleep(0)  # the other calls in flight get their turn before this one is answered
        body = {"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}}
        return httpx2.Response(400, json=body)

    client = scripted_async(answer)

    async def call(item: int) -> None:
        await client.messages.create(model="m", max_tokens=5, messages=[{"role": "user", "content": str(item)}])

    async def run_then_look() -> set[asyncio.Task[object]]:
        with pytest.raises(anthropic.BadRequestError):
            await map_bounded(call, list(range(24)), limit=5)
        return asyncio.all_tasks() - {asyncio.current_task()}

    # A notebook's loop keeps running after the error: no task of the map may be left to send more.
    left = asyncio.run(run_then_look())
    assert not left, f"{len(left)} tasks of map_bounded were left running after the first 400"
    assert started <= 5, f"{started} calls were sent after the first 400"
