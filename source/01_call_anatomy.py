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
# | `model` | Which model answers. Models differ in skill, speed, price and how much text they can take in. The ID names one exact version, so the same ID keeps giving you the same model. |
# | `max_tokens` | The most tokens the model may *write* in this reply. It is a ceiling, not a target: the model stops earlier when it is done. |
# | `system` | Standing instructions that frame the whole conversation: who the model should be, what to do and not do. Optional. |
# | `messages` | The conversation so far, as a list of turns, each with a `role` and `content`. This list is everything the model knows about the conversation. |
#
# The workbook names the model once, in `helpers`, as `MODEL`: a model ID typed into every cell is a
# model ID that goes stale in every cell.

# %%
SYSTEM = "You are a patient Python tutor. Answer in plain language and keep it short."
question = "What does Python's zip() function do?"

response = client.messages.create(
    model=MODEL,
    max_tokens=400,
    system=SYSTEM,
    messages=[{"role": "user", "content": question}],
)
print(response.content[0].text)

# %% [markdown]
# ## What comes out
#
# The SDK turns the JSON reply into a typed `Message` object. Three of its fields decide what your
# code does next:
#
# - **`content`**, a *list* of blocks. Usually one `text` block, but a reply can also hold a request
#   to use a tool (`tool_use`), or the model's visible reasoning (`thinking`), so check each block's
#   `type` rather than assuming `content[0]` is text.
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
# `content[0].text` above was a shortcut that works only when the first block is text. A safe way to
# get the text, whatever blocks the reply holds:

# %%
text = "".join(block.text for block in response.content if block.type == "text")
print(len(text), "characters of text")

# %% [markdown]
# `helpers.reply_text(response)` does exactly this; the later lessons use it.

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
# | `pause_turn` | A long server-side tool turn was paused. | Send the conversation back as it is to let it continue. |
# | `refusal` | The model declined, for safety reasons. | Show the user a message; do not retry blindly. |
# | `model_context_window_exceeded` | The reply filled the rest of the model's context window. | Treat it like `max_tokens`: shorten the input. |

# %% [markdown]
# ## A reply cut short
#
# Here is the same question with a budget of only 25 output tokens. The call succeeds (no error is
# raised!), but the text stops mid-sentence and `stop_reason` says why.

# %%
short = client.messages.create(
    model=MODEL,
    max_tokens=25,
    system=SYSTEM,
    messages=[{"role": "user", "content": question}],
)
print(reply_text(short))
print()
print("stop_reason:  ", short.stop_reason)
print("output_tokens:", short.usage.output_tokens)

# %% [markdown]
# A truncated reply is easy to miss, because nothing fails. Check `stop_reason` before you use a
# reply, and when it is `max_tokens`, either raise the budget, ask for a shorter answer, or (for
# structured output such as JSON) treat the reply as unusable rather than parse half of it.
#
# How high should `max_tokens` be? You are billed for the tokens the model actually writes, not for
# the ceiling, so a generous ceiling costs nothing by itself. It is a guard rail: it bounds how long
# (and how expensive) one runaway reply can get. A very high ceiling on a call that waits for the
# whole reply can also run into timeouts, which is one reason to stream long replies (lesson 04).

# %% [markdown]
# ## What the call cost
#
# Providers charge per token, with separate prices for input and output, quoted in dollars per
# million tokens. `usage_line()` from `helpers` turns a `usage` into one line with the cost, using the
# price table in `helpers/costs.py`.

# %%
print("full answer:", usage_line(response.usage))
print("cut short:  ", usage_line(short.usage))

# %% [markdown]
# Both calls sent the same system prompt and question, so their `input_tokens` are equal; only the
# output differs. For this model an output token costs five times an input token, which is why long
# replies, not long questions, usually dominate the bill of a simple chat. (In lesson 03 an agent's
# ever-growing history tips the balance the other way.)

# %% [markdown]
# ## Key takeaways
#
# - A call sends `model`, `max_tokens`, `system` and `messages`; the reply's `content`, `stop_reason`
#   and `usage` tell your code what was said, why it stopped, and what it cost.
# - `content` is a list of typed blocks: pick out the `text` blocks rather than assuming one.
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
check_request(my_request)

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


check_was_cut_off(was_cut_off)

# %% [markdown]
# ### Exercise 3 · Price a call by hand
#
# Using the prices below (dollars per million tokens), work out what the cut-short call, `short`,
# cost, in dollars. Use its `usage`.

# %%
from helpers import PRICES
from helpers.checks.lesson01 import check_cost

price = PRICES[MODEL]
print(f"input: ${price.input} per million tokens, output: ${price.output} per million tokens")

my_cost = ...  # STUDENT
### BEGIN SOLUTION
my_cost = (short.usage.input_tokens * price.input + short.usage.output_tokens * price.output) / 1_000_000
### END SOLUTION
check_cost(my_cost, short.usage)
