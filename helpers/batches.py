"""The Message Batches API, for work nobody waits on: send many requests at once, collect later.

    batch = await create_batch(client, [{"custom_id": ..., "params": {...}}, ...])   # None if not served
    batch = await wait_for_batch(client, batch.id)            # polls until processing_status is "ended"
    async for entry in await client.messages.batches.results(batch.id): ...

A batch costs half the price of the same calls (helpers.costs, batch=True) and usually ends within
the hour, at most 24 hours later; its results come in any order, matched to the requests by
custom_id.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import anthropic
from anthropic.types.messages import MessageBatch

from .retries import is_not_served
from .transport import RECORDED_ELAPSED

Say = Callable[[str], object]


async def create_batch(
    client: anthropic.AsyncAnthropic, requests: list[dict], *, say: Say = print
) -> MessageBatch | None:
    """The batch created from `requests`; or None, after one line saying so, when the server has no Message
    Batches API: it answers 404, 405, 501 or a 500 in its own words (helpers.retries.is_not_served), or a 200
    that is not a batch (a proxy that answers every request with a Message). Other errors are raised."""
    try:
        batch = await client.messages.batches.create(requests=requests)
    except anthropic.APIStatusError as error:
        if not is_not_served(error):
            raise
        say(
            f"This server has no Message Batches API (it answered {error.status_code}), "
            "so the batch steps have nothing to show."
        )
        return None
    if getattr(batch, "type", None) != "message_batch":
        kind = getattr(batch, "type", None) or "no type"
        say(f"This server answered the batch with a {kind!r}, not a message_batch: it has no Message Batches API.")
        return None
    return batch


async def wait_for_batch(
    client: anthropic.AsyncAnthropic,
    batch_id: str,
    *,
    first: float = 1.0,
    most: float = 60.0,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    say: Say | None = print,
) -> MessageBatch:
    """Retrieve the batch until its processing has ended: at once, then after `first` seconds, then
    twice as long each time, up to `most`. A replayed answer is not waited for: the recording already
    says what came next."""
    wait = first
    polls = 0
    while True:
        raw = await client.messages.batches.with_raw_response.retrieve(batch_id)
        batch = await raw.parse()
        polls += 1
        counts = batch.request_counts
        if say is not None:
            say(
                f"poll {polls}: {batch.processing_status} ({counts.processing} processing, "
                f"{counts.succeeded} succeeded, {counts.errored} errored)"
            )
        if batch.processing_status == "ended":
            return batch
        if RECORDED_ELAPSED not in raw.http_response.extensions:  # a live answer: give the batch time
            await sleep(wait)
        wait = min(2 * wait, most)
