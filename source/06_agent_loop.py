# %% [markdown]
# # 06 · The agent loop
#
# Every lesson so far has looked at one part of a call. An *agent* puts them all together: it calls
# the model, runs the tools the model asks for, sends the results back, and goes round again until
# the model has an answer. This lesson builds one small agent for a bookshop, and then makes it
# survive what breaks real agents: several tool calls at once, a tool that fails, a run that would
# not stop, and a history that grows too long. Folded "Going further" sections add a reply cut off,
# an API that hiccups, and an answer a program has to read; the lesson runs without them.
#
# **Learning goals**
#
# - Run an agent loop that acts on every `stop_reason` the API can send
# - Run all the tool calls of a turn, and turn a failing tool into an error the model can read
# - Guard a run: number of calls, input tokens counted before each call, time, and a cost meter
# - Keep a long history in bounds without breaking its tool calls apart
# - Map one agent turn onto another provider's wire format
#
# Every call in this lesson goes through the same recorded client as before, so it runs with no key;
# the replies stored with the workbook are hand-written samples (the banner below says so). The loop
# retries each call itself (lesson 05's `call_with_retries`), so the client is made with the SDK's own
# retries turned off: two retry loops on top of each other would multiply their attempts. The few
# calls this lesson makes outside the loop therefore have no retries; in your own code, wrap them the
# same way.

# %%
import json

import anthropic

from helpers import MODEL, bookshop, describe_block, get_client

client = get_client("06_agent_loop", max_retries=0)

# %% [markdown]
# ## The task and the tools
#
# A customer writes to an online bookshop about two orders. To answer, the model has to look both
# orders up, then track each parcel with the carrier: work for two tools, over several calls.

# %%
print(bookshop.TASK)

# %% [markdown]
# The tools are plain Python functions over fixed data (`helpers/bookshop.py`), so every run sees the
# same shop. Like a real service, they refuse a bad input with a message that says what a good one
# looks like. Note how the customer wrote the second order number.

# %%
print(json.dumps(bookshop.get_order("A1042"), indent=1))
try:
    bookshop.get_order("a1077")
except ValueError as err:
    print("ValueError:", err)

# %% [markdown]
# The model sees each tool as a definition: a name, a description, and a JSON schema of its input.
# Both are marked `"strict": True`, which makes the API hold the model's tool input to the schema
# (every object in a strict schema sets `additionalProperties: false`). Malformed tool input, one of
# the failures of lesson 05, is then stopped at the source. Strict holds the shape, not the meaning:
# `"a1077"` is a valid string, so the tool still checks it.
# <!-- source: anthropic/types/tool_param.py (strict); https://platform.claude.com/docs/en/build-with-claude/structured-outputs (strict tool use) -->

# %%
print(json.dumps(bookshop.TOOLS[0], indent=1))

# %% [markdown]
# ## One turn, by hand
#
# Before writing the loop, take a single turn apart. The first call sends the task with the tools.

# %%
first = client.messages.create(
    model=MODEL,
    max_tokens=1024,
    system=bookshop.SYSTEM,
    tools=bookshop.TOOLS,
    messages=[{"role": "user", "content": bookshop.TASK}],
)
print("stop_reason:", first.stop_reason)
for block in first.content:
    print(" ", describe_block(block))

# %% [markdown]
# On the default model a turn that calls tools has no `text` block: what the model writes before the
# calls ("I'll look up both orders") comes back inside its `thinking` block, empty unless you ask to
# see it (the loop below does). Other models send it as `text`.
# <!-- source: https://platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5 (text between tool calls comes back in thinking blocks) -->
#
# A turn can ask for **several tools at once**, one `tool_use` block per call, each with its own `id`.
# Your code runs every one of them and answers them **all in one user turn**, each `tool_result`
# carrying the `tool_use_id` of the call it answers. That turn has the role `user`, although no person
# wrote it: to the model, whatever your code sends is the user's side of the conversation.
#
# If a tool raises, the loop must not crash: the result goes back with `"is_error": true` and a short
# message, so the model can read what went wrong and try again. `run_tools` from `helpers/agent.py`
# does both (exercise 3 asks you to write it). `shortened` cuts long strings, to keep the printout
# readable.

# %%
from helpers.agent import run_tools


def shortened(value, width=70):
    """`value` with every long string cut to `width` characters: for printing, never for sending."""
    if isinstance(value, str):
        return value if len(value) <= width else value[: width - 3] + "..."
    if isinstance(value, dict):
        return {key: shortened(item, width) for key, item in value.items()}
    if isinstance(value, list):
        return [shortened(item, width) for item in value]
    return value


results = run_tools(first.content, bookshop.TOOLBOX)
for result in results:
    print(shortened(result))
if not results:
    print("This model answered without calling a tool, so there are no results to send back.")

# %% [markdown]
# The next request is the history so far: the task, the model's turn exactly as it came (its
# `thinking` block and signature included, which a tool loop must send back unchanged), and the
# results. What each message holds:
# <!-- source: anthropic/types/thinking_block.py (pass thinking blocks back unchanged); https://platform.claude.com/docs/en/agents-and-tools/tool-use/implement-tool-use (parallel tool use: all results in one user message) -->

# %%
history = [
    {"role": "user", "content": bookshop.TASK},
    {"role": "assistant", "content": first.content},
    {"role": "user", "content": results},
]


def shape(messages):
    """One line per message: its role and the types of its blocks."""
    for number, message in enumerate(messages):
        content = message["content"]
        if isinstance(content, str):
            kinds = "text"
        else:
            kinds = ", ".join(block["type"] if isinstance(block, dict) else block.type for block in content)
        print(f"{number}  {message['role']:<9} {kinds}")


shape(history)

# %% [markdown]
# ### Going further: what `run_tools` makes of a bad call
#
# Whatever this model did above, here is what `run_tools` makes of a call to `get_order` with the ID
# as the customer wrote it: a call built by hand with the SDK's `ToolUseBlock`, not by a model. The
# error goes back as the result's text, in full, with `"is_error": True`.

# %%
from anthropic.types import ToolUseBlock

by_hand = ToolUseBlock(type="tool_use", id="toolu_by_hand", name="get_order", input={"order_id": "a1077"})
print(shortened(run_tools([by_hand], bookshop.TOOLBOX)[0], width=110))

# %% [markdown]
# ## One action for every stop reason
#
# After each reply, `stop_reason` decides what the loop does next. The API has seven; a loop that
# only knows `end_turn` and `tool_use` will one day pass on half an answer, or spin.
#
# | `stop_reason` | What happened | What the loop does |
# |---|---|---|
# | `end_turn` | the model finished its answer | done: show the answer |
# | `stop_sequence` | the text reached one of your `stop_sequences` | done |
# | `tool_use` | the model wants tools run | run every call of the turn, send all results back, call again |
# | `max_tokens` | the reply hit the `max_tokens` ceiling | drop the half answer and ask again with more room, up to a cap; then fail clearly |
# | `pause_turn` | the API paused a long turn (it happens with the API's own server tools, such as web search) | send the turn back as it is, and the model carries on |
# | `refusal` | the API's safety classifiers stopped the reply (a model that declines in words ends with `end_turn`) | stop and say so, with `stop_details` if given: the same request is refused again. Another model usually answers it: send it there, or name a fallback model on the request and the API retries for you (a beta) |
# | `model_context_window_exceeded` | the context window filled up while the model wrote | stop and say to keep the history shorter (below, the loop can shrink it before every call) |
#
# Anything else (a stop reason added after this was written) stops the loop with an error rather than
# a guess. (A *beta* is a feature the API is still trying out: a request switches it on with an
# `anthropic-beta` header, which the SDK sends for you from `client.beta.messages.create(..., betas=[...])`.)
#
# The lecture's advice for a cut-off reply was to raise the budget or handle the truncation. One way
# to handle it is gone on the current models: you cannot send the half answer back as the start of the
# model's turn (prefill; lesson 01), so this loop asks again with a doubled `max_tokens`. A paused turn
# is the one case where the history may end with the model's turn: the API asks for it back, as it
# was, to resume the work it paused.
# <!-- source: anthropic/types/stop_reason.py; anthropic/resources/beta/messages/messages.py (betas: the anthropic-beta header); anthropic/types/refusal_stop_details.py; https://platform.claude.com/docs/en/build-with-claude/refusals-and-fallback (classifier refusals; fallback models, beta); https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons (pause_turn: pass the paused response back as is; refusal); https://platform.claude.com/docs/en/about-claude/models/migration-guide (prefill refused) -->

# %%
from helpers.agent import ACTIONS, next_action

for stop_reason, action in ACTIONS.items():
    print(f"{stop_reason:<31} -> {action}")
print("\nthe first reply above:", first.stop_reason, "->", next_action(first))

# %% [markdown]
# ### Going further: the rare stop reasons, by hand
#
# Some stop reasons are rare and hard to produce on purpose. This cell builds replies with the SDK's
# own `Message` type, in the shape the API sends; like every reply in this lesson they do not come
# from a model, and unlike the others they are built right here, not stored in the recordings.

# %%
from anthropic.types import Message

from helpers.agent import AgentError


def scripted_reply(stop_reason, **extra):
    """A Message as the API sends it, with the given stop_reason: scripted, not a model's output."""
    return Message.model_validate(
        {
            "id": "msg_scripted",
            "type": "message",
            "role": "assistant",
            "model": MODEL,
            "content": [{"type": "text", "text": "(scripted)"}],
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 2},
            **extra,
        }
    )


refusal = scripted_reply("refusal", stop_details={"type": "refusal", "category": None, "explanation": None})
for scripted in (scripted_reply("pause_turn"), refusal, scripted_reply("model_context_window_exceeded")):
    print(f"{scripted.stop_reason:<31} -> {next_action(scripted)}")
try:
    next_action(scripted_reply(None))
except AgentError as err:
    print("no stop_reason at all           -> AgentError:", err)

# %% [markdown]
# ## The loop, with its guards
#
# `run_agent` in `helpers/agent.py` is the whole loop, in under a hundred lines worth reading. On each
# turn:
#
# 1. **Guards first.** It stops before the next call would pass a limit (`Limits`): the number of
#    calls, the time already spent, and the input tokens of the request, which it counts first with
#    `client.messages.count_tokens` (an estimate that can differ a little from the call's own usage;
#    free, with a rate limit of its own, and recorded and replayed like any other request).
# 2. **The call**, streamed, so whoever watches sees the model's words as they are written; inside
#    `call_with_retries`, so a 429, a 529 or a stream that breaks off is asked again (lesson 05).
# 3. **The action** for the reply's `stop_reason`, from the table above.
#
# Much of what the model writes between tool calls ("I'll look up the order first") comes back, on
# the default model, inside its thinking blocks, and under the default display (`"omitted"`) those
# are empty: a streamed agent would show little between calls. So `run_agent` asks for
# `thinking={"type": "adaptive", "display": "summarized"}` (`watched_thinking`), and prints that
# text as `model (thinking): ...`. Where no up-front thinking is wanted, pass
# `thinking={"type": "between_tools"}`: the thinking before each reply is off, and only those short
# notes between tool calls remain.
#
# The model's streamed words come first, as they arrive (`model: ...`); the call's line follows once
# the reply is complete: the tokens counted before it, the usage and cost, the stop reason and the
# action. A `tool error` line is a result sent back with `is_error`. (The recorded runs are samples
# from the stand-in server: its "summary" repeats the sample's own notes word for word, where the
# real model's is a summary written for you.)
# <!-- source: anthropic/types/thinking_config_adaptive_param.py (display: summarized | omitted); anthropic/types/thinking_config_between_tools_param.py and thinking_types.py (between_tools: thinking off, progress notes between tool calls come back as thinking blocks) -->
# <!-- source: anthropic/resources/messages/messages.py (count_tokens); https://platform.claude.com/docs/en/build-with-claude/token-counting (free, own rate limits) -->

# %%
from helpers.agent import Limits, run_agent

AGENT = {"tools": bookshop.TOOLS, "toolbox": bookshop.TOOLBOX, "system": bookshop.SYSTEM}

run = run_agent(client, bookshop.TASK, limits=Limits(max_calls=8, max_input_tokens=50_000, max_seconds=300), **AGENT)

# %% [markdown]
# The run's history, message by message: everything the last call sent, and at the end the reply
# that call got back, the answer. This list *is* the model's context: all it knows of the task is
# what is in it, and each call sent the whole of it, as far as it had grown.

# %%
shape(run.messages)

# %% [markdown]
# ### Going further: a reply cut off
#
# The same task with a tight `max_tokens`, to see the `max_tokens` branch at work. Thinking counts
# against `max_tokens` too, so a budget that fits a short tool call can be too small for the answer.

# %%
tight = run_agent(client, bookshop.TASK, max_tokens=150, **AGENT)
print("\ncalls cut off:", sum(call.reply.stop_reason == "max_tokens" for call in tight.calls))

# %% [markdown]
# When a call is cut off (counted above), the loop drops the half answer and asks again with twice the
# room; the history keeps only the complete reply. The half answer did appear on screen: streaming
# shows text before anyone knows how the reply ends, so it is the loop, not the screen, that decides
# what the answer is. Past `Limits.max_output_tokens` the loop stops with a message instead.

# %% [markdown]
# ## What the run cost
#
# The loop keeps every call's usage, so the cost meter is a sum; lesson 03's plot shows how the input
# grew, call by call, as the history did.

# %%
from helpers.plots import plot_token_growth

print(run.total_line())
figure = plot_token_growth(run.usages, title="The bookshop agent: input tokens per call")

# %% [markdown]
# ## Guards that stop a run
#
# A guard ends the run with an `AgentError` whose message says which limit it hit and what to change;
# `err.run` holds what was done until then. Too few calls allowed:

# %%
from helpers.agent import AgentError

try:
    short = run_agent(client, bookshop.TASK, limits=Limits(max_calls=2), show_text=None, say=None, **AGENT)
except AgentError as err:
    print(err)
    print("calls made:", len(err.run.calls))
else:  # a model that calls no tool answers at once: there is no loop to stop
    print(f"No stop: the run ended by itself after {len(short.calls)} call(s), within max_calls=2.")

# %% [markdown]
# ### Going further: a token budget too small
#
# A token budget too small for the run: one token below what the second call of the run above counted,
# so the run stops before the first call that would need more.

# %%
budget = 1  # for a run of one call, or a server that does not count tokens
if len(run.calls) > 1 and run.calls[1].counted:
    budget = run.calls[1].counted - 1
try:
    run_agent(client, bookshop.TASK, limits=Limits(max_input_tokens=budget), show_text=None, say=print, **AGENT)
except AgentError as err:
    print("\nstopped:", err)

# %% [markdown]
# ### Going further: an API that hiccups
#
# `with_faults` (lesson 05) makes the first calls to the model fail (`paths=MODEL_CALLS` leaves the
# token counts alone): a rate limit, then an overloaded API, then a stream that breaks off with an
# error event (lesson 05: it arrives after a status of 200, which is why its line says
# `200 overloaded_error`). The loop retries each and finishes. The waits are simulated, so the cell
# takes no time; a real run would wait them.

# %%
from helpers.faults import MODEL_CALLS, with_faults
from helpers.retries import SimulatedTime

timer = SimulatedTime()
flaky = with_faults(client, ["429", "529", "midstream"], paths=MODEL_CALLS)
survived = run_agent(flaky, bookshop.TASK, show_text=None, sleep=timer.sleep, clock=timer.clock, **AGENT)
print(f"\nanswered after {len(survived.calls)} calls and {len(timer.waits)} retries")

# %% [markdown]
# ### Going further: a structured final answer
#
# The run's answer is for a person. The shop's order system wants the same answer as data. Lesson 05
# validated JSON after the fact; here the API is asked to produce it in the right shape to begin
# with. The shape is written as a *pydantic model*: pydantic is a widely used Python library in which
# a class with typed fields describes data; pydantic turns that class into a JSON schema, and checks
# and converts data into it (a date string into a `datetime.date`, say). `client.messages.parse()`
# takes such a class, sends its JSON schema as `output_config={"format": {"type": "json_schema",
# ...}}`, and parses the reply's text into it.
# <!-- source: anthropic/resources/messages/messages.py (parse, output_format); anthropic/types/output_config_param.py; https://platform.claude.com/docs/en/build-with-claude/structured-outputs -->

# %%
import datetime

from pydantic import BaseModel


class OrderStatus(BaseModel):
    order_id: str
    expected_delivery: datetime.date
    arrives_by_deadline: bool


class DeliveryReport(BaseModel):
    orders: list[OrderStatus]
    message_to_customer: str


# %% [markdown]
# The request is the whole history of the run plus one more user turn. The history holds tool calls,
# so the tools go along too (the API refuses `tool_use` blocks without them).

# %%
report = None
try:
    parsed = client.messages.parse(
        model=MODEL,
        max_tokens=1024,
        system=bookshop.SYSTEM,
        tools=bookshop.TOOLS,
        messages=[*run.messages, {"role": "user", "content": bookshop.REPORT_REQUEST}],
        output_format=DeliveryReport,
    )
    report = parsed.parsed_output
    if report is None:  # no text to parse: a tool call, say, instead of the answer
        print(f"No structured answer: the reply stopped with {parsed.stop_reason!r} before writing one.")
except anthropic.BadRequestError as err:  # a model that does not offer structured outputs
    print("No structured answer: the API refused the request:", err.message)
except ValueError as err:  # pydantic's ValidationError is one: the text was not the schema's JSON
    print("No structured answer: the reply's text did not match the schema:", str(err).splitlines()[0])
if report is not None:
    for order in report.orders:
        print(order)

# %% [markdown]
# A schema guarantees the *shape*, not the *facts*. Keep a check at the edge, where the data leaves
# your program: the dates must be the ones the carrier gave, and "in time" must follow from them.

# %%
def check_report(report):
    """Problems with the report, compared with what the tools say; empty when it agrees."""
    missing = set(bookshop.ORDERS) - {order.order_id for order in report.orders}  # the customer's orders
    problems = [f"{order_id}: missing from the report" for order_id in sorted(missing)]
    for order in report.orders:
        try:
            parcel = bookshop.track_parcel(bookshop.get_order(order.order_id)["tracking_number"])
        except (ValueError, LookupError) as err:
            problems.append(f"{order.order_id}: {err}")
            continue
        expected = datetime.date.fromisoformat(parcel["expected_delivery"])
        if order.expected_delivery != expected:
            problems.append(f"{order.order_id}: date {order.expected_delivery}, the carrier says {expected}")
        in_time = expected <= datetime.date.fromisoformat(bookshop.DEADLINE)
        if order.arrives_by_deadline != in_time:
            problems.append(f"{order.order_id}: arrives_by_deadline should be {in_time}")
    return problems


if report is not None:
    problems = check_report(report)
    print("the report agrees with the tools" if not problems else "\n".join(problems))

# %% [markdown]
# ## Keeping the history in bounds
#
# Every call re-sends the whole history (lesson 03), and an agent's history grows fastest. To shrink
# it, you cannot cut anywhere: a `tool_result` whose `tool_use` was cut away is a 400 error.
# `trim_history` keeps the task and the latest messages, and never starts them on a turn of tool
# results (exercise 2 asks you to write it). An assistant turn is a fine start, and so is a user's new
# question: the API joins two user turns in a row into one.
# <!-- source: https://platform.claude.com/docs/en/api/messages (consecutive user or assistant turns are combined into a single turn) -->
#
# A cut has a second cost. Each thinking block is bound to everything before it (its *prefix*: the
# `system` prompt, the `tools`, and every earlier message); its signature is how the API checks that.
# Cut turns from the middle, or rewrite the first message, and the prefix of every later thinking
# block has changed. The default model then refuses the request with a 400 "Invalid `signature` in
# `thinking` block. The block is bound to a different conversation" (the stand-in does the same).
# Older models run no such check. The message offers a way out: a beta setting,
# `thinking.block_binding.prefix_mismatch_behavior: "drop_block"`, has the API drop the invalid blocks
# instead, in every later request of that conversation; the docs warn it can cost more and give worse
# replies. The lasting fix is not to send blocks whose prefix changed: after a cut, the kept turns go
# without their thinking blocks (`without_thinking`); a history you never edit keeps them all.
# <!-- source: https://platform.claude.com/docs/en/build-with-claude/preserved-thinking (the prefix check; which models run it) -->
# <!-- source: https://platform.claude.com/docs/en/build-with-claude/preserved-thinking/fix-bound-to-a-different-conversation (the error's words; drop_block with the beta header thinking-binding-controls-2026-08-01, sent on every request; its cost) -->
# <!-- source: https://platform.claude.com/docs/en/build-with-claude/preserved-thinking/prefix-checks (what the prefix check compares; trim or summarize: remove thinking from the kept turns) -->

# %%
from helpers.agent import trim_history

trimmed = trim_history(run.messages[:-1], keep_last=2)  # the history as the last call sent it
shape(trimmed)

# %% [markdown]
# What that saves, counted by the API:

# %%
from helpers.agent import count_input_tokens

SENT = {"model": MODEL, "system": bookshop.SYSTEM, "tools": bookshop.TOOLS}  # what every call sends besides the history

try:
    before = count_input_tokens(client, {**SENT, "messages": run.messages[:-1]})
    after = count_input_tokens(client, {**SENT, "messages": trimmed})
except anthropic.BadRequestError as error:  # count_tokens checks a history as a call would, thinking included
    print(f"The API refused to count it, and would refuse the call too: {error.message}")
else:
    if before is None or after is None:
        print("This server does not count tokens, so the saving cannot be shown.")
    else:
        print(f"whole history: {before:,} input tokens; trimmed: {after:,} ({before - after:,} fewer)")

# %% [markdown]
# But what was cut is gone: the model no longer knows what was in the dropped turns. Which parcels'
# tracking results (and with them their delivery dates) are still in the trimmed history?

# %%
from helpers.agent import blocks_of

kept_results = [
    block["content"] for message in trimmed for block in blocks_of(message["content"]) if block["type"] == "tool_result"
]
looked_up = [
    block["content"]
    for message in run.messages
    for block in blocks_of(message["content"])
    if block["type"] == "tool_result"
]
for number, parcel in bookshop.PARCELS.items():
    if json.dumps(parcel) not in looked_up:
        print(f"{number}: never looked up in this run, so never in the history")
        continue
    print(f"{number}, expected {parcel['expected_delivery']}: its tracking still in the history?", end=" ")
    print(json.dumps(parcel) in kept_results)

# %% [markdown]
# A **summary** keeps the facts and drops the bulk. `Summarizer` is a `shrink` for `run_agent`: before
# each call, the turns that trimming would drop are summarized by the model into a few sentences of
# notes, which join the task in the first message. The summaries are calls too, and cost tokens.
#
# The printout ends with the history as the run left it. After a summary, the first message holds
# the task and the notes (two text blocks), and the kept turns have lost their thinking; the answer
# came after the last cut, so it keeps its own.

# %%
from helpers.agent import Summarizer

summarizer = Summarizer(client, keep_last=2)
summarized = run_agent(client, bookshop.TASK, shrink=summarizer, show_text=None, **AGENT)
if summarizer.summaries:
    print(f"\n{len(summarizer.summaries)} summaries written along the way")
else:  # a run of one or two calls never has more than keep_last turns to fold
    print(f"\nNo summary written: the history never grew past keep_last={summarizer.keep_last} turns.")
shape(summarized.messages)

# %% [markdown]
# ### Going further: did the summary pay?
#
# Before and after, call by call, with lesson 03's token counts:

# %%
from helpers.plots import plot_token_growth_compared

summary_usages = [summary.usage for summary in summarizer.summaries]
print("whole history:", run.total_line())
print("summarized:   ", summarized.total_line(), f"+ {len(summary_usages)} summary calls not in that line")
figure = plot_token_growth_compared(
    {"whole history": run.usages, "summarized": summarized.usages},
    title="Input tokens per call: whole history against summarized",
)

# %% [markdown]
# Weigh the two in dollars (an output token costs more than an input token): what the summaries saved
# on the agent's own calls, against what writing them cost.

# %%
from helpers import price_for

price = price_for(MODEL)  # for a model with no price (a local one), the default model's, and a line saying so
saved = sum(price.cost(u) for u in run.usages) - sum(price.cost(u) for u in summarized.usages)
spent = sum(price.cost(u) for u in summary_usages)
if summary_usages:
    print(f"saved on the agent's calls: ${saved:.4f}; spent on the summaries: ${spent:.4f}")
else:  # nothing was summarized, so both runs sent the same
    print("No summary was written, so there is no saving to weigh.")

# %% [markdown]
# Compare the two. This `Summarizer` writes a new summary whenever turns drop out, and only the calls
# after it get smaller, so in a run as short as this one it can easily cost more than it saves. In a
# long run (the ten, twenty or fifty messages a real task can take) every later call is smaller by
# what was summarized, and the balance can turn: measure it, as above. One more cost: rewriting the
# first message changes the start of every request, which breaks a prompt cache (lesson 03).

# %% [markdown]
# ## The same turn in another API's format
#
# The lecture says the patterns carry over to every provider, and they do: only the wire format
# differs. Here is the second call of the run, rewritten into OpenAI's Chat Completions format, which
# many other providers and local servers also speak. Nothing is sent; `helpers/chat_completions.py`
# only moves the same data around.

# %%
from helpers.chat_completions import request_as_chat_completions

second = {**SENT, "max_tokens": 1024, "messages": run.messages[:3]}
chat_request = request_as_chat_completions(second)
print("max_completion_tokens:", chat_request["max_completion_tokens"])
for message in chat_request["messages"]:
    print(shortened(message, width=60))

# %% [markdown]
# What moved:
#
# - The system prompt is the first *message*, with role `system` (OpenAI's newer models call it
#   `developer`), not a parameter; `max_tokens` is `max_completion_tokens`.
# - The model's tool calls are a `tool_calls` list on its message, their arguments a JSON *string*.
# - Each tool result is a message of its own, role `tool`, matched by `tool_call_id`; there is no
#   `is_error`, so an error has to be said in the text.
# - Thinking blocks have nowhere to go: the Chat Completions format has no field for them.
# <!-- source: https://platform.openai.com/docs/api-reference/chat/create (messages, tools, max_completion_tokens) -->

# %% [markdown]
# ### Going further: the reply in Chat Completions format
#
# The reply moves too: `stop_reason` becomes `finish_reason`, and `input_tokens` becomes
# `prompt_tokens`, which counts cached input tokens too (the Messages API reports those apart). Here
# is the run's second reply, rewritten the same way.
# <!-- source: https://platform.openai.com/docs/api-reference/chat/object (finish_reason, usage) -->

# %%
from helpers.chat_completions import reply_as_chat_completion

if len(run.calls) > 1:
    chat_reply = reply_as_chat_completion(run.calls[1].reply)
    print("stop_reason", run.calls[1].reply.stop_reason, "-> finish_reason", chat_reply["choices"][0]["finish_reason"])
    print("usage", chat_reply["usage"])
    print("tool_calls", json.dumps(chat_reply["choices"][0]["message"].get("tool_calls"))[:200])

# %% [markdown]
# ## Key takeaways
#
# - An agent is a loop around the call: call, act on `stop_reason`, run tools, send results, repeat.
# - Every `stop_reason` gets an action; an unknown one stops the loop. A `max_tokens` stop is half an
#   answer: ask again with more room, never pass it on.
# - Run every tool call of a turn and answer them all in one user turn, each with its `tool_use_id`;
#   a failing tool returns `is_error: true`, and the model can recover.
# - Send the model's turns back unchanged, thinking blocks included; after you cut or rewrite the
#   history, send the kept turns without their thinking blocks, which were bound to what came before.
# - Guard every run: calls, input tokens (counted before the call), time; keep a cost meter; retry
#   each call on transient errors.
# - Strict tools (and structured outputs, for an answer as data) stop malformed output at the source;
#   they hold the shape, not the meaning, so still check the values.
# - Shrink a long history in whole turns, never between a `tool_use` and its `tool_result`; a summary
#   keeps the facts that trimming drops.
# - The same loop runs on any provider: the formats differ, the ideas do not.
#
# ## Exercises
#
# Each check runs your function against scripted replies and histories, and says what is wrong. Try
# them before you open `helpers/agent.py`, which holds the workbook's own versions.
#
# ### Exercise 1 · Dispatch on the stop reason
#
# Complete `next_action(reply)`: return the action for `reply.stop_reason`, one of the constants
# imported below (`DONE`, `RUN_TOOLS`, `MORE_ROOM`, `CONTINUE`, `REFUSED`, `TOO_LONG`), following the
# table above; for a stop reason not in the table, raise an exception instead of guessing.

# %%
from helpers.agent import CONTINUE, DONE, MORE_ROOM, REFUSED, RUN_TOOLS, TOO_LONG
from helpers.checks.lesson06 import check_dispatch

CHOICES = (DONE, RUN_TOOLS, MORE_ROOM, CONTINUE, REFUSED, TOO_LONG)  # what next_action may return


def next_action(reply):
    return None  # STUDENT
    ### BEGIN SOLUTION
    actions = {
        "end_turn": DONE,
        "stop_sequence": DONE,
        "tool_use": RUN_TOOLS,
        "max_tokens": MORE_ROOM,
        "pause_turn": CONTINUE,
        "refusal": REFUSED,
        "model_context_window_exceeded": TOO_LONG,
    }
    if reply.stop_reason not in actions:
        raise ValueError(f"unknown stop_reason {reply.stop_reason!r}")
    return actions[reply.stop_reason]
    ### END SOLUTION


check_dispatch("next_action")

# %% [markdown]
# ### Exercise 2 · Trim without breaking pairs
#
# Complete `trim_history(messages, keep_last)`: return a new list with the first message (the task)
# and at most `keep_last` of the latest messages, never starting them on a user turn of tool results,
# so that no `tool_result` loses its `tool_use` (`holds_tool_results(message)` tells such a turn).
# After a cut, pass the kept turns through `without_thinking`
# (their thinking blocks no longer fit the shortened history); when the whole history fits, return a
# copy of it as it is. Leave `messages` itself unchanged.

# %%
from helpers.agent import holds_tool_results, without_thinking  # noqa: F401, RUF100 (for your trim_history)
from helpers.checks.lesson06 import check_trim


def trim_history(messages, keep_last):
    return messages  # STUDENT
    ### BEGIN SOLUTION
    if len(messages) <= keep_last + 1:
        return list(messages)
    start = len(messages) - keep_last
    while start < len(messages) and holds_tool_results(messages[start]):
        start += 1
    return [messages[0], *without_thinking(messages[start:])]
    ### END SOLUTION


check_trim("trim_history")

# %% [markdown]
# ### Exercise 3 · A tool that fails must not crash the loop
#
# Complete `run_tools(content, toolbox)`: for every `tool_use` block in `content`, in order, call
# `toolbox[block.name](**block.input)` and make a `tool_result` with the block's `id` as its
# `tool_use_id` and the output as text (`json.dumps` anything that is not a string). When the tool
# raises, or there is no tool by that name, catch it and return a result with `"is_error": True` and
# the error as its content; the same when the inputs do not fit the function.

# %%
from helpers.checks.lesson06 import check_run_tools


def run_tools(content, toolbox):
    results = []
    for block in content:
        if block.type == "tool_use":
            output = toolbox[block.name](**block.input)  # STUDENT
            results.append({"type": "tool_result", "tool_use_id": block.id, "content": json.dumps(output)})  # STUDENT
            ### BEGIN SOLUTION
            result = {"type": "tool_result", "tool_use_id": block.id}
            try:
                output = toolbox[block.name](**block.input)
            except Exception as err:
                result.update(content=f"{type(err).__name__}: {err}", is_error=True)
            else:
                result["content"] = output if isinstance(output, str) else json.dumps(output)
            results.append(result)
            ### END SOLUTION
    return results


check_run_tools("run_tools")

# %% [markdown]
# ## Your progress
#
# How many of this lesson's exercises pass right now, going by the latest run of each check in
# this session. After fixing one, run its check again, then this cell.

# %%
from helpers.checks import progress

progress("06")
