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
# - Tell a 429 that passes with time from one that never will
# - Retry with exponential backoff and jitter, honour retry-after, and fail fast on permanent errors
# - Choose between the SDK's built-in retries and your own loop, and set timeouts
# - Validate structured output and tool calls, ask again once with the error, then fail clearly
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
# | Billing | `402`, `billing_error`: the account's credit has run out | `PaymentRequiredError` | **no**: add credit |
# | Not found | `404`, often a misspelled model name | `NotFoundError` | **no** |
# | Request too large | `413`, `request_too_large`: more bytes than an endpoint takes (32 MB for Messages) | `ContentTooLargeError` | **no**: send less |
# | Malformed output | a `200` whose text is not what you asked for | nothing! | maybe: validate, ask again once |
# <!-- source: https://platform.claude.com/docs/en/api/errors (402 billing_error, 413 request_too_large, request size limits); anthropic/_exceptions.py (PaymentRequiredError, ContentTooLargeError) -->
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
# A `RateLimitError` up close: the status, the body, and `retry-after`, the documented header that
# says how many seconds to wait (the SDK also reads a more precise `retry-after-ms` when a server
# sends one). Quote the `request_id` when you ask the provider's support about a failed call.
# <!-- source: https://platform.claude.com/docs/en/api/rate-limits (retry-after); anthropic/_base_client.py (_parse_retry_after_header reads retry-after-ms first) -->

# %%
try:
    with_faults(client, ["429"]).messages.create(**REQUEST)
except anthropic.RateLimitError as err:
    print("status_code:", err.status_code)
    print("retry-after:", err.response.headers["retry-after"], "(whole seconds, rounded up)")
    print("retry-after-ms:", err.response.headers["retry-after-ms"], "(the SDK reads this first, when sent)")
    print("error type: ", err.body["error"]["type"])
    print("message:    ", err.body["error"]["message"])
    print("request_id: ", err.request_id)

# %% [markdown]
# ## Not every 429 passes with time
#
# **The lecture says** a 429 means wait and retry; **today** most 429s clear once you wait as long as
# the server asks, but some never do:
#
# - `anthropic.EnforcedSpendLimitReachedError`: the organisation spent the most its usage *tier*
#   allows in a month. The API puts each organisation in a tier, which sets its rate limits and its
#   monthly spend limit; an organisation moves up a tier as its total credit purchases pass the next
#   tier's threshold;
# - `anthropic.ContractSpendLimitReachedError`: it reached the spend limit of its contract.
#
# Both are kinds of `RateLimitError`, so `except anthropic.RateLimitError` catches them too, and a
# loop that retries every 429 waits in vain. Tell them apart by `err.error_code`: a stable code that
# names the cause, from the body's `error.details.error_code` (`None` when there is none). Branch on
# it, never on the wording of the message. The header `x-should-retry: false` says the same for any
# error: the server itself tells you that retrying cannot help, and the SDK's own retries obey it.
# But the SDK's retries go by the status and `x-should-retry` alone, so without that header they
# retry a spent limit like any 429; `call_with_retries`, below, reads `error_code` and stops at once.
# <!-- source: https://platform.claude.com/docs/en/api/rate-limits (usage tiers: spend and rate limits, advanced by credit purchases); anthropic/_exceptions.py (APIStatusError.error_code); anthropic/types/shared/enforced_spend_limit_reached_error.py, contract_spend_limit_reached_error.py; anthropic/_error_classes.py (make_status_error: class from status and error_code); anthropic/_base_client.py (_should_retry reads x-should-retry) -->

# %%
NEVER_CLEARS = {"enforced_spend_limit_reached", "contract_spend_limit_reached"}


def waiting_helps(err: anthropic.APIStatusError) -> bool:
    """False when the server, or the error's code, says that a retry cannot succeed."""
    if err.response.headers.get("x-should-retry") == "false":
        return False
    return err.error_code not in NEVER_CLEARS


caught = []
for fault in ("429", "spend-limit"):  # an ordinary rate limit, then a spent monthly limit
    try:
        with_faults(client, [fault]).messages.create(**REQUEST)
    except anthropic.RateLimitError as err:
        caught.append(err)
        print(f"{type(err).__name__:<31} error_code={err.error_code!r:<32} waiting helps: {waiting_helps(err)}")

# %% [markdown]
# ### Going further: the rate-limit headers
#
# Replies from the API, successes and 429s alike, say where you stand in headers named
# `anthropic-ratelimit-<kind>-<part>`: for requests, and for tokens (input, output, and both
# together), the limit, what remains, and when the budget is full again. That last one is an
# *RFC 3339* time, a standard way to write a date and time, such as `2026-12-07T05:30:00Z` (the `Z`
# means UTC). The API refills the budget continuously, rather than all at once each minute.
#
# The injected 429 carries them all, as the API would; `with_raw_response` gives you a successful
# reply's headers along with the reply. The recordings keep these headers, so a replayed reply shows
# the limits it was recorded with (for the samples, the stand-in server's, sized like a Tier 1
# organisation's); with a key you see your own.
# <!-- source: https://platform.claude.com/docs/en/api/rate-limits (response headers; token bucket; retry-after in seconds); https://docs.aws.amazon.com/claude-platform/latest/userguide/rate-limits.html (the same header names); helpers/wire.py (rate_limit_headers); helpers/exchanges.py (is_kept_header) -->

# %%
raw = client.messages.with_raw_response.create(**REQUEST)  # a successful reply, with its headers
reply = raw.parse()  # the Message itself, as create() returns it
for label, headers in (("the injected 429", caught[0].response.headers), ("this reply", raw.headers)):
    found = {name: value for name, value in headers.items() if name.startswith("anthropic-ratelimit-")}
    print(f"{label}: {len(found)} rate-limit headers")
    for name, value in found.items():
        shown = "(a time, such as 2026-01-31T12:00:00Z)" if name.endswith("-reset") else value  # differs each run
        print(f"  {name:<44} {shown}")

# %% [markdown]
# ## The lecture's retry loop
#
# The lecture's `call_with_retry` retries two failures, a rate limit (429) and an overloaded service
# (529): five tries, with a wait of 1, 2, 4, 8, then 16 seconds after each failed one. It re-raises
# any other error at once, and when all five fail it raises a plain `Exception`. Here is a loop that
# behaves the same, written so that its waits can be watched: it takes the call to make, and the
# function to `sleep` with.

# %%
def lecture_style_retry(make_call, *, sleep=time.sleep, tries=5):
    """Like the lecture's loop: retry 429 and 529, waiting 2**n seconds; re-raise the rest; then give up."""
    for attempt in range(tries):
        try:
            return make_call()
        except anthropic.APIStatusError as err:
            if err.status_code not in (429, 529):
                raise
            sleep(2**attempt)
    raise Exception(f"still failing after {tries} tries")


waits = []  # passed as `sleep`: it writes each wait down instead of waiting, so the cell runs at once
flaky = with_faults(client, ["429", "529", "429"])
reply = lecture_style_retry(lambda: flaky.messages.create(**REQUEST), sleep=waits.append)
print(f"it would have waited {waits} s, {sum(waits)} s in all; then:", reply_text(reply)[:40], "...")

# %% [markdown]
# For a 429 and a 529 it does its job. Now the failures it was not written for, and one that never
# stops. The last row uses a client with the SDK's own retries left on (`max_retries=2`, the
# default); this lesson's `client` has them off.

# %%
from helpers.faults import fault_transport


def run_lecture_loop(faults=(), *, always=None, base=client):
    """The lecture-style loop through injected faults: the error it raised, its waits, the requests sent."""
    waits = []
    flaky = with_faults(base, list(faults), always=always, retry_after=0.001)  # the SDK's retries wait 1 ms
    try:
        lecture_style_retry(lambda: flaky.messages.create(**REQUEST), sleep=waits.append)
    except Exception as err:
        return err, waits, fault_transport(flaky).requests
    return None, waits, fault_transport(flaky).requests


sdk_retrying = get_client("05_errors_and_retries", quiet=True)  # max_retries=2, the SDK's default
cases = {
    "a timeout": run_lecture_loop(["timeout"]),
    "a dropped connection": run_lecture_loop(["connection"]),
    "529 for ever": run_lecture_loop(always="529"),
    "429 for ever, SDK retries on": run_lecture_loop(always="429", base=sdk_retrying),
}
print(f"{'case':<30}{'raised':<22}{'waits (s)':<20}requests sent")
for case, (err, waits, requests) in cases.items():
    print(f"{case:<30}{type(err).__name__:<22}{waits!s:<20}{requests}")

# %% [markdown]
# What it lacks:
#
# 1. **Timeouts and dropped connections escape at once** (the first two rows), though a retry often
#    cures them too.
# 2. **It sleeps after its last failure.** Its last wait is followed by no try at all: the caller
#    waits for nothing.
# 3. **It raises a bare `Exception`.** Code above it cannot catch `anthropic.APIError` or read a
#    status, and the API's last error is lost (next cell).
# 4. **It stacks on the SDK's own retries.** With `max_retries=2`, each of its tries is up to three
#    requests (the last row). A loop of your own needs a client made with `max_retries=0`.
#
# It also ignores `retry-after` (a real server turns away a retry that comes sooner than it asked),
# has no jitter, so clients that failed together all come back together, never retries a 500, and
# has no bound on the total time. **The lecture says** this pattern belongs in every production
# agent; **today** use the SDK's own retries, or a loop like the next section's, because the SDK
# already covers the failures this loop misses. (This workbook's `scripts/retry_pattern.py`, named
# after the lecture's script, runs the next section's loop.)

# %%
err, waits, _ = cases["529 for ever"]
print(f"raised {type(err).__name__}: {err}")
print("an anthropic.APIError?", isinstance(err, anthropic.APIError))
print("does it carry the API's last error?", err.__cause__ is not None or err.__context__ is not None)
print(f"its last wait, {waits[-1]} s, came after its last try")

# %% [markdown]
# ## A better loop: backoff, jitter, retry-after, and a budget
#
# `call_with_retries()` in `helpers.retries` fixes all of that:
#
# - **It retries only transient failures**, as `is_transient(err)` judges them. It follows the SDK's
#   own rule: the server's `x-should-retry` header when it sends one; otherwise 408 (request timeout),
#   409 (conflict), 429, every 5xx (529 included), timeouts and connection errors. It adds one case
#   the SDK cannot retry, an error inside a stream (below). A 400, 401, 403 or 404 is raised at once.
# - **Exponential backoff**: the wait before retry *n* is `base_delay × 2^(n−1)`: each wait doubles
#   the one before, and none is longer than `max_delay`.
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
#
# The waits in these cells are *simulated*: `SimulatedTime` moves a clock on instead of pausing, so
# the cells run at once and read the same every time (the tests check retry loops the same way). In
# your own code, leave `sleep` and `clock` out: a real 429 needs a real wait.

# %%
from helpers.retries import RetryLog, RetryPolicy, SimulatedTime, call_with_retries

policy = RetryPolicy(max_attempts=5, base_delay=0.1, max_delay=2.0, max_total=10.0)
timer = SimulatedTime()

flaky = with_faults(client, ["429", "529", "timeout"], retry_after=0.3)
log = RetryLog()
reply = call_with_retries(
    lambda timeout: flaky.messages.create(**REQUEST, timeout=timeout),
    policy=policy,
    log=log,
    report=print,
    sleep=timer.sleep,
    clock=timer.clock,
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
    call_with_retries(
        lambda timeout: flaky.messages.create(**REQUEST, timeout=timeout),
        policy=policy,
        report=print,
        sleep=timer.sleep,
        clock=timer.clock,
    )
except anthropic.BadRequestError as err:
    print("raised:", type(err).__name__)

# %% [markdown]
# And a failure that never stops ends after `max_attempts`, with the last error and a note that says
# what happened. `always="529"` makes every request fail.

# %%
flaky = with_faults(client, [], always="529")
try:
    call_with_retries(
        lambda timeout: flaky.messages.create(**REQUEST, timeout=timeout),
        policy=policy,
        report=print,
        sleep=timer.sleep,
        clock=timer.clock,
    )
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
ASKED = 0.1  # seconds the injected 429 asks the client to wait
flaky = with_faults(sdk_retrying, ["529", "429"], retry_after=ASKED, announce=print)

reply = flaky.messages.create(**REQUEST)
print(f"one call, {fault_transport(flaky).requests} requests:", reply_text(reply)[:40], "...")

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
# ### Going further: where the SDK's time went
#
# In the call with `announce=print` above, before the second request, the 529 had carried no `retry-after`, so the SDK
# used its own backoff for a first retry, shortened by its jitter of up to a quarter; before the
# third, it waited what the 429's `retry-after-ms` asked for. From the SDK's own constants:
# <!-- source: helpers/retries.py (SDK_INITIAL_RETRY_DELAY and SDK_MAX_RETRY_DELAY, carried from anthropic/_constants.py and checked against the SDK's real waits in tests/test_faults.py); anthropic/_base_client.py (_calculate_retry_timeout: jitter = 1 - 0.25 * random()) -->

# %%
from helpers.retries import SDK_INITIAL_RETRY_DELAY, SDK_MAX_RETRY_DELAY

backoff = min(SDK_INITIAL_RETRY_DELAY * 2**0, SDK_MAX_RETRY_DELAY)  # the first retry's wait, before jitter
shortest, longest = 0.75 * backoff + ASKED, backoff + ASKED  # jitter cuts a backoff wait by up to 25%
print(f"waits: {0.75 * backoff:g} to {backoff:g} s of backoff, then {ASKED} s asked for")
print(f"so the call takes {shortest:.2f} to {longest:.2f} s plus the requests themselves")

# %% [markdown]
# ## An error inside a stream
#
# Lesson 04 warned that a stream can fail *after* it has started. The HTTP status 200 has already
# arrived, so the failure comes as an `error` event in the stream, with an error type in its body,
# such as `overloaded_error`. The SDK raises it in your loop as a plain `anthropic.APIStatusError`
# whose `status_code` is **200**, the status of the response it came in. Its own retries do not
# help here: they end once a response has arrived, so it never retries such an error. The `"midstream"`
# fault makes one: a 200, a `message_start`, then `overloaded_error`.
#
# The status alone would say "success", so `is_transient` also reads the error type in the body.
# `RETRYABLE_ERROR_TYPES` lists the types that mean "try again later": `rate_limit_error`,
# `overloaded_error`, `api_error` (a server fault) and `timeout_error`. A type such as
# `invalid_request_error` stays permanent.

# %%
from helpers.retries import is_transient

flaky = with_faults(sdk_retrying, ["midstream"])  # the client whose SDK retries are on
try:
    with flaky.messages.stream(**REQUEST) as stream:
        text = "".join(stream.text_stream)
except anthropic.APIStatusError as err:
    print(f"{type(err).__name__}, status {err.status_code}, error type {err.body['error']['type']}")
    print("requests sent:", fault_transport(flaky).requests, "(no SDK retry)")
    print("is_transient:", is_transient(err))

# %% [markdown]
# ### Going further: retrying a stream
#
# To retry a stream, make the whole stream the call that `call_with_retries()` repeats, handing it
# the seconds left as its `timeout`:

# %%
def streamed_reply(flaky_client, timeout):
    with flaky_client.messages.stream(**REQUEST, timeout=timeout) as stream:
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
            print(f"reply {attempt} could not be used: {problem}; it began {text[:12]!r}")
        messages += [
            {"role": "assistant", "content": text},
            {
                "role": "user",
                "content": f"That reply could not be used: {problem}. "
                "Answer again with only the JSON object: no code fences, no other text.",
            },
        ]
    raise BadOutputError(f"no usable JSON after {attempt} replies; the last problem: {problem}")


try:
    project = ask_for_json(client, PROJECT_PROMPT)
    print(project["title"], "-", ", ".join(project["skills"]))
except BadOutputError as err:  # a model that never writes valid JSON (some small local ones)
    print("failed clearly:", err)

# %% [markdown]
# A reply that could not be used gets a line saying why, and how it began: real models often wrap
# JSON in a Markdown code fence (`` ```json ``), even when told not to, and `json.loads` rejects the
# fence. The project's line comes from the first reply that parsed. With too small a budget the
# reply is cut off, and the function fails with a message that says what to change:

# %%
try:
    ask_for_json(client, PROJECT_PROMPT, max_tokens=40)
except BadOutputError as err:
    print("failed clearly:", err)

# %% [markdown]
# ### Text when you expected a tool call
#
# The other malformed reply the lecture names: your code expects a tool call, and gets words. The
# 5.5 models, the workbook's default among them, cannot be forced to call a tool (a `tool_choice` of
# `any` or of one named tool is an error on them), so the model may always answer in text instead.
# Before acting, find the `tool_use` block you need, or fail clearly. Here the customer gives no
# order number, so the model has nothing to look up and is likely to ask for it in words. If it
# does, asking again would not help: the request lacks what the tool needs. Show the model's words
# to the customer, or ask for the order number, and carry on from there.
# <!-- source: https://platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5 (forced tool use returns an error); anthropic/types/tool_use_block.py -->

# %%
ORDER_TOOL = {
    "name": "get_order_status",
    "description": "Look up the shipping status of a customer's order by its ID, such as A1042.",
    "input_schema": {
        "type": "object",
        "properties": {"order_id": {"type": "string", "description": "The order ID, such as A1042."}},
        "required": ["order_id"],
    },
}


def require_tool_call(reply, name):
    """The reply's call to the tool `name`, or BadOutputError saying what came instead."""
    for block in reply.content:
        if block.type == "tool_use" and block.name == name:
            return block
    kinds = ", ".join(block.type for block in reply.content)
    raise BadOutputError(f"expected a call to {name}, got [{kinds}], stop_reason {reply.stop_reason!r}")


reply = client.messages.create(
    model=MODEL,
    max_tokens=1024,
    system="You are the order-status assistant of an online bookshop. Look orders up with the tool.",
    tools=[ORDER_TOOL],
    messages=[{"role": "user", "content": "Where is my order?"}],
)
try:
    call = require_tool_call(reply, "get_order_status")
    print("tool call:", call.name, call.input)
except BadOutputError as err:
    print("failed clearly:", err)

# %% [markdown]
# ### Going further: structured outputs, to prevent it at the source
#
# Validating is the safety net. Where the API can enforce the shape, ask it to: with
# `output_config={"format": {"type": "json_schema", "schema": {...}}}` (or `client.messages.parse()`
# with a *pydantic model*) the reply's text is JSON that matches your schema, with no code fence, and
# a tool defined with `"strict": True` gets inputs that match its `input_schema`. Keep the validation
# above all the same: a reply can still be cut off by `max_tokens`, and a local model or an older one
# may not support these options.
#
# *pydantic* is a widely used Python library in which a class with typed fields describes data: such
# a class is a *pydantic model*. pydantic turns it into a JSON schema, and checks data against it,
# converting what it can (a string of digits into an `int`, say). Lesson 06 uses one.
# <!-- source: anthropic/types/output_config_param.py (format: JSONOutputFormatParam); anthropic/resources/messages/messages.py (parse); anthropic/types/tool_param.py (strict); https://platform.claude.com/docs/en/build-with-claude/structured-outputs -->

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
# - Some 429s never clear (spend limits): read `error_code`, and obey `x-should-retry: false`.
# - The lecture's loop misses timeouts, sleeps after its last try, hides the API's error in a bare
#   `Exception`, and multiplies with the SDK's retries: prefer the SDK's, or a loop like
#   `call_with_retries`.
# - Expecting a tool call? Check that the reply has one before acting on it.
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
#    and try again. Re-raise any other error at once, and also a `RateLimitError` whose
#    `err.error_code` names a spend limit (`"enforced_spend_limit_reached"`): no wait clears it.
#    (This is a simplified `is_transient`: it leaves out 408 and 409, which the Messages API rarely
#    sends, the `x-should-retry` header, and errors inside a stream, which a call without streaming
#    never meets. It covers every failure the check sends.)
# 3. Make at most `max_attempts` calls in all; when they all failed, re-raise the last error.
# 4. Before retry *n* (1, 2, ...) wait `base_delay * 2 ** (n - 1)` seconds times a random factor
#    of at most 1: between 0.5 and 1 as in `call_with_retries`, or between 0 and 1 ("full jitter");
#    but when the error carries `retry-after`, wait at least that long (`retry_after_seconds(err)`
#    reads it, or returns `None`).
# 5. Wait with the `sleep` you are given, not `time.sleep`: the check passes one that waits no time.
#
# The check runs your function against injected faults: permanent 400, 401 and 404 errors,
# transient failures then success, 529s that never stop (many times over, to see the waits grow
# and vary), and a 429 for a spent limit.

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
            if isinstance(err, anthropic.RateLimitError):
                transient = "spend_limit" not in (err.error_code or "")
            else:
                transient = isinstance(err, anthropic.APIConnectionError) or (
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


check_retry("retry_call")

# %% [markdown]
# ## Your progress
#
# How many of this lesson's exercises pass right now, going by the latest run of each check in
# this session. After fixing one, run its check again, then this cell.

# %%
from helpers.checks import progress

progress("05")
