# %% [markdown]
# # 07 · Many calls
#
# Real work rarely stops at one call: sorting a day's support tickets, grading a class's answers,
# testing an agent on fifty tasks. One call at a time is slow; all of them at once runs into the rate
# limits of lesson 05. This lesson sends two dozen small, independent requests three ways: one after
# the other, many at once with a bound, and as a **Message Batch** that the provider runs for you at
# half the price.
#
# **Learning goals**
#
# - Send many independent calls concurrently with the async client, never more than a set number at once
# - Work out the speed-up from the time each call took
# - Read the rate-limit headers, and slow down before the server has to say 429
# - Show progress on a long run
# - Send the same work as a Message Batch: create it, poll it, read its results, at the batch price
# - Choose between one at a time, concurrent calls and a batch
#
# The replies stored with the workbook are hand-written samples (the banner below says so).

# %% [markdown]
# For many network calls at once, Python's usual tool is `asyncio` (threads work too): while one call
# waits for the network, others can be sent. The SDK has an async client, `anthropic.AsyncAnthropic`,
# with the same methods, each awaited; `get_async_client()` gives one over the same recordings as
# before. The SDK retries as usual (lesson 05); where this lesson retries by itself, it uses a copy
# of the client with the SDK's retries off, so that the two never stack.

# %%
import asyncio
import time

from helpers import MODEL, get_async_client, tickets

client = get_async_client("07_many_calls")
own_retries = client.with_options(max_retries=0)  # for the runs that retry by themselves

# %% [markdown]
# ## The task: sort the tickets
#
# The bookshop of lesson 06 has a pile of support tickets. Each goes to the model on its own, with a
# system prompt that asks for one word: its category. Small requests that do not depend on each other
# are exactly the work that many calls at once can speed up.
#
# Each request (`tickets.request_for`) allows 20 output tokens, room for that word. On a model that
# thinks by default it also sends `thinking={"type": "between_tools"}` (lesson 06), which turns off the
# thinking before the answer: low effort alone only makes skipping it likely, and a reply that thought
# first would spend its 20 tokens before naming a category.
# <!-- source: https://platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5 (between_tools: no thinking before the first tool call or answer); anthropic/types/thinking_config_between_tools_param.py -->

# %%
print(f"{len(tickets.TICKETS)} tickets, for example:")
for ticket in tickets.TICKETS[:3]:
    print("  ", ticket)
print("categories:", ", ".join(tickets.CATEGORIES))
request = tickets.request_for(tickets.TICKETS[0])
print("each request also sends:", {key: request[key] for key in ("max_tokens", "thinking") if key in request})

# %% [markdown]
# Three words of asyncio first. `async def` makes a *coroutine function*: calling `classify(ticket)`
# below only creates a coroutine; `await` runs it, and while it waits for the network, other
# coroutines run. `await` works inside an `async def`, and, in Jupyter only, at the top of a cell
# (JupyterLab runs an event loop for you); a script wraps its code in `async def main()` and calls
# `asyncio.run(main())`, as `scripts/batch_run.py` does.
#
# One call, by itself. `with_raw_response.create(...)` returns the HTTP response, headers included;
# `await raw.parse()` turns it into the usual `Message`. `reply_seconds` says how long the reply took:
# on a replay, the time it took when it was recorded; live, the time measured here.

# %%
import anthropic

from helpers.concurrency import reply_seconds


async def classify(ticket, client=client):
    """The category of one ticket, the seconds its reply took, and the reply's headers."""
    started = time.monotonic()
    raw = await client.messages.with_raw_response.create(**tickets.request_for(ticket))
    reply = await raw.parse()
    seconds = reply_seconds(raw.http_response, time.monotonic() - started)
    return tickets.label_of(reply), seconds, raw.headers


category, seconds, headers = await classify(tickets.TICKETS[0])
print(f"{category!r}, in {seconds:.2f} s")

# %% [markdown]
# ## One at a time
#
# The plain loop: each call starts when the one before it has ended, so the times add up.

# %%
one_by_one = []
for ticket in tickets.TICKETS:
    one_by_one.append(await classify(ticket))

durations = [seconds for _, seconds, _ in one_by_one]
print(f"{len(one_by_one)} calls; their replies took {sum(durations):.1f} s in all, one after the other")

# %% [markdown]
# ## Rate limits
#
# A provider limits how many requests, and how many tokens, an organisation may send per minute; the
# limits grow with its usage tier (lesson 05: the tier an organisation reaches as it buys credit).
# Every reply says where you stand, in headers named `anthropic-ratelimit-...` (lesson 05, in a
# going-further section): the limit, what is left, and when the budget is full again, as an RFC 3339
# time (such as `2026-12-07T05:30:00Z`, `Z` for UTC). The API refills it continuously, so what is left climbs back as time passes. The recordings keep
# these headers as the server sent them (for these samples, the workbook's stand-in server). A loop
# of short calls, like the one above, can already pass a low tier's limit. The last reply of the loop:
# <!-- source: https://platform.claude.com/docs/en/api/rate-limits (response headers, tiers) -->

# %%
from helpers.concurrency import rate_limits
from helpers.notices import say_if_no_rate_limits

category, seconds, headers = one_by_one[-1]
limits = rate_limits(headers)
for name in sorted(limits):
    if name.startswith("requests-"):
        print(f"anthropic-ratelimit-{name}: {limits[name]}")
say_if_no_rate_limits(limits, so="there is no budget to read (a local one sends none)")

# %% [markdown]
# ## Many at once, with a bound
#
# `asyncio.gather(a, b, c)` starts coroutines together and waits until all have finished; it returns
# their results in the order it was given them, whatever order they finish in. Unbounded, two dozen
# calls would leave at the same moment; two thousand would too, and many would come back as 429s. An
# `asyncio.Semaphore(limit)` lets only `limit` coroutines into an `async with` block at a time; the
# others wait at its door. A toy, with no API in it: five jobs of 0.05 s each, two at a time.

# %%
gate = asyncio.Semaphore(2)


async def job(number):
    async with gate:  # at most two jobs inside at once
        await asyncio.sleep(0.05)  # never time.sleep: it would stop every coroutine, not just this one
        return number * 10


print(await asyncio.gather(*(job(n) for n in range(5))))

# %% [markdown]
# The results come in the order of the jobs. Five jobs, two at a time, take three rounds of 0.05 s.
# `time.sleep` would block the one thread the event loop runs on, and every call in flight would stop
# with it.
#
# `map_bounded` from `helpers/concurrency.py` puts the two together for API calls, retries transient
# errors, and returns the results in the order of the tickets (exercise 1 asks you to write it; try
# it before you read that file). A progress bar fills as calls finish (in stored outputs, one line at
# the end).

# %%
from helpers.concurrency import Progress, map_bounded

LIMIT = 6  # calls in flight at once
progress = Progress(len(tickets.TICKETS), "tickets")


async def classify_with_progress(ticket):
    result = await classify(ticket, client=own_retries)
    progress.advance()
    return result


at_once = await map_bounded(classify_with_progress, tickets.TICKETS, limit=LIMIT)
progress.close()
print(tickets.same_categories([c for c, _, _ in at_once], [c for c, _, _ in one_by_one]))

# %% [markdown]
# ## A limiter that reads the headers
#
# A client that reads the rate-limit headers can slow down *before* the server refuses.
# `RateLimiter` goes at full speed while plenty is left. When less than `low_water` of the requests
# are left, it spaces the calls by the time until the budget is full divided by the requests left.
# For a budget refilled continuously, that is slower than the refill only while fewer than half the
# requests are left: then what is left climbs back; above half, it still falls, only more slowly,
# until it is below half. After a 429 it holds *every* call for what the `retry-after` header asks,
# since all the calls share one limit. It reads the requests headers only; the token headers work the
# same way. It prints a line only when it changes what it does (a hold after a 429, a slower pace, a
# pace changed by half or more, full speed again), not at every wait; the cell's last line counts the
# waits.
#
# Here it sorts the tickets again, with two 429s injected as in lesson 05 (`with_faults`), and set
# to slow down early, once a fifth of the budget is gone, as suits a class whose students all share
# one organisation's limits. A 429 is the limiter's to wait out: the call then goes again.
# So that its decisions can be read one by one, the calls go one at a time (`limit=1`); in a
# concurrent run it works the same, its lines in the order the replies come back. The budget refills
# meanwhile, so the count of what is left can rise. With no key, every reply is replayed, so the
# waits are simulated and the cell takes no time; with a key they are real.

# %%
import anthropic

from helpers.client import replays_only
from helpers.concurrency import RateLimiter
from helpers.faults import with_faults
from helpers.retries import SimulatedTime

timer = SimulatedTime()
sleep, clock = (timer.asleep, timer.clock) if replays_only(client) else (asyncio.sleep, time.monotonic)
limiter = RateLimiter(low_water=0.8, sleep=sleep, clock=clock)
flaky = with_faults(own_retries, ["429", "429"], retry_after=2.0)


async def classify_politely(ticket):
    while True:
        await limiter.wait()
        try:
            category, _, headers = await classify(ticket, client=flaky)
        except anthropic.RateLimitError as err:
            limiter.rate_limited(err)  # every call now waits what it asks; then this one goes again
            continue
        limiter.read(headers)
        return category


politely = await map_bounded(classify_politely, tickets.TICKETS, limit=1, sleep=sleep)
simulated = " (simulated)" if replays_only(client) else ""
print(
    f"{len(limiter.waits)} waits in all, {sum(limiter.waits):.1f} s{simulated}; "
    "it printed a line only when it changed what it does"
)

# %% [markdown]
# ## How much faster?
#
# From the time each call took, `schedule` works out when each would start and end: one at a time,
# or with `LIMIT` places, each call taking the next free place. This is a plan, not a film of the runs
# above: the stored replies replay instantly unless you ask for the recorded pace, so the plan comes
# from the times they were recorded with, and it leaves the limiter's waits out.

# %%
from helpers.concurrency import schedule, total_time
from helpers.plots import plot_timelines

plans = {"one at a time": schedule(durations, 1), f"at most {LIMIT} at once": schedule(durations, LIMIT)}
for label, plan in plans.items():
    print(f"{label:>18}: {total_time(plan):5.1f} s")
print(f"speed-up: {total_time(plans['one at a time']) / total_time(plans[f'at most {LIMIT} at once']):.2f} times")
figure = plot_timelines(plans, title=f"{len(durations)} calls, one at a time and {LIMIT} at once")

# %% [markdown]
# The speed-up can never pass `LIMIT`, and it falls short of it when the calls take different
# times: the last ones leave places empty. Put `WORKBOOK_STREAM_SPEED=1` in `.env` (then restart
# the kernel) and the replay waits as long as each recorded call took; the next cell then measures
# the first tickets both ways with the clock (with a key, it measures the API). At the default pace,
# replays are instant, and it says so.

# %%
from helpers import read_settings

if replays_only(client) and read_settings().stream_speed == 0:
    print("Replays are instant at WORKBOOK_STREAM_SPEED=0, so there is nothing to measure: set it to 1.")
else:
    first = tickets.TICKETS[:LIMIT]
    started = time.monotonic()
    await map_bounded(lambda ticket: classify(ticket, client=own_retries), first, limit=1)
    sequential = time.monotonic() - started
    started = time.monotonic()
    await map_bounded(lambda ticket: classify(ticket, client=own_retries), first, limit=LIMIT)
    concurrent = time.monotonic() - started
    print(f"the first {LIMIT} tickets: {sequential:.2f} s one at a time, {concurrent:.2f} s at once (measured now)")

# %% [markdown]
# ## A Message Batch
#
# When nobody is waiting for the answers (an evaluation, last night's tickets), there is a third way:
# hand the whole list to the provider as one **Message Batch**. Each request gets a `custom_id` of
# your choosing and its usual parameters. The provider runs them on its own schedule, usually within
# the hour and at most within 24 hours, and bills every token at half price.
# <!-- source: anthropic/resources/messages/batches.py; https://platform.claude.com/docs/en/build-with-claude/batch-processing (50% price, most batches end within 1 hour, 24-hour limit, results in any order) -->

# %%
from helpers.batches import create_batch

batch_requests = [
    {"custom_id": f"ticket-{number:02d}", "params": tickets.request_for(ticket)}
    for number, ticket in enumerate(tickets.TICKETS)
]
batch = await create_batch(client, batch_requests)  # None, after a line saying why, if the server has none
if batch is not None:
    print(batch.id, batch.processing_status, f"({batch.request_counts.processing} requests processing)")

# %% [markdown]
# Then you wait, and ask now and then whether it has ended: `retrieve` returns the batch with its
# `processing_status` (`in_progress`, `canceling` or `ended`). `wait_for_batch` asks at once, then
# after one second, then after twice as long each time, up to a minute. (A recorded batch replays its
# polls at once.) With a key, a real batch takes minutes or more: interrupt the cell if you like, and
# later run `batch = await wait_for_batch(client, "msgbatch_...")` with the id printed above, without
# running the cell that creates it again (that would start a second batch). Results can be
# downloaded for 29 days after the batch was created.

# %%
from helpers.batches import wait_for_batch

if batch is not None:
    batch = await wait_for_batch(client, batch.id)

# %% [markdown]
# The results are a stream of one line per request, in any order: match them to your requests by
# `custom_id`, never by position. Each says whether its request `succeeded`, `errored`, was
# `canceled` or `expired`.

# %%
batched, usages = {}, []
if batch is not None:
    async for entry in await client.messages.batches.results(batch.id):
        if entry.result.type == "succeeded":
            batched[entry.custom_id] = tickets.label_of(entry.result.message)
            usages.append(entry.result.message.usage)
        else:
            print(entry.custom_id, entry.result.type)
    in_order = [batched.get(request["custom_id"]) for request in batch_requests]
    print(
        f"{len(batched)} results;",
        tickets.same_categories(in_order, [c for c, _, _ in one_by_one], what="as the calls"),
    )

# %% [markdown]
# ## What each way costs
#
# The same tokens, priced from `helpers/models.py` by `helpers/costs.py`: calls at the list price, the batch at
# half of it.

# %%
from helpers import cost_usd, price_for

price_for(MODEL)  # says so when the model has no price, and which model's prices stand in
one_call_each = sum(cost_usd(usage, MODEL) or 0.0 for usage in usages)
as_a_batch = sum(cost_usd(usage, MODEL, batch=True) or 0.0 for usage in usages)
if usages:
    print(f"{len(usages)} tickets: ${one_call_each:.4f} as calls, ${as_a_batch:.4f} as a batch")

# %% [markdown]
# | | One at a time | Concurrent, bounded | Message Batch |
# |---|---|---|---|
# | How long | the sum of all calls | about the sum divided by the bound | minutes to hours (at most 24 h) |
# | Price | list | list | half |
# | Rate limits | can still pass a low tier's limit when calls are short | yours to respect: bound, back off, read the headers | the batch's own, separate limits |
# | Use it for | a few calls; each depends on the last | someone waiting on many answers | evaluations, reports, last night's tickets: nobody waiting |

# %% [markdown]
# ## Key takeaways
#
# - Independent calls can run concurrently: `AsyncAnthropic` and `asyncio.gather`, with an
#   `asyncio.Semaphore` so that only a set number run at once.
# - The speed-up is bounded by that number and by the slowest calls; work it out from the times the
#   calls take.
# - Wait with `await asyncio.sleep`, never `time.sleep`, which stops every call at once.
# - Every reply carries rate-limit headers: slow down as they fall, and wait what a 429's
#   `retry-after` asks.
# - When nobody waits for the answers, a Message Batch does the work at half the price; match its
#   results by `custom_id`.
#
# ## Exercises
#
# ### Exercise 1 · A bounded map with retries
#
# Complete `map_bounded(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep)`, a coroutine
# function (`async def`):
#
# 1. `await call(item)` for every item, at most `limit` at once (an `asyncio.Semaphore`), all
#    started together (`asyncio.gather`).
# 2. Return the results in the order of `items`.
# 3. Catch `anthropic.APIError` (a timeout is an `APIConnectionError`, not an `APIStatusError`).
#    When the error is transient (`is_transient(err)`), wait and try that item again, up to
#    `max_attempts` calls in all; wait at least what `retry_after_seconds(err)` says, or, when it
#    says `None`, a short backoff such as `0.5 * 2 ** (attempt - 1)` seconds. Re-raise any other
#    error at once. Both functions come from `helpers.retries`: import them first.
# 4. Wait with the `sleep` you are given (`await sleep(seconds)`), never with `time.sleep`.
#
# The check runs your function against a scripted model that counts how many calls are in flight.

# %%
from helpers.checks.lesson07 import check_map_bounded
### BEGIN SOLUTION
from helpers.retries import is_transient, retry_after_seconds
### END SOLUTION


async def map_bounded(call, items, *, limit, max_attempts=3, sleep=asyncio.sleep):
    return None  # STUDENT
    ### BEGIN SOLUTION
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
    ### END SOLUTION


check_map_bounded("map_bounded")

# %% [markdown]
# ## Your progress
#
# How many of this lesson's exercises pass right now, going by the latest run of each check in
# this session. After fixing one, run its check again, then this cell.

# %%
from helpers.checks import progress

progress("07")
