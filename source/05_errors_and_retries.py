# %% [markdown]
# # 05 · Errors and retries
#
# API calls fail, and more often than you would guess: under load, a busy service turns requests
# away every day. A program that calls a model needs to know which failures will go away if it
# waits, which never will, and what to do about each. This lesson makes every kind of failure happen
# on demand, offline, then builds the code that survives them.
#
# **Learning goals**
#
# - Recognise the ways a call fails, and tell transient failures from permanent ones
# - Make any client fail on demand, to test error handling without waiting for a real outage
# - Retry with exponential backoff and jitter, honour retry-after, and fail fast on permanent errors
# - Choose between the SDK's built-in retries and your own loop, and set timeouts
# - Validate structured output, ask again once with the error, then fail clearly
#
# **Two words first.** A *transient* failure says nothing about your request: the same request may
# well succeed a moment later (the service was busy). A *permanent* failure is about the request
# itself: sending it again gets the same answer, however long you wait.

# %% [markdown]
# The SDK retries some failures by itself (more on that below). To see every failure and every retry
# in this lesson, the client is made with the SDK's retries turned off: `max_retries=0`.

# %%
import time

import anthropic

from helpers import MODEL, get_client

client = get_client("05_errors_and_retries", max_retries=0)

REQUEST = {
    "model": MODEL,
    "max_tokens": 200,
    "messages": [{"role": "user", "content": "Give one tip for writing a clear error message, in one sentence."}],
}
print(client.messages.create(**REQUEST).content[0].text)

# %% [markdown]
# ## How calls fail
#
# | Failure | What the API sends | The SDK raises | Transient? |
# |---|---|---|---|
# | Rate limit | `429`, `rate_limit_error`, and a `retry-after` header: seconds to wait | `RateLimitError` | yes: wait as long as it says |
# | Overloaded | `529`, `overloaded_error`: the service is at capacity for everyone | `OverloadedError` | yes: back off |
# | Server error | `500`, `api_error` (and other 5xx) | `InternalServerError` | yes |
# | Timeout | nothing in time: your client gave up waiting | `APITimeoutError` | usually |
# | Connection error | nothing at all: network down, DNS, refused | `APIConnectionError` | yes |
# | Bad request | `400`, `invalid_request_error`: the request is wrong | `BadRequestError` | **no**: fix the request |
# | Key or permission | `401` / `403` | `AuthenticationError` / `PermissionDeniedError` | **no** |
# | Not found | `404`, often a misspelled model name | `NotFoundError` | **no** |
# | Malformed output | a `200` whose text is not what you asked for | nothing! | maybe: validate, ask again once |
#
# Every error with a status is an `anthropic.APIStatusError`, carrying `status_code`, the response
# (with its headers) and the error body; `APITimeoutError` is a kind of `APIConnectionError`.
# Both are `anthropic.APIError`s.

# %% [markdown]
# ## Failures on demand
#
# Real failures are rare, and never come when you are watching. `with_faults()` from
# `helpers.faults` returns a copy of any client whose next requests fail in the order you give: a
# `"429"`, a `"529"`, a `"timeout"`... built exactly as the API sends them, then passes later
# requests on as usual (to the recordings here, to the API with a key). The SDK cannot tell the
# difference, so what you see is what a real outage would show.

# %%
from helpers.faults import with_faults

for fault in ["429", "529", "500", "timeout", "connection", "400"]:
    flaky = with_faults(client, [fault])
    try:
        flaky.messages.create(**REQUEST)
    except anthropic.APIError as err:
        status = getattr(err, "status_code", "-")
        print(f"{fault:>10}  ->  {type(err).__name__:<22} status {status}")

# %% [markdown]
# A `RateLimitError` up close: the status, the header that says how long to wait, and the body.
# Quote the `request_id` when you ask the provider's support about a failed call.

# %%
try:
    with_faults(client, ["429"]).messages.create(**REQUEST)
except anthropic.RateLimitError as err:
    print("status_code:", err.status_code)
    print("retry-after:", err.response.headers["retry-after"], "(seconds)")
    print("error type: ", err.body["error"]["type"])
    print("message:    ", err.body["error"]["message"])
    print("request_id: ", err.request_id)

# %% [markdown]
# ## A first retry loop
#
# The simplest fix is to try again. Here is a loop written from scratch: it retries a rate limit
# twice, waiting the same short time before each new try.

# %%
def call_with_simple_retry(make_call, tries=3, wait=0.2):
    for attempt in range(1, tries + 1):
        try:
            return make_call()
        except anthropic.RateLimitError:
            if attempt == tries:
                raise
            print(f"attempt {attempt}: rate limited, trying again in {wait} s")
            time.sleep(wait)


flaky = with_faults(client, ["429", "429"])
reply = call_with_simple_retry(lambda: flaky.messages.create(**REQUEST))
print("then:", reply.content[0].text[:60], "...")

# %% [markdown]
# It works for this one case, and has four problems:
#
# 1. **It catches only 429.** A 529, a 500 or a timeout, all transient, escape at once (below).
# 2. **It ignores `retry-after`.** The server said how long to wait; retrying sooner earns another 429.
# 3. **The wait never grows.** If the service is overloaded, hammering it at a fixed rate keeps it
#    overloaded. And thousands of clients that failed at the same moment all come back at the same
#    moment too.
# 4. **Its budget is only a count.** Nothing bounds the total time a caller may be kept waiting.

# %%
flaky = with_faults(client, ["529"])
try:
    call_with_simple_retry(lambda: flaky.messages.create(**REQUEST))
except anthropic.APIError as err:
    print(f"escaped the loop: {type(err).__name__} (status {err.status_code})")

# %% [markdown]
# ## A better loop: backoff, jitter, retry-after, and a budget
#
# `call_with_retries()` in `helpers.retries` fixes all four:
#
# - **It retries only transient failures**: 429, every 5xx (529 included), timeouts and connection
#   errors, by `is_transient(err)`. A 400, 401, 403 or 404 is raised at once.
# - **Exponential backoff**: the wait before retry *n* is `base_delay × 2^(n−1)`, so 0.1, 0.2, 0.4,
#   0.8 s... with `base_delay=0.1`, and never more than `max_delay`.
# - **Jitter**: each of those waits is cut by a random fraction (up to half), so clients that failed
#   together spread out when they come back.
# - **`retry-after` wins**: when the server says how long to wait, it waits exactly that.
# - **Two caps**: at most `max_attempts` requests, and it gives up rather than let the waiting pass
#   `max_total` seconds.
#
# It raises the API's own last error, with a note saying why it stopped, and writes each attempt
# into a `RetryLog`. Small delays keep this lesson quick; for real work the defaults are 0.5 s, 8 s
# and 30 s.

# %%
from helpers.retries import RetryLog, RetryPolicy, call_with_retries

policy = RetryPolicy(max_attempts=5, base_delay=0.1, max_delay=2.0, max_total=10.0)

flaky = with_faults(client, ["429", "529", "timeout"], retry_after=0.3)
log = RetryLog()
reply = call_with_retries(lambda: flaky.messages.create(**REQUEST), policy=policy, log=log, report=print)
print(log.outcome)

# %% [markdown]
# The timeline of that call: each row is an attempt, the dot is when it was sent, the grey bar the
# wait that followed. The first wait is the one the 429 asked for; the next ones grow.

# %%
from helpers.plots import plot_retry_timeline

figure = plot_retry_timeline(log, title="429, then 529, then a timeout, then success")

# %% [markdown]
# A permanent error is not retried: one request, no wait.

# %%
flaky = with_faults(client, ["400"])
try:
    call_with_retries(lambda: flaky.messages.create(**REQUEST), policy=policy, report=print)
except anthropic.BadRequestError as err:
    print("raised:", type(err).__name__)

# %% [markdown]
# And a failure that never stops ends after `max_attempts`, with the last error and a note that says
# what happened. `always="529"` makes every request fail.

# %%
flaky = with_faults(client, [], always="529")
try:
    call_with_retries(lambda: flaky.messages.create(**REQUEST), policy=policy, report=print)
except anthropic.OverloadedError as err:
    print("raised:", type(err).__name__)
    print("note:  ", err.__notes__[-1])

# %% [markdown]
# ## The SDK's own retries
#
# You may not need a loop of your own: the SDK already has one. With `max_retries=2` (its default):
#
# - it retries 408, 409, 429 and every 5xx (529 too), timeouts and connection errors, and raises
#   every other error at once;
# - it waits 0.5 s before the first retry, doubling each time up to 8 s, cut by up to a quarter at
#   random (jitter);
# - it obeys `retry-after` (and the more precise `retry-after-ms`), and a server's `x-should-retry`
#   header when there is one.
#
# The retries happen inside one `create()` call, so you never see them. `announce=print` makes the
# injected failures say when each request arrives:

# %%
sdk_client = get_client("05_errors_and_retries", max_retries=2, quiet=True)
flaky = with_faults(sdk_client, ["429", "529"], retry_after=0.3, announce=print)

started = time.monotonic()
reply = flaky.messages.create(**REQUEST)
print(f"one call, three requests, {time.monotonic() - started:.2f} s:", reply.content[0].text[:40], "...")

# %% [markdown]
# `client.with_options(max_retries=5)` changes it for some calls only. Which to use?
#
# | Use the SDK's retries when... | Write your own loop when... |
# |---|---|
# | you want sensible behaviour with no code | you need to log or show each attempt (as here) |
# | a few retries over a few seconds are enough | you need a total time budget or a deadline |
# | | you retry things the SDK cannot see, such as malformed output |
# | | many calls share one rate limit and must back off together |
#
# Never stack them: a loop of 5 attempts around a client with `max_retries=2` can send 15 requests.
# Writing your own means `max_retries=0` on the client.

# %% [markdown]
# ## Timeouts
#
# A timeout says how long the client waits before it gives up. The SDK waits 10 minutes by default;
# the workbook's `get_client()` sets 2 minutes, and 5 seconds to connect. Set it for the client, or
# for one call:
#
# ```python
# client = anthropic.Anthropic(timeout=httpx2.Timeout(60.0, connect=5.0))   # every call
# client.messages.create(..., timeout=20.0)                                 # this call only
# client.with_options(timeout=20.0).messages.create(...)                    # the same
# ```
#
# For a call without streaming the timeout must cover the *whole* reply. For a stream, it applies to
# each wait for the next piece, which is one more reason to stream long replies (lesson 04). A timed
# out request raises `APITimeoutError`, which is a kind of `APIConnectionError`: whether to retry it
# depends on why it was slow. A request too big to finish in time will time out again.

# %%
quick = client.with_options(timeout=20.0)
try:
    with_faults(quick, ["timeout"]).messages.create(**REQUEST)
except anthropic.APITimeoutError as err:
    print(type(err).__name__, "| is an APIConnectionError:", isinstance(err, anthropic.APIConnectionError))

# %% [markdown]
# ## Malformed output
#
# A call can succeed (status 200) and still fail you: you asked for JSON and got prose, a Markdown
# code fence around the JSON, or an object with a key missing. No exception tells you so. The fix
# has three steps: *validate* the reply before using it; if it is wrong, *ask again once*, telling
# the model exactly what was wrong; if that fails too, *fail clearly*.
#
# First the validation: parse the JSON and check the keys we need, with the error message saying
# what is wrong.

# %%
import json

JSON_SYSTEM = "Reply with one JSON object and nothing else."
PROJECT_PROMPT = (
    'Suggest a first Python project for a beginner, as JSON with the keys "title", "summary" and '
    '"skills" (a list of strings).'
)
REQUIRED_KEYS = {"title": str, "summary": str, "skills": list}


def parse_project(text):
    """The reply as a dict with every required key, or ValueError saying what is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"it is not valid JSON ({err})") from None
    if not isinstance(data, dict):
        raise ValueError("it is JSON, but not an object")
    for key, kind in REQUIRED_KEYS.items():
        if not isinstance(data.get(key), kind):
            raise ValueError(f'the key "{key}" is missing or is not a {kind.__name__}')
    return data


# %% [markdown]
# Then the call: ask, validate, and on failure ask once more with the problem in a follow-up user
# turn. A reply cut off by `max_tokens` is not worth re-asking: the same budget would cut it again,
# so that fails at once. (A failure of this kind is permanent, like a 400.)

# %%
class BadOutputError(Exception):
    """The model's reply could not be used, even after asking again."""


def ask_for_json(client, prompt, max_tokens=300):
    messages = [{"role": "user", "content": prompt}]
    for attempt in (1, 2):
        reply = client.messages.create(model=MODEL, max_tokens=max_tokens, system=JSON_SYSTEM, messages=messages)
        text = "".join(block.text for block in reply.content if block.type == "text")
        if reply.stop_reason == "max_tokens":
            raise BadOutputError(f"the reply was cut off at max_tokens={max_tokens}; raise max_tokens and try again")
        try:
            return parse_project(text)
        except ValueError as err:
            problem = str(err)
            print(f"reply {attempt} could not be used: {problem}")
        messages += [
            {"role": "assistant", "content": text},
            {
                "role": "user",
                "content": f"That reply could not be used: {problem}. "
                "Answer again with only the JSON object: no code fences, no other text.",
            },
        ]
    raise BadOutputError(f"no usable JSON after {attempt} replies; the last problem: {problem}")


project = ask_for_json(client, PROJECT_PROMPT)
print(project["title"], "-", ", ".join(project["skills"]))

# %% [markdown]
# The first reply came wrapped in a Markdown code fence (a common habit of models, even when told
# not to), so `json.loads` rejected it; the second, asked with the error, parsed. With too small a
# budget the reply is cut off, and the function fails with a message that says what to change:

# %%
try:
    ask_for_json(client, PROJECT_PROMPT, max_tokens=40)
except BadOutputError as err:
    print("failed clearly:", err)

# %% [markdown]
# ## Key takeaways
#
# - Retry transient failures (429, 5xx including 529, timeouts, connection errors); raise permanent
#   ones (400, 401, 403, 404) at once, because the same request gets the same answer.
# - Wait longer after each failure (exponential backoff), randomise the waits (jitter), obey
#   `retry-after`, and cap both each wait and the total.
# - The SDK retries twice by default with the same ideas; write your own loop only when you need
#   more, and then set `max_retries=0`.
# - A 200 is not a success until the output is validated: ask again once with the error, then fail
#   clearly.
# - Make failures happen on purpose (`with_faults`) to test the code that handles them.
#
# ## Exercises
#
# ### Exercise 1 · Write the retry function
#
# Complete `retry_call(make_call, *, sleep, max_attempts, base_delay)`, where `make_call()` makes
# one API call:
#
# 1. Call `make_call()` and return what it returns.
# 2. If it raises a **transient** error (`anthropic.RateLimitError`, an `anthropic.APIStatusError`
#    with `status_code >= 500`, or an `anthropic.APIConnectionError`, which includes timeouts), wait
#    and try again. Re-raise any other error at once.
# 3. Make at most `max_attempts` calls in all; when they all failed, re-raise the last error.
# 4. Before retry *n* (1, 2, ...) wait `base_delay * 2 ** (n - 1)` seconds times a random factor
#    between 0.5 and 1; but when the error carries `retry-after`, wait at least that long
#    (`retry_after_seconds(err)` reads it, or returns `None`).
# 5. Wait with the `sleep` you are given, not `time.sleep`: the check passes one that waits no time.
#
# The check runs your function against injected faults: transient failures then success, a
# permanent 400, and 529s that never stop.

# %%
### BEGIN SOLUTION
import random

### END SOLUTION
from helpers.checks.lesson05 import check_retry
### BEGIN SOLUTION
from helpers.retries import retry_after_seconds
### END SOLUTION


def retry_call(make_call, *, sleep=time.sleep, max_attempts=4, base_delay=0.5):
    # Import what you use (random, helpers.retries.retry_after_seconds), then write the loop:  # STUDENT
    # try, classify the error, wait, try again.  # STUDENT
    return None  # STUDENT
    ### BEGIN SOLUTION
    for attempt in range(1, max_attempts + 1):
        try:
            return make_call()
        except anthropic.APIError as err:
            transient = isinstance(err, anthropic.RateLimitError | anthropic.APIConnectionError) or (
                isinstance(err, anthropic.APIStatusError) and err.status_code >= 500
            )
            if not transient or attempt == max_attempts:
                raise
            wait = base_delay * 2 ** (attempt - 1) * random.uniform(0.5, 1)
            asked = retry_after_seconds(err)
            if asked is not None:
                wait = max(wait, asked)
            sleep(wait)
    ### END SOLUTION


check_retry(retry_call)
