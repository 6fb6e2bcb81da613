# %% [markdown]
# # 04 · Streaming
#
# A model writes its reply one token at a time: a token is a small chunk of text, often a word or part
# of one. An ordinary call waits until the last token is written and then delivers the whole reply at
# once. A *streamed* call delivers each piece as soon as it is written. This lesson shows when that is
# worth doing, how to do it with the SDK, and what actually travels over the wire.
#
# **Learning goals**
#
# - Say when streaming a reply is worth it, and when it is not
# - Stream a reply with `messages.stream`, and read its final message and usage afterwards
# - Read the raw events of a stream, from message_start to message_stop
# - Show a reply that grows as it arrives, and measure time to first token against total time
#
# **Replayed streams.** Without a key, the workbook replays recorded streams. Each recorded event
# carries the moment it arrived, so a replay can be instant (the default, and what the tests use) or
# paced as it was recorded: set `WORKBOOK_STREAM_SPEED=1` in `.env` to see it stream in class.

# %%
from helpers import MODEL, get_client, reply_text, usage_line

client = get_client("04_streaming")

# %% [markdown]
# ## Why stream
#
# The total time a reply takes is the same either way: the model still has to write every token.
# What changes is when you get to see them. (The lecture announces three reasons and lists none;
# these three are the workbook's.)
#
# 1. **The reader sees text sooner.** The wait before the first piece of text, the *time to first
#    token*, is short next to the whole reply: a long reply can take half a minute to finish.
#    Without streaming, all of that is a blank screen; with it, people start reading as soon as the
#    text begins, and usually read more slowly than the model writes. On a model that thinks first
#    (the workbook's default), the text begins only after the thinking, which by default streams no
#    text at all (below).
# 2. **Long generations stay within timeouts.** A call without streaming is one HTTP response that
#    sends nothing until the reply is complete. A connection that stays silent for minutes is what
#    timeouts, proxies and load balancers cut. A stream sends data all along, so only the gap
#    *between* pieces has to stay short. (The SDK even refuses some long calls made without
#    streaming: the going-further section at the end of the next section says which.)
# 3. **A user-facing app feels alive.** Text that moves shows that something is happening, and lets
#    the user stop a reply that is going the wrong way without waiting for its end.
#
# **When not to bother.** If nobody watches the output (a batch job, an agent loop that parses each
# reply before acting on it), streaming only adds code: you need the whole reply anyway. A plain
# call is simpler there. The exception is a reply long enough to risk a timeout: stream it, and
# collect the final message at the end, as the next section shows.

# %% [markdown]
# ## Streaming with `messages.stream`
#
# `client.messages.stream(...)` takes the same arguments as `messages.create`. Used in a `with`
# block, it sends the request and gives you a stream object. Its `text_stream` yields the pieces of
# text as they arrive; print each one without a newline and the reply builds up on the screen.

# %%
PROMPT = (
    "Explain what streaming an API response means, for someone who has only used APIs that answer all at once. "
    "Two short paragraphs."
)

with client.messages.stream(model=MODEL, max_tokens=400, messages=[{"role": "user", "content": PROMPT}]) as stream:
    for piece in stream.text_stream:
        print(piece, end="", flush=True)
    final = stream.get_final_message()

# %% [markdown]
# After the loop, `get_final_message()` returns the same `Message` a call without streaming would
# have returned: the whole `content`, the `stop_reason` and the `usage`. The number of output tokens
# is only known once the model stops, so read `usage` here, after the stream, not from its first
# event. That count includes any thinking, which the text's length below leaves out.

# %%
print("stop_reason:", final.stop_reason)
print("text length:", len(reply_text(final)), "characters")
print(usage_line(final.usage))

# %% [markdown]
# ### Going further: the SDK's ten-minute check, and this workbook's client
#
# Before it sends a call without streaming, the SDK estimates the longest it could take: an hour for
# 128,000 output tokens, so `3600 × max_tokens / 128,000` seconds. Above ten minutes it raises a
# `ValueError` that says to stream, and sends nothing. But it runs this check **only when the client
# still has the SDK's default timeout** (ten minutes). `get_client()` gives this workbook's clients a
# 120-second timeout, so for them the check never runs: the call is sent, and when the whole reply
# takes more than 120 s to arrive, the client gives up with an `APITimeoutError`. The SDK retries a
# timeout (twice, by default), so you may wait three times 120 s before you see it. No request below
# is sent: the `ValueError` comes first, and the last line only reads the client's setting.
# <!-- source: anthropic/resources/messages/messages.py (create: the check runs only while the client keeps the SDK's DEFAULT_TIMEOUT); anthropic/_base_client.py (_calculate_nonstreaming_timeout; timeouts are retried); anthropic/_constants.py (DEFAULT_TIMEOUT, MODEL_NONSTREAMING_TOKENS: lower caps for a few Claude Opus 4 IDs only); helpers/client.py (DEFAULT_TIMEOUT) -->

# %%
import anthropic

limit = 10 * 60 * 128_000 // 3600  # the largest max_tokens the estimate lets through
print(f"with the SDK's default timeout, the check refuses max_tokens above {limit:,}")

sdk_defaults = anthropic.Anthropic(api_key="not-needed: nothing is sent")
try:
    sdk_defaults.messages.create(model=MODEL, max_tokens=limit + 1, messages=[{"role": "user", "content": "Hi"}])
except ValueError as err:
    print("ValueError before sending:", str(err).split(".")[0])
print(f"this workbook's client waits at most {client.timeout.read:g} s for a reply, and skips the check")

# %% [markdown]
# ## What travels over the wire
#
# Underneath, a streamed reply is one HTTP response whose body is a series of *server-sent events*
# (SSE): short blocks of text, each with an event name and a JSON payload. `messages.create(...,
# stream=True)` hands you these raw events one by one, without assembling anything. In order:
#
# | Event | What it carries |
# |---|---|
# | `message_start` | The message's id and model, an empty `content`, and the usage so far: input tokens, and an output count that is not final yet. |
# | `content_block_start` | A new block of the reply begins, with its `index`: `thinking`, `text` or `tool_use`. |
# | `ping` | Nothing: the server sends it now and then to keep the connection busy. The SDK throws these away (in its `_streaming.py`), so they never reach your loop. |
# | `content_block_delta` | The next piece of that block: `text_delta` for text, `input_json_delta` for a tool's arguments, `thinking_delta` for shown thinking, and one `signature_delta` that closes a thinking block. Most events are these. |
# | `content_block_stop` | The block with this `index` is complete. |
# | `message_delta` | The `stop_reason`, and the final output token count. |
# | `message_stop` | The end of the stream. |
#
# Here is a short reply, event by event (the middle is summarised). Block 0 is a `thinking` block:
# with the default display its text is left out, so it carries only its `signature_delta`; the
# answer is block 1. A recording can also hold `ping` events, which the SDK drops before the loop
# sees them.
# <!-- source: anthropic/types/raw_content_block_delta_event.py, thinking_delta.py, signature_delta.py; anthropic/types/thinking_config_adaptive_param.py (display: summarized | omitted) -->

# %%
from helpers.streaming import print_events

events = list(
    client.messages.create(
        model=MODEL,
        max_tokens=100,
        messages=[{"role": "user", "content": "In one sentence, what is a token?"}],
        stream=True,
    )
)
print_events(events)

# %% [markdown]
# Two things to notice. The usage is split: `message_start` knows the input tokens, `message_delta`
# the final output tokens. And a stream can also carry an `error` event (for example
# `overloaded_error`) *after* the HTTP status 200 that started it; the SDK raises it as an
# `anthropic.APIStatusError` in the middle of your loop. Lesson 05 shows one, and how to retry it.

# %% [markdown]
# ## A reply that grows in place
#
# Printing piece by piece works everywhere. In JupyterLab the workbook can do better:
# `stream_live()` from `helpers.streaming` shows the reply in a box that grows in place as the pieces
# arrive, with a status line under it. Where a box cannot be shown (a terminal, a script, the tests,
# or `WORKBOOK_LIVE_DISPLAY=plain` in `.env`) it prints the pieces instead. It takes the same
# arguments as `messages.stream`, and returns the final message and the timing of every piece.

# %%
from helpers.streaming import stream_live

STORY = (
    "In about 150 words, describe what happens between pressing Enter in a chat app and seeing the model's first word."
)
reply, timing = stream_live(client, model=MODEL, max_tokens=600, messages=[{"role": "user", "content": STORY}])

# %% [markdown]
# To watch it stream at the speed it was recorded, make a client that paces its replays, and run the
# cell above with it:
#
# ```python
# client = get_client("04_streaming", stream_speed=1)   # 2 is twice as fast; 0 is instant
# ```

# %% [markdown]
# ## Time to first token, and total time
#
# Two numbers describe how a stream feels:
#
# - **time to first token** (TTFT): from sending the request to the first piece of text. It is what
#   the user waits before anything happens: the network, the model reading the whole prompt (so it
#   grows as a conversation gets longer), and, on a model that thinks first, all of its thinking.
#   Less thinking shortens that wait: effort `"low"` (`output_config={"effort": "low"}`) makes the
#   model likely to skip it on a simple request, and `thinking={"type": "between_tools"}` turns the
#   thinking before the answer off. Showing the thinking as it streams
#   (`thinking={"type": "adaptive", "display": "summarized"}`) does not shorten the wait for the
#   answer; it gives the reader something to watch meanwhile.
# <!-- source: anthropic/types/thinking_config_adaptive_param.py (display); anthropic/types/thinking_config_between_tools_param.py, thinking_types.py (between_tools: thinking off) -->
# - **total time**: until the last piece. This is when a call without streaming would have shown
#   the reply, all at once.
#
# `stream_live()` noted when each piece arrived. One thing to know first: offline, the reply above
# was *replayed*, and at the default speed 0 a replay hands over every piece at once, so a clock
# would read almost nothing. A recording keeps the moment each event arrived when it was made, so for
# a replay `stream_live()` reports those recorded times instead; `timing.source` says which you have
# (`"measured"` when the reply came from a model just now). The recordings shipped with the workbook
# are samples, and their times are the stand-in server's fixed pacing (a pause before the first
# event, then a steady beat), not a model's: re-record with a key for real ones.

# %%
print("timings:", timing.source)
if timing.first_text is None:
    print("time to first token: none, the reply had no text")
else:
    print(f"time to first token: {timing.first_text:.2f} s")
print(f"total time:          {timing.total:.2f} s")

# %% [markdown]
# The plot shows the characters received over time. The shaded strip is the wait for the first
# token; the dotted line is where a call without streaming would have shown anything at all.

# %%
from helpers.plots import plot_stream_timing

figure = plot_stream_timing(timing)

# %% [markdown]
# ## Key takeaways
#
# - Streaming does not make a reply finish sooner; it lets the reader start sooner, keeps long
#   replies within timeouts, and makes an app feel alive. Skip it where nobody watches.
# - `with client.messages.stream(...) as stream:` then `stream.text_stream` for the text as it
#   arrives, and `stream.get_final_message()` for the complete `Message`.
# - Read `usage` from the final message: the first event's output token count is not final.
# - A stream is a series of server-sent events, from `message_start` to `message_stop`; errors can
#   arrive in the middle of it.
# - Time to first token is what the user waits; total time is what a call without streaming costs
#   them. A replay reports the times it was recorded with.
#
# ## Exercises
#
# ### Exercise 1 · Collect a streamed reply
#
# Complete `collect(client, prompt)`: stream a reply to `prompt` (one user message, any
# `max_tokens` you like) and return a pair: the whole text of the reply as one string, and the
# *final* usage. The check runs your function against a scripted stream, so it needs no key and no
# recording.

# %%
from helpers.checks.lesson04 import check_collect


def collect(client, prompt):
    # Stream the reply, join its pieces, and return (text, usage).  # STUDENT
    return None  # STUDENT
    ### BEGIN SOLUTION
    with client.messages.stream(model=MODEL, max_tokens=300, messages=[{"role": "user", "content": prompt}]) as stream:
        text = "".join(stream.text_stream)
        usage = stream.get_final_message().usage
    return text, usage
    ### END SOLUTION


check_collect("collect")

# %% [markdown]
# ### Exercise 2 · Feel the difference (no check)
#
# With `WORKBOOK_STREAM_SPEED=1` in `.env` (restart the kernel after changing it), run the lesson
# again and watch the live display fill in at the recorded pace. Then, from `timing` and the plot:
# how long did you stare at nothing with the stream, and how long would you have stared at nothing
# without it (the dotted line: a call without streaming shows the whole reply only then)? Which
# numbers from `timing` would you put on a dashboard for a chat app, and why? (With a key you can
# also time `client.messages.create(...)` with the same request; without one, only the recorded
# requests can be replayed.)

# %% [markdown]
# ## Your progress
#
# How many of this lesson's exercises pass right now, going by the latest run of each check in
# this session. After fixing one, run its check again, then this cell.

# %%
from helpers.checks import progress

progress("04")
