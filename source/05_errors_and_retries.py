# %% [markdown]
# # 05 · Errors and retries
#
# Sooner or later, a call to a model comes back with an error instead of a reply: a shared service
# sometimes has more requests than it can serve, networks drop, and requests can simply be wrong.
# Code that calls a model has to tell the failures that pass with time from those that never will,
# and handle each kind on purpose. This lesson makes every kind of failure happen
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

from helpers import MODEL, get_client, reply_text

client = get_client("05_errors_and_retries", max_retries=0)

REQUEST = {
    "model": MODEL,
    "max_tokens": 200,
    "messages": [{"role": "user", "content": "Give one tip for writing a clear error message, in one sentence."}],
}
print(reply_text(client.messages.create(**REQUEST)))

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
    print("retry-after:", err.response.headers["retry-after"], "(whole seconds, rounded up)")
    print("retry-after-ms:", err.response.headers["retry-after-ms"], "(the same, in milliseconds)")
    print("error type: ", err.body["error"]["type"])
    print("message:    ", err.body["error"]["message"])
    print("request_id: ", err.request_id)

# %% [markdown]
# ## A first retry loop
#
# The simplest fix is to try again. Here is a loop written from scratch: it retries a rate limit
# twice, waiting the same short time before each new try. The injected 429s ask for 0.2 s.

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


flaky = with_faults(client, ["429", "429"], retry_after=0.2)
reply = call_with_simple_retry(lambda: flaky.messages.create(**REQUEST))
print("then:", reply_text(reply)[:60], "...")

# %% [markdown]
# It works for this one case, and has four problems:
#
# 1. **It catches only 429.** A 529, a 500 or a timeout, all transient, escape at once (below).
# 2. **It ignores `retry-after`.** Its fixed 0.2 s happened to match what these 429s asked for. Had
#    the server asked for 5 s, it would have come back too early, and a real server turns away a retry
#    that comes before the time it gave. (The injected faults do not check this: they fail in the
#    order given, however long the client waited.)
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
# - **It retries only transient failures**, as `is_transient(err)` judges them. It follows the SDK's
#   own rule: the server's `x-should-retry` header when it sends one; otherwise 408 (request timeout),
#   409 (conflict), 429, every 5xx (529 included), timeouts and connection errors. It adds one case
#   the SDK cannot retry, an error inside a stream (below). A 400, 401, 403 or 404 is raised at once.
# - **Exponential backoff**: the wait before retry *n* is `base_delay × 2^(n−1)`, so 0.1, 0.2, 0.4,
#   0.8 s... with `base_delay=0.1`, and never more than `max_delay`.
# - **Jitter**: each of those waits is cut by a random fraction (up to half), so clients that failed
#   together spread out when they come back.
# - **`retry-after` wins**: when the server says how long to wait, it waits exactly that.
# - **Two caps**: at most `max_attempts` requests, and at most `max_total` seconds from the first
#   request to giving up. Waiting is only half of that time: a request can hang too. So the function
#   you pass receives the seconds left, and hands them to the call as its `timeout`: no attempt can
#   then run past the budget, and no wait is started that would use it up.
#
# It raises the API's own last error, with a note saying why it stopped, and writes each attempt
# into a `RetryLog`. Small delays keep this lesson quick; for real work the defaults are 0.5 s, 8 s
# and 30 s.

# %%
from helpers.retries import RetryLog, RetryPolicy, call_with_retries

policy = RetryPolicy(max_attempts=5, base_delay=0.1, max_delay=2.0, max_total=10.0)

flaky = with_faults(client, ["429", "529", "timeout"], retry_after=0.3)
log = RetryLog()
reply = call_with_retries(
    lambda timeout: flaky.messages.create(**REQUEST, timeout=timeout), policy=policy, log=log, report=print
)
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
    call_with_retries(lambda timeout: flaky.messages.create(**REQUEST, timeout=timeout), policy=policy, report=print)
except anthropic.BadRequestError as err:
    print("raised:", type(err).__name__)

# %% [markdown]
# And a failure that never stops ends after `max_attempts`, with the last error and a note that says
# what happened. `always="529"` makes every request fail.

# %%
flaky = with_faults(client, [], always="529")
try:
    call_with_retries(lambda timeout: flaky.messages.create(**REQUEST, timeout=timeout), policy=policy, report=print)
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
print(f"one call, three requests, {time.monotonic() - started:.2f} s:", reply_text(reply)[:40], "...")

# %% [markdown]
# Where the time went: before the second request the SDK waited the 0.3 s of the 429's
# `retry-after-ms`; before the third, the 529 carried no such header, so it used its own backoff for
# a second retry, 0.5 s × 2 = 1 s, shortened by its jitter of up to a quarter: 0.75 to 1 s. So the
# call takes between about 1.05 and 1.3 s, a little more or less on each run.

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
# ## An error inside a stream
#
# Lesson 04 warned that a stream can fail *after* it has started. The HTTP status 200 has already
# arrived, so the failure comes as an `error` event in the stream, with an error type in its body,
# such as `overloaded_error`. The SDK raises it in your loop as a plain `anthropic.APIStatusError`
# whose `status_code` is **200**, the status of the response it came in. Its own retries do not
# help here: they end once a response has arrived, so it never retries such an error. The `"midstream"`
# fault makes one: a 200, a `message_start`, then `overloaded_error`.

# %%
from helpers.faults import fault_transport
from helpers.retries import is_transient

flaky = with_faults(sdk_client, ["midstream"])  # the client whose SDK retries are on
try:
    with flaky.messages.stream(**REQUEST) as stream:
        text = "".join(stream.text_stream)
except anthropic.APIStatusError as err:
    print(f"{type(err).__name__}, status {err.status_code}, error type {err.body['error']['type']}")
    print("requests sent:", fault_transport(flaky).requests, "(no SDK retry)")
    print("is_transient:", is_transient(err))

# %% [markdown]
# The status alone would say "success", so `is_transient` also reads the error type in the body.
# `RETRYABLE_ERROR_TYPES` lists the types that mean "try again later": `rate_limit_error`,
# `overloaded_error`, `api_error` (a server fault) and `timeout_error`. A type such as
# `invalid_request_error` stays permanent. To retry a stream, make the whole stream the call that
# `call_with_retries()` repeats:

# %%
def streamed_reply(client, timeout):
    with client.messages.stream(**REQUEST, timeout=timeout) as stream:
        return stream.get_final_message()


flaky = with_faults(client, ["midstream"])
reply = call_with_retries(lambda timeout: streamed_reply(flaky, timeout), policy=policy, report=print)
print("then:", reply_text(reply)[:60], "...")

# %% [markdown]
# A stream that already showed some text before it failed is harder: the retry starts the reply from
# the beginning, so clear what you showed (or tell the reader) before showing the new one.

# %% [markdown]
# ## Timeouts
#
# A timeout says how long the client waits before it gives up. The SDK waits 10 minutes by default;
# the workbook's `get_client()` sets 2 minutes, and 5 seconds to connect. Set it for the client, or
# for one call:
#
# ```python
# client = anthropic.Anthropic(timeout=anthropic.Timeout(60.0, connect=5.0))   # every call
# client.messages.create(..., timeout=20.0)                                     # this call only
# client.with_options(timeout=20.0).messages.create(...)                        # the same
# ```
#
# For a call without streaming the timeout must cover the *whole* reply. For a stream, it applies to
# each wait for the next piece, which is one more reason to stream long replies (lesson 04). A timed
# out request raises `APITimeoutError`, which is a kind of `APIConnectionError`: whether to retry it
# depends on why it was slow. A request too big to finish in time will time out again.
#
# Below, a client with a 20 s timeout gets an injected timeout. The injected one fires at once, so the
# 20 s plays no part: the cell only shows which error a timeout raises, without waiting for one.

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
# - Retry transient failures (429, 5xx including 529, timeouts, connection errors; also 408 and 409,
#   and whatever `x-should-retry` says); raise permanent ones (400, 401, 403, 404) at once, because
#   the same request gets the same answer.
# - An error inside a stream arrives with status 200: read its error type, and retry the whole stream.
# - Wait longer after each failure (exponential backoff), randomise the waits (jitter), obey
#   `retry-after`, and cap each wait and the total time, giving each attempt only the time left.
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
#    and try again. Re-raise any other error at once. (This is a simplified `is_transient`: it leaves
#    out 408 and 409, which the Messages API rarely sends, the `x-should-retry` header, and errors
#    inside a stream, which a call without streaming never meets. It covers every failure the check
#    sends.)
# 3. Make at most `max_attempts` calls in all; when they all failed, re-raise the last error.
# 4. Before retry *n* (1, 2, ...) wait `base_delay * 2 ** (n - 1)` seconds times a random factor
#    of at most 1: between 0.5 and 1 as in `call_with_retries`, or between 0 and 1 ("full jitter");
#    but when the error carries `retry-after`, wait at least that long (`retry_after_seconds(err)`
#    reads it, or returns `None`).
# 5. Wait with the `sleep` you are given, not `time.sleep`: the check passes one that waits no time.
#
# The check runs your function against injected faults: permanent 400, 401 and 404 errors,
# transient failures then success, and 529s that never stop (many times over, to see the waits grow
# and vary).

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
