# %% [markdown]
# # 01 · The anatomy of an API call
#
# Every conversation with a hosted model, however elaborate, is built from one kind of step: your
# code sends a request, and the model sends back a response. This lesson takes a single call apart.
#
# **Learning goals**
#
# - Name the four inputs of a Messages API call and say what each one controls
# - Read the three outputs your code acts on: content, stop_reason and usage
# - Recognise a reply that was cut short by max_tokens, and decide what to do about it
# - Work out what a call cost from its token counts
# - Tell a current model ID from a retiring one, and say what the current models change
#
# **How this workbook reaches the model.** `get_client()` from the `helpers` package returns a real
# `anthropic.Anthropic` client. Without an API key it *replays* replies saved in `recordings/`, so
# every cell runs offline; with a key in `.env`, a request that was never recorded goes to the API
# (lesson 00 lists the modes). The first lines it prints say which is happening, and whether the
# saved replies are real recordings or hand-written samples. The outputs stored in this notebook were
# made in replay mode, from sample recordings.
#
# **Tokens.** Models read and write text in *tokens*: chunks of a word or a whole short word, about
# three to four characters of English on average. Limits and prices are all counted in tokens.

# %%
from helpers import MODEL, get_client, reply_text, usage_line

client = get_client("01_call_anatomy")

# %% [markdown]
# ## What goes in
#
# A call to the Messages API takes four inputs:
#
# | Input | What it controls |
# |---|---|
# | `model` | Which model answers. Models differ in skill, speed, price and how much text they can take in. Each ID names one pinned version, but an older model may also answer to an *alias*, which is not pinned (below). |
# | `max_tokens` | The most tokens the model may *write* in this reply, its thinking included. It is a ceiling, not a target: the model stops earlier when it is done. |
# | `system` | Standing instructions that frame the whole conversation: who the model should be, what to do and not do. Optional. |
# | `messages` | The conversation so far, as a list of turns, each with a `role` and `content`. This list is everything the model knows about the conversation. |
#
# The workbook names the model once, in `helpers`, as `MODEL`: a model ID typed into every cell is a
# model ID that goes stale in every cell.

# %% [markdown]
# ### Model IDs age
#
# The lecture's example uses `claude-sonnet-4-6`. That model still answers, but it is now a *legacy*
# model: the current Sonnet costs less and does more. Providers keep releasing models and retiring old
# ones, so an ID that works today stops working one day. The installed SDK carries two lists:
#
# - `anthropic.types.Model`: the model IDs this SDK version knows;
# - a list of the deprecated ones, with the day each stops answering: calling one makes the SDK print
#   a `DeprecationWarning`. That list sits in a private module of the SDK (its name starts with `_`,
#   so it may move without notice), so the workbook keeps the same dates in `helpers/models.py`
#   (`END_OF_LIFE`), from the deprecations page. Whether a date has passed is worked out on the day
#   the cell runs.
# <!-- source: anthropic/types/model.py; https://platform.claude.com/docs/en/about-claude/model-deprecations; anthropic/resources/messages/messages.py (the warning) -->

# %%
import typing

from anthropic.types import Model

from helpers import DEFAULT_MODEL
from helpers.models import END_OF_LIFE, end_of_life

LECTURE_MODEL = "claude-sonnet-4-6"
known = typing.get_args(typing.get_args(Model)[0])  # Model is Literal["claude-...", ...] | str
print(f"{len(known)} model IDs in this SDK's list. Deprecated, with their end of life:")
for model_id in END_OF_LIFE:
    print(f"  {model_id:<28} {end_of_life(model_id)}")
for label, model_id in (("the lecture's model:   ", LECTURE_MODEL), ("the workbook's default:", DEFAULT_MODEL)):
    print(label, model_id, "(known)" if model_id in known else "(not in the list)")

# %% [markdown]
# Notice the pairs such as `claude-sonnet-4-5` and `claude-sonnet-4-5-20250929`. Before the 4.6
# generation, each ID carried a snapshot date, and the API also accepts a dateless *alias* for it.
# The promise that an ID keeps giving you the same model covers the dated IDs, not the aliases. From
# the 4.6 generation on, IDs have no date and each one stays pinned for its whole life.
# <!-- source: https://platform.claude.com/docs/en/about-claude/models/model-ids-and-versions -->
#
# **The lecture says** `model="claude-sonnet-4-6"`; **today** the workbook's default model is the
# current Sonnet (its ID is on the last line printed above), because the lecture's model is now
# legacy. Nothing else in the call changes.
#
# **Switching.** Put `WORKBOOK_MODEL=` and a model ID the SDK knows in `.env`, then restart the
# kernel: every lesson uses it. The recordings were made with the default model, so every request to
# another model is new and needs a key (lesson 00). Read the model's page in the docs first: prices,
# context window and features differ.

# %%
SYSTEM = "You are a patient Python tutor. Answer in plain language and keep it short."
question = "What does Python's zip() function do?"

response = client.messages.create(
    model=MODEL,
    max_tokens=400,
    system=SYSTEM,
    messages=[{"role": "user", "content": question}],
)
print(reply_text(response))

# %% [markdown]
# The same call as a script, outside Jupyter: `scripts/hello_api.py` (run it with the workbook's
# Python, `.venv/bin/python scripts/hello_api.py`; add your own question as an argument).

# %% [markdown]
# ## What comes out
#
# The SDK turns the JSON reply into a typed `Message` object. Three of its fields decide what your
# code does next:
#
# - **`content`**, a *list* of blocks, each with a `type`. (**The lecture says** it is text in most
#   cases; **today** it seldom starts with text.) It is a list because one reply can hold several
#   kinds of output, in order. On the current models, the workbook's default among them, a reply
#   usually starts with a `thinking` block (the model's reasoning before it answers), then a `text`
#   block with the answer; a request to use a tool comes as a `tool_use` block (lesson 02). So never
#   assume the first block is text.
# - **`stop_reason`**, why the model stopped writing.
# - **`usage`**, how many tokens went in and came out: what you pay for, and how close you are to the
#   model's *context window*, the most tokens it can read in one call (lesson 03).

# %%
print("id:         ", response.id)
print("model:      ", response.model)
print("role:       ", response.role)
print("content:    ", [block.type for block in response.content])
print("stop_reason:", response.stop_reason)
print("usage:      ", response.usage.input_tokens, "input tokens,", response.usage.output_tokens, "output tokens")

# %% [markdown]
# ### A thinking block
#
# A `thinking` block has two fields: `thinking`, the reasoning as text, and `signature`, an opaque
# string that lets the API check, when the block is sent back, that the model wrote it. With the
# default display the `thinking` text may come back empty, but the signature is always there. The
# block has no `.text`, so `response.content[0].text`, the usual shortcut, fails with an
# `AttributeError` whenever a reply starts with one.
# <!-- source: anthropic/types/thinking_block.py; https://platform.claude.com/docs/en/models/sonnet-5/migration-guide (thinking blocks before the first text block: select blocks by type) -->

# %%
from helpers.notices import say_if_no_thinking

for block in response.content:
    if block.type == "thinking":
        print(f"thinking: {len(block.thinking)} characters shown, a signature of {len(block.signature)}")
    elif block.type == "text":
        print(f"text:     {len(block.text)} characters")
    else:
        print(block.type)
print("does content[0] have .text?", hasattr(response.content[0], "text"))
say_if_no_thinking(response, so="there is none to look at here")

# %% [markdown]
# So pick blocks by their `type`, never by their position. The text of a reply, whatever it holds:

# %%
text = "".join(block.text for block in response.content if block.type == "text")
print(len(text), "characters of text")

# %% [markdown]
# `helpers.reply_text(response)` does exactly this; the first call above used it, and so do all the
# later lessons.

# %% [markdown]
# ### The stop reasons, and what your code should do
#
# The common values, as of this writing:
#
# | `stop_reason` | Meaning | What to do |
# |---|---|---|
# | `end_turn` | The model finished what it wanted to say. | Use the reply. |
# | `max_tokens` | It hit your `max_tokens` ceiling mid-reply. | Treat the text as incomplete (below). |
# | `tool_use` | It wants your code to run a tool and send back the result. | Run the tool, continue the conversation (lessons 02 and 03 show the shape). |
# | `stop_sequence` | It wrote one of the `stop_sequences` you passed. | Use the reply; `response.stop_sequence` says which one. |
# | `pause_turn` | A server-side tool (such as web search) paused a long turn. | Append the paused reply to `messages` as an assistant turn, unchanged, then send the request again: the model carries on from there. (This is not the refused prefill below: the turn is the model's own, ending in its tool's block.) |
# | `refusal` | The API's safety classifiers stopped the reply (a model that declines in words ends with `end_turn`). | Show the user a message: the same request is refused again. Another model may answer it: the API can retry on a fallback model for you (lesson 06). |
# | `model_context_window_exceeded` | The reply filled the rest of the model's context window. | Treat it like `max_tokens`: shorten the input. |
#
# <!-- source: anthropic/types/stop_reason.py; https://platform.claude.com/docs/en/build-with-claude/handling-stop-reasons (pause_turn: send the assistant content back to continue) -->

# %% [markdown]
# ## What the current models change
#
# Code written for the lecture's model mostly runs as it is on the current ones. Three differences,
# and one rule that already held for the lecture's model:
#
# - **Thinking is on by default.** The model decides how much to reason before it answers, so replies
#   carry `thinking` blocks. Thinking tokens count against `max_tokens` and are billed as output.
# - **Effort** sets how hard it thinks: `output_config={"effort": "low"}`, or `"medium"`, `"high"`,
#   `"xhigh"`, `"max"`. Lower effort is faster and cheaper; the default model's default is `"high"`.
# - **No sampling parameters.** `temperature`, `top_p` and `top_k` are gone, and the SDK's
#   `messages.create` no longer takes them. Older code that passes one fails in Python, before
#   anything is sent (below).
# - **No prefill**, as already on the lecture's model: a conversation may not end with an assistant
#   turn for the model to complete; that is refused with a 400 error (lesson 02).
# <!-- source: anthropic/types/output_config_param.py (effort values); anthropic/resources/messages/messages.py (create has no temperature/top_p/top_k; "Thinking tokens count toward your max_tokens limit"); https://platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5 (adaptive thinking on by default, default effort high); https://platform.claude.com/docs/en/about-claude/models/migration-guide (prefill returns a 400 from the 4.6 models on) -->

# %%
older_code = {  # written for an older model, where temperature made replies less varied
    "model": MODEL,
    "max_tokens": 400,
    "temperature": 0.2,
    "messages": [{"role": "user", "content": question}],
}
try:
    client.messages.create(**older_code)
except TypeError as err:
    print("TypeError:", err)

# %% [markdown]
# ## A reply cut short
#
# Here is the same question with a budget of only 25 output tokens. The call succeeds (no error is
# raised!), but the reply is incomplete, and `stop_reason` says why.

# %%
from helpers.notices import say_if_no_thinking, say_if_not_cut_short, say_if_thinking

short = client.messages.create(
    model=MODEL,
    max_tokens=25,
    system=SYSTEM,
    messages=[{"role": "user", "content": question}],
)
print(reply_text(short) or "(no text at all)")
print()
print("blocks:       ", [block.type for block in short.content])
print("stop_reason:  ", short.stop_reason)
say_if_not_cut_short(short, max_tokens=25, so="this reply is whole, not the cut-short one described here")
say_if_no_thinking(short, so="all 25 tokens went to text, and the note below about thinking is not about it")
print("output_tokens:", short.usage.output_tokens)

# %% [markdown]
# When the model thinks first, its thinking spends the budget before any text is written: the reply
# may hold no text at all. Ask for less thinking with `output_config={"effort": "low"}` (on a question
# this simple the model may then skip thinking), and the same 25 tokens go to the text, which stops
# mid-sentence:
# <!-- source: anthropic/types/output_config_param.py (effort); https://platform.claude.com/docs/en/build-with-claude/effort -->

# %%
terse = client.messages.create(
    model=MODEL,
    max_tokens=25,
    system=SYSTEM,
    output_config={"effort": "low"},
    messages=[{"role": "user", "content": question}],
)
print(reply_text(terse) or "(no text at all)")
print()
print("blocks:       ", [block.type for block in terse.content])
print("stop_reason:  ", terse.stop_reason)
say_if_thinking(terse, so="its thinking took part of the 25 tokens: low effort makes skipping it likely, not certain")

# %% [markdown]
# A truncated reply is easy to miss, because nothing fails. Check `stop_reason` before you use a
# reply, and when it is `max_tokens`, either raise the budget, ask for a shorter answer, or (for
# structured output such as JSON) treat the reply as unusable rather than parse half of it.
#
# How high should `max_tokens` be? **The lecture says** a high ceiling makes you pay for capacity you
# don't use. **That simplifies:** you pay only for the tokens the model writes, never for the
# ceiling. What a high ceiling does cost you:
#
# - a runaway reply (one that repeats itself, say) can use all of it, and you pay for every token;
# - on the current models thinking counts against the same ceiling and is billed as output, so a
#   generous ceiling also lets the model think longer;
# - the SDK refuses a call without streaming whose `max_tokens` could take more than about ten
#   minutes to write; lesson 04 says exactly when (never with this workbook's client).
#
# So treat it as a guard rail: room for the longest useful answer, thinking included, and no more.
# <!-- source: anthropic/resources/messages/messages.py (thinking counts toward max_tokens; _calculate_nonstreaming_timeout); https://platform.claude.com/docs/en/models/sonnet-5/migration-guide (max_tokens limits thinking plus text) -->

# %% [markdown]
# ## What the call cost
#
# Providers charge per token, with separate prices for input and output, quoted in dollars per
# million tokens. `usage_line()` from `helpers` turns a `usage` into one line with the cost, using the
# price table in `helpers/models.py` (one record per model; `helpers/costs.py` does the arithmetic).

# %%
from helpers import price_for

print("full answer:", usage_line(response.usage))
print("cut short:  ", usage_line(short.usage))
rates = price_for(MODEL)  # for a model with no price (a local one), the default model's, and a line saying so
print(f"an output token costs {rates.output / rates.input:g} times an input token")

# %% [markdown]
# Both calls sent the same system prompt and question, so their `input_tokens` are equal; only the
# output differs. An output token costs several times an input token (printed above), and thinking
# is billed as output, which is why long replies, not long questions, usually dominate the bill of a
# simple chat. (In lesson 03 an agent's ever-growing history tips the balance the other way.)

# %% [markdown]
# ## Key takeaways
#
# - A call sends `model`, `max_tokens`, `system` and `messages`; the reply's `content`, `stop_reason`
#   and `usage` tell your code what was said, why it stopped, and what it cost.
# - `content` is a list of typed blocks, often a `thinking` block before the `text`: pick blocks by
#   `type` (`reply_text()`), never `content[0]`.
# - Model IDs age: check the SDK's `Model` list and the end-of-life dates (`END_OF_LIFE`), and switch with
#   `WORKBOOK_MODEL`. The current models think by default, take `effort`, and have no `temperature`.
# - `stop_reason == "max_tokens"` means the reply is incomplete, and no error tells you so.
# - Cost is input tokens times the input price plus output tokens times the output price.
#
# ## Exercises
#
# Each exercise ends with a check that tells you at once whether your answer works.
#
# ### Exercise 1 · Build a request
#
# Write the keyword arguments of a call as a dict named `my_request`: ask exactly
# `"Name three everyday uses of a Python dictionary."`, with a system prompt of your own that asks
# for a bulleted list, and an output budget of 200 tokens. Don't call the API: the check reads the
# dict. (With a key you could then send it with `client.messages.create(**my_request)`.)

# %%
from helpers.checks.lesson01 import EXERCISE_QUESTION, check_request

print("The question to ask:", EXERCISE_QUESTION)
my_request = ...  # STUDENT
### BEGIN SOLUTION
my_request = {
    "model": MODEL,
    "max_tokens": 200,
    "system": "Answer as a short bulleted list.",
    "messages": [{"role": "user", "content": EXERCISE_QUESTION}],
}
### END SOLUTION
check_request("my_request")

# %% [markdown]
# ### Exercise 2 · Spot a truncated reply
#
# Complete `was_cut_off(response)` so that it returns `True` when the reply ran out of its
# `max_tokens` budget, and `False` otherwise. The check tries it on replies with each stop reason.

# %%
from helpers.checks.lesson01 import check_was_cut_off


def was_cut_off(response) -> bool:
    # Replace None with a comparison that is True only for a truncated reply.  # STUDENT
    return None  # STUDENT
    ### BEGIN SOLUTION
    return response.stop_reason == "max_tokens"
    ### END SOLUTION


check_was_cut_off("was_cut_off")

# %% [markdown]
# ### Exercise 3 · Price a call by hand
#
# Using the prices below (dollars per million tokens), work out what the low-effort call, `terse`,
# cost, in dollars. Its cost was never printed: work from `terse.usage`.

# %%
from helpers import price_for
from helpers.checks.lesson01 import check_cost

price = price_for(MODEL)  # for a model with no price (a local one), the default model's, and a line saying so
print(f"input: ${price.input} per million tokens, output: ${price.output} per million tokens")

my_cost = ...  # STUDENT
### BEGIN SOLUTION
my_cost = (terse.usage.input_tokens * price.input + terse.usage.output_tokens * price.output) / 1_000_000
### END SOLUTION
check_cost("my_cost", "terse")

# %% [markdown]
# ## Your progress
#
# How many of this lesson's exercises pass right now, going by the latest run of each check in
# this session. After fixing one, run its check again, then this cell.

# %%
from helpers.checks import progress

progress("01")
