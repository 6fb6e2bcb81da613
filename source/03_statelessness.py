# %% [markdown]
# # 03 · Stateless calls: the messages list is the whole conversation
#
# The API keeps nothing between calls. Each request is answered from what that request contains, and
# then forgotten. We say the API is *stateless*. A chat that seems to remember is your code sending
# the whole conversation again, every time. This lesson shows what that means in practice, and what
# it costs as the conversation grows.
#
# **Learning goals**
#
# - Explain why each call must carry the whole conversation, and show what breaks when it doesn't
# - Measure how input tokens grow turn by turn, and plot that growth
# - See why an agent's bill follows the running total of its input (going further: why that total grows
#   roughly with the square of its calls)
# - Keep a long conversation in bounds: the context window, trimming, summaries and prompt caching
# - Write a chat function that keeps its history
#
# The calls below replay `recordings/03_statelessness.json` (lesson 00 explains the modes). The
# outputs stored in this notebook were made in replay mode, from sample recordings: hand-written
# replies whose token counts come from the workbook's estimator. The exact numbers are illustrative;
# the way they grow is real. Re-record with a key to get real ones.

# %%
from helpers import MODEL, get_client, price_for, priced_as, reply_text, usage_line
from helpers.plots import plot_token_growth, token_growth

client = get_client("03_statelessness")
SYSTEM = "You are a concise assistant. Answer in at most three sentences."

# %% [markdown]
# ## A conversation is a list your code keeps
#
# To hold a conversation, your code keeps a list of messages. For each turn it appends the user's
# question, sends the **whole list**, and appends the reply as an `assistant` turn, ready for the next
# question. Three turns, one cell each:

# %%
messages = [{"role": "user", "content": "What is the capital of Canada?"}]
response = client.messages.create(model=MODEL, max_tokens=300, system=SYSTEM, messages=messages)
messages.append({"role": "assistant", "content": reply_text(response)})
turn_usages = [response.usage]
print(reply_text(response))

# %%
messages.append({"role": "user", "content": "What is its population?"})
response = client.messages.create(model=MODEL, max_tokens=300, system=SYSTEM, messages=messages)
messages.append({"role": "assistant", "content": reply_text(response)})
turn_usages.append(response.usage)
print(reply_text(response))

# %% [markdown]
# "Its" meant Ottawa, and the model knew, because the question about the capital and the answer
# "Ottawa" were in the list it was sent. The third question leans on the history too: "that" means
# the population the last answer gave, Ottawa's.

# %%
messages.append({"role": "user", "content": "How does that compare with Toronto?"})
response = client.messages.create(model=MODEL, max_tokens=300, system=SYSTEM, messages=messages)
messages.append({"role": "assistant", "content": reply_text(response)})
turn_usages.append(response.usage)
print(reply_text(response))

# %% [markdown]
# ## Without the history, "its" means nothing
#
# Now send the second question on its own, as if the code had forgotten to keep the list. The model
# has never "met" this conversation before: all it gets is one message.

# %%
alone = client.messages.create(
    model=MODEL, max_tokens=300, system=SYSTEM, messages=[{"role": "user", "content": "What is its population?"}]
)
print(reply_text(alone))

# %% [markdown]
# Nothing about the earlier calls survived on the server. The list *is* the conversation, and the
# model knows only what is in the list you send.

# %% [markdown]
# ## Every turn re-sends everything before it
#
# The price of statelessness: each call's input is the whole history so far plus the new question.
# `usage.input_tokens` shows it climbing, even though each new question is short.

# %%
from helpers.notices import say_if_not_growing

for number, usage in enumerate(turn_usages, start=1):
    print(f"turn {number}: {usage_line(usage)}")
say_if_not_growing(turn_usages, so="the climb described above does not show in these numbers")

# %% [markdown]
# `plot_token_growth()` from `helpers.plots` draws the same numbers. The bars are what each call sent;
# the line is the running total of input tokens: the input you are billed for. (`scripts/conversation.py`
# runs the same conversation as a script, one line per turn; with `--plot growth.png` it saves this plot.)

# %%
figure = plot_token_growth(turn_usages, title="A three-turn chat: input tokens per turn")

# %% [markdown]
# ### Beside the lecture's figures
#
# **The lecture says** its `conversation.py` sees input tokens climb from 32 to 50 to 93. **This run**
# (next cell) has other figures, and should:
#
# - **Other questions.** The lecture asks about France. This workbook asks about Canada on purpose:
#   its capital, Ottawa, is not its largest city, which gives the third question something to
#   compare. This lesson also sends a short system prompt with every turn, and that is input too.
# - **Another model and tokenizer.** The lecture's model is not the workbook's default model, which
#   cuts the same text into a different number of tokens.
# - **Sample replies.** Unless you re-recorded them, the stored outputs are hand-written replies whose
#   token counts come from the workbook's estimator, not from a model.
#
# What stays the same is the shape: every turn sends more than the one before.
# <!-- source: ../shared/lecture/working-with-llm-apis.txt (the lecture this workbook serves) (32, 50, 93); https://platform.claude.com/docs/en/models/sonnet-5/migration-guide (new tokenizer); https://platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5 (same tokenizer as Sonnet 5) -->

# %%
from helpers.notices import sent_tokens

LECTURE_INPUT_TOKENS = (32, 50, 93)  # the lecture's conversation.py, with its own questions and model
print("turn  lecture  this run")
for number, (lecture, usage) in enumerate(zip(LECTURE_INPUT_TOKENS, turn_usages, strict=True), start=1):
    print(f"{number:>4}  {lecture:>7}  {sent_tokens(usage):>8}")  # cache reads were sent too

# %% [markdown]
# ## An agent's history grows much faster
#
# In a chat, each turn adds a question and a short answer. An *agent* (a model that uses tools in a
# loop until a task is done) adds far more: each time it asks for a tool, its request and what the
# tool sent back join the history for the rest of the run, and some of what comes back, such as the
# text of a file, is long. One request from a person can take ten or twenty messages to finish.
#
# Here a model investigates why a test fails in a pretend project. The project is a dictionary of
# files, and the tools are small Python functions that act on it: list the files, read one, run the
# tests. The model can look, but not change anything. (Lesson 02 showed how tool calls and results
# travel.)

# %%
FILES = {
    "README.md": "# Sales report helpers\n",
    "stats.py": '''"""Small statistics helpers for the weekly sales report."""


def mean(values: list[float]) -> float:
    """The arithmetic mean of a non-empty list."""
    return sum(values) / len(values)


def median(values: list[float]) -> float:
    """The middle value of a non-empty list."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle]


def spread(values: list[float]) -> float:
    """The distance between the smallest and the largest value."""
    return max(values) - min(values)
''',
}
FILES["test_stats.py"] = """from stats import mean, median, spread


def test_mean():
    assert mean([1, 2, 3, 4]) == 2.5


def test_median_odd():
    assert median([3, 1, 2]) == 2


def test_median_even():
    assert median([4, 1, 3, 2]) == 2.5


def test_spread():
    assert spread([4, 1, 3, 2]) == 3
"""


TEST_REPORT = (  # pretend: what running this project's tests prints
    "..F.\ntest_stats.py:13: assert 3 == 2.5\n"
    "FAILED test_stats.py::test_median_even - assert 3 == 2.5\n1 failed, 3 passed"
)


def run_tool(name: str, arguments: dict) -> str:
    """Our code runs the tools the model asks for, and returns what each one printed."""
    if name == "list_files":
        return "\n".join(sorted(FILES))
    if name == "read_file":
        return FILES.get(arguments.get("path"), f"No such file: {arguments.get('path')}")
    if name == "run_tests":
        return TEST_REPORT
    return f"Unknown tool: {name}"


# %% [markdown]
# The model learns about the tools from their definitions: a name, a description, and a JSON schema
# of the input (lesson 02: a JSON description of the input's fields and their types).

# %%
def tool(name: str, description: str, **inputs: str) -> dict:
    """A tool definition whose inputs are all strings, each with a description."""
    properties = {key: {"type": "string", "description": text} for key, text in inputs.items()}
    return {
        "name": name,
        "description": description,
        "input_schema": {"type": "object", "properties": properties, "required": list(inputs)},
    }


TOOLS = [
    tool("list_files", "List the files in the project."),
    tool("read_file", "Read one file of the project.", path="The file's path, such as stats.py."),
    tool("run_tests", "Run the project's tests and report the results."),
]
AGENT_SYSTEM = (
    "You are a debugging assistant for a small Python project. You can list and read its files and run "
    "its tests, but not change them. Keep your messages short."
)

# %% [markdown]
# The agent loop: call the model; if it asks for tools, run them, append its turn and the results,
# and call again; stop when it answers without asking for a tool. Its turn goes back exactly as it
# came, `agent_reply.content` whole: on the current models it holds `thinking` blocks, and in a tool
# loop those must be sent back unchanged, signature and all.
# <!-- source: anthropic/types/thinking_block.py ("pass them back exactly as received"); https://platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5 (thinking blocks are tied to the model and the conversation) -->

# %%
TASK = "One of this project's tests fails. Find out why, and tell me what to change."
agent_messages = [{"role": "user", "content": TASK}]
agent_usages = []

for _ in range(10):  # a safety limit: never loop for ever
    agent_reply = client.messages.create(
        model=MODEL, max_tokens=1024, system=AGENT_SYSTEM, tools=TOOLS, messages=agent_messages
    )
    agent_usages.append(agent_reply.usage)
    tokens = agent_reply.usage.input_tokens
    sent = len(agent_messages)
    print(f"call {len(agent_usages)}: sends {sent:>2} message{'s' if sent > 1 else ''}, {tokens:,} input tokens")
    agent_messages.append({"role": "assistant", "content": agent_reply.content})
    if agent_reply.stop_reason != "tool_use":
        break
    results = []
    for block in agent_reply.content:
        if block.type == "tool_use":
            arguments = ", ".join(f"{key}={value!r}" for key, value in block.input.items())
            print(f"        runs {block.name}({arguments[:60]}{'...' if len(arguments) > 60 else ''})")
            output = run_tool(block.name, block.input)
            results.append({"type": "tool_result", "tool_use_id": block.id, "content": output})
    agent_messages.append({"role": "user", "content": results})

if len(agent_usages) == 1:  # some models, small local ones especially, never call a tool
    print("This model answered without calling a tool, so the history never grew: the figures below show one call.")
print(f"\n{len(agent_messages)} messages in the end. The model's last word:\n{reply_text(agent_reply)}")

# %% [markdown]
# Each call carried the whole exchange so far: the task, the model's requests for tools, and what
# they returned. Reading one file put its whole text into the history, and every later call paid for
# it again. You pay for the input of *every* call, so the bill follows the cumulative column, not the
# last call's figure.

# %%
growth = token_growth(agent_usages)
print("call  input tokens  cumulative")
for turn, sent, total in zip(growth.turns, growth.per_turn, growth.cumulative, strict=True):
    print(f"{turn:>4}  {sent:>12,}  {total:>10,}")

# %%
figure = plot_token_growth(agent_usages, title="An agent finding a bug: input tokens per call")

# %% [markdown]
# ### Going further: what a long agent run costs
#
# The run above in dollars, input and output apart:

# %%
price = price_for(MODEL)  # for a model with no price (a local one), the default model's, and a line saying so
output_tokens = sum(usage.output_tokens for usage in agent_usages)
input_cost = growth.total * price.input / 1_000_000
output_cost = output_tokens * price.output / 1_000_000
print(f"over all {len(agent_usages)} calls:")
print(f"  input:  {growth.total:>6,} tokens at ${price.input:.2f} per million: ${input_cost:.4f}")
print(f"  output: {output_tokens:>6,} tokens at ${price.output:.2f} per million: ${output_cost:.4f}")
print(f"the whole exchange: ${sum(price.cost(usage) for usage in agent_usages):.4f}")
print(f"input cost / output cost: {input_cost / output_cost:.1f}", end="  ")
print(f"(an output token costs {price.output / price.input:g} times an input token)")

# %% [markdown]
# Lesson 01 said that long replies usually dominate the bill of a simple chat, and that an agent tips
# the balance the other way. Compare the two costs above: each call wrote a little, but re-read the
# whole history, so an agent's input tokens usually far outnumber its output tokens. Thinking, which
# the current models do by default and which is billed as output, pulls the other way; the last line
# says which side won in this run.
#
# That is a small sum for one bug hunt, but look at its shape. Every call sends a fixed part (the
# system prompt, the tool definitions, the task) plus a history that grows by about the same amount
# each call. So the total grows faster than the number of calls: doubling the calls more than
# doubles the bill. The larger the fixed part is next to what each call adds, the closer that factor
# stays to two; as the history comes to dwarf the fixed part, the total grows towards the square of
# the number of calls, and doubling the calls comes close to quadrupling the bill. Here is the same
# agent projected to longer exchanges, assuming each call keeps adding what it added on average above:

# %%
first_call_tokens = growth.per_turn[0]
step = (growth.per_turn[-1] - first_call_tokens) / max(len(growth.per_turn) - 1, 1)  # 0 after a single call
print(f"first call {first_call_tokens:,} tokens, then about {step:,.0f} more each call\n")
if step <= 0:  # a server whose usage does not count the history
    print("These calls did not grow, so the projection below stays flat: it cannot show the shape described here.\n")
print("calls  last call sends  input tokens in total  vs. half as many calls  input cost")
previous_total = None
for calls in (6, 12, 24, 48, 96):
    last_call = first_call_tokens + step * (calls - 1)
    total = sum(first_call_tokens + step * n for n in range(calls))
    ratio = f"x{total / previous_total:.1f}" if previous_total else ""
    dollars = total * price.input / 1_000_000
    print(f"{calls:>5}  {last_call:>15,.0f}  {total:>21,.0f}  {ratio:>22}  {'$' + format(dollars, '.2f'):>10}")
    previous_total = total

# %% [markdown]
# Read the ratio column: each doubling of the calls multiplies the total by more than two, and the
# factor climbs towards four as the history outgrows the fixed part. (The next section sets a run like
# this against the model's context window.)

# %% [markdown]
# ## Keeping a long conversation in bounds
#
# **The context window.** A model can read only so much at once: its *context window*, measured in
# tokens, holds the system prompt, the tools, every message and the reply being written. The current
# Claude models, the workbook's default among them, read up to a million tokens; each model's page in
# the docs gives its figure. A request whose input is larger fails with a 400 error. Against the
# agent's run above, assuming each further call would add what its calls added on average:
# <!-- source: https://platform.claude.com/docs/en/models/sonnet-5-5/overview (1M-token context window) -->

# %%
from helpers.models import DEFAULT_MODEL, MODELS

facts = MODELS.get(MODEL, MODELS[DEFAULT_MODEL])  # helpers/models.py: the model's record (a local model: the default's)
CONTEXT_WINDOW = facts.context_window  # tokens the model can read in one call
first_sent, last_sent = growth.per_turn[0], growth.per_turn[-1]
print(f"the agent's last call sent {last_sent:,} tokens: {last_sent / CONTEXT_WINDOW:.2%} of the window")
print(f"(the window of {facts.name}: {CONTEXT_WINDOW:,} tokens)")
added = (last_sent - first_sent) / max(len(growth.per_turn) - 1, 1)  # tokens each call added, on average
if added > 0:
    calls = int((CONTEXT_WINDOW - first_sent) / added) + 1  # calls until the last one fills the window
    sent = calls * first_sent + added * calls * (calls - 1) / 2  # input tokens of all those calls
    in_all = f"{sent / 1e9:,.1f} billion" if sent >= 1e9 else f"{sent / 1e6:,.1f} million"
    print(f"adding about {added:,.0f} tokens a call, a run like it fills the window after about {calls:,} calls,")
    print(f"having sent about {in_all} input tokens: ${sent * facts.input_price / 1e6:,.0f} of input at its price")
else:  # a server whose usage does not count the history
    print("these calls did not grow, so at this rate they would never fill the window")

# %% [markdown]
# The agent's calls used a sliver of the window. The run as a whole, though, pays for every token of
# every call, and that total grows far faster than any one call: the last line is what a run would
# have sent by the time its last call filled the window. Cost, and the time each long request takes,
# become a problem long before the window is full.
#
# Three ways to keep the history, and the bill, in check:
#
# - **Trim**: drop the oldest turns and keep the most recent ones. Simple, but the model forgets
#   what was dropped, and the trimmed list must still be a valid history (exercise 2).
# - **Summarise**: ask the model to sum up the older turns in a paragraph, then replace them with
#   that summary. The gist survives, at the cost of one extra call now and then.
# - **Cache**: keep everything, but pay less for the part that repeats. That is *prompt caching*,
#   below.

# %% [markdown]
# ### Prompt caching
#
# Most of what a call sends was already sent by the call before it: the same system prompt, the same
# tools, the same earlier turns. *Prompt caching* lets the API keep the processed form of that
# repeated beginning (the *prefix*) for a few minutes, so the next call can reuse it:
#
# - Mark where the prefix ends with `"cache_control": {"type": "ephemeral"}` on a block, or pass
#   `cache_control={"type": "ephemeral"}` to `messages.create` itself (*automatic caching*): the API
#   then marks the last block it can cache, so a growing conversation is cached up to its newest turn
#   without your code moving the marker.
# - The first call *writes* the prefix to the cache: `usage.cache_creation_input_tokens`, at a higher
#   price than plain input.
# - A later call with the same prefix, within five minutes of the last use, *reads* it:
#   `usage.cache_read_input_tokens`, at a fraction of the input price.
# - `usage.input_tokens` then counts only what came after the prefix.
#
# The prefix must be identical, byte for byte, and at least a minimum length that depends on the
# model (the usage cell below prints this model's). A shorter prefix is simply not cached, without
# any error.
# <!-- source: anthropic/resources/messages/messages.py (top-level cache_control: "automatically applies a cache_control marker to the last cacheable block"); https://platform.claude.com/docs/en/build-with-claude/prompt-caching (minimum cacheable prompt length per model) -->

# %% [markdown]
# Here a shop assistant answers from its catalogue: 150 lines that every call sends in the system
# prompt, which makes them a good candidate for caching.

# %%
import itertools

PRODUCTS = {
    "TS": ("T-shirt", 18),
    "LS": ("Long-sleeve tee", 24),
    "SW": ("Sweatshirt", 36),
    "HD": ("Hoodie", 42),
    "ZH": ("Zip hoodie", 48),
    "RJ": ("Rain jacket", 65),
}
COLOURS = {"BLK": "black", "WHT": "white", "NVY": "navy", "GRN": "forest green", "GRY": "heather grey"}
SIZES = {"S": 0, "M": 0, "L": 0, "XL": 2, "XXL": 4}  # extra dollars for the larger sizes

rows = ["SKU | item | colour | size | price | in stock"]
for number, ((code, (item, base)), (colour_code, colour), (size, extra)) in enumerate(
    itertools.product(PRODUCTS.items(), COLOURS.items(), SIZES.items())
):
    rows.append(f"{code}-{colour_code}-{size} | {item} | {colour} | {size} | ${base + extra}.00 | {number * 7 % 23}")
CATALOGUE = "\n".join(rows)
print(f"{len(rows) - 1} products, {len(CATALOGUE):,} characters. The first lines:")
print("\n".join(rows[:4]))

# %% [markdown]
# The system prompt becomes a list of two text blocks, and the second one, the catalogue, carries the
# `cache_control` marker:

# %%
CATALOGUE_SYSTEM = [
    {
        "type": "text",
        "text": "You are the sales assistant of a small clothing shop. Answer from the catalogue below; quote "
        "SKUs and prices exactly, and say so when something is out of stock.",
    },
    {"type": "text", "text": "CATALOGUE\n" + CATALOGUE, "cache_control": {"type": "ephemeral"}},
]

shop = [{"role": "user", "content": "How much is the hoodie in forest green, size L, and do you have it in stock?"}]
cache_write_reply = client.messages.create(model=MODEL, max_tokens=300, system=CATALOGUE_SYSTEM, messages=shop)
print(reply_text(cache_write_reply))
shop.append({"role": "assistant", "content": reply_text(cache_write_reply)})

# %%
shop.append({"role": "user", "content": "And the same hoodie in navy?"})
cache_read_reply = client.messages.create(model=MODEL, max_tokens=300, system=CATALOGUE_SYSTEM, messages=shop)
print(reply_text(cache_read_reply))

# %% [markdown]
# The usage of the two calls shows the cache at work: the first call wrote the catalogue to the
# cache, and the second read it back, as long as the catalogue clears the minimum.

# %%
from helpers.notices import say_if_no_cache_fields

MIN_CACHEABLE = facts.min_cacheable_tokens  # the shortest prefix the model caches, from helpers/models.py
for label, usage in (("first call ", cache_write_reply.usage), ("second call", cache_read_reply.usage)):
    print(f"{label}: input_tokens={usage.input_tokens:<3}", end="  ")
    print(f"cache_creation_input_tokens={usage.cache_creation_input_tokens!s:<4}", end="  ")
    print(f"cache_read_input_tokens={usage.cache_read_input_tokens}")
cached = cache_write_reply.usage.cache_creation_input_tokens or 0
print(f"the cached prefix: {cached:,} tokens; the minimum: {MIN_CACHEABLE}")
say_if_no_cache_fields(cache_write_reply.usage, cache_read_reply.usage, so="these two calls show no cache at work")

# %% [markdown]
# ### Going further: what caching costs and saves
#
# A cache write is billed above the plain input price, a read far below it. For a prefix reused less
# often than every five minutes, `{"type": "ephemeral", "ttl": "1h"}` keeps it for an hour, at a
# higher write price. The minimum length of a cacheable prefix differs from model to model (each
# model's figure is on the docs' prompt-caching page; `helpers/models.py` keeps it for the models the
# workbook knows). The prices of this lesson's model:
# <!-- source: anthropic/types/cache_control_ephemeral_param.py (ttl "5m" or "1h"); https://platform.claude.com/docs/en/build-with-claude/prompt-caching (1-hour writes at 2x input) -->

# %%
price = price_for(MODEL)  # for a model with no price (a local one), the default model's, and a line saying so
print(f"{priced_as(MODEL)}, dollars per million tokens: input ${price.input:.2f}")  # whose prices these are
for label, rate in (
    ("cache write, 5 minutes", price.cache_write),
    ("cache write, 1 hour", price.cache_write_1h),
    ("cache read", price.cache_read),
):
    print(f"  {label:<22} ${rate:>5.2f}  ({rate / price.input:g} x input)")

# %% [markdown]
# In dollars, the two calls above against the same two calls without caching (every token at the
# plain input price):

# %%
from helpers.notices import prompt_caching_reported


def without_cache(usage):
    """The same usage as if nothing had been cached: every input token at the plain price."""
    cached = (usage.cache_creation_input_tokens or 0) + (usage.cache_read_input_tokens or 0)
    return usage.model_copy(
        update={
            "input_tokens": usage.input_tokens + cached,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
    )


if prompt_caching_reported(cache_write_reply.usage, cache_read_reply.usage):
    for label, usage in (("first call ", cache_write_reply.usage), ("second call", cache_read_reply.usage)):
        print(f"{label}: ${price.cost(usage):.5f} with caching, ${price.cost(without_cache(usage)):.5f} without")
    saved = sum(price.cost(without_cache(r.usage)) - price.cost(r.usage) for r in (cache_write_reply, cache_read_reply))
    print(f"saved over both calls: ${saved:.5f}")
else:
    print("This server reports no prompt caching, so there is no saving to show.")

# %% [markdown]
# Writing to the cache makes the first call a little dearer; every call that reads it is much
# cheaper, so caching pays for itself from the second call on. For an agent, automatic caching fits:
# each call writes the history so far, and the next one reads it back.

# %% [markdown]
# ## Key takeaways
#
# - The API is stateless: the model knows only what the request carries. Your code keeps the
#   conversation in a list and sends all of it on every call.
# - Input tokens grow every turn, because the whole history is re-sent; the bill follows the running
#   total, which grows faster than the number of turns.
# - Agents grow their history fastest: what each tool returns stays in it for the rest of the run.
# - Keep long conversations in bounds by trimming or summarising old turns, and make the repeated
#   prefix cheaper with prompt caching (`cache_control` on a block or on the whole request; watch
#   `cache_creation_input_tokens` and `cache_read_input_tokens` in the usage).
#
# ## Exercises
#
# Each exercise ends with a check that tells you at once whether your answer works.
#
# ### Exercise 1 · A chat function that remembers
#
# Complete `chat(client, messages, user_text)`. It appends the user's turn to `messages`, calls the
# model with the whole list, appends the reply as an assistant turn, and returns the reply's text.
# `messages` belongs to the caller: keep the history in that list, so that the next call of `chat`
# with the same list continues the conversation.
#
# The check does not use the recordings: it drives your function with a scripted stand-in for the
# model, which answers and records what it was sent, so any correct implementation passes.

# %%
from helpers.checks.lesson03 import check_chat


def chat(client, messages: list, user_text: str) -> str:
    # 1. append the user's turn  2. call the model  3. append the reply  4. return its text  # STUDENT
    return None  # STUDENT
    ### BEGIN SOLUTION
    messages.append({"role": "user", "content": user_text})
    response = client.messages.create(model=MODEL, max_tokens=300, messages=messages)
    text = reply_text(response)
    messages.append({"role": "assistant", "content": text})
    return text
    ### END SOLUTION


check_chat("chat")

# %% [markdown]
# With a key, try it for real: `history = []`, then `chat(client, history, "Hello!")` and a follow-up.
#
# ### Exercise 2 · Trim a history, and keep it valid
#
# Complete `trim_history(messages, max_messages)`. Return a new list with at most `max_messages` of
# the most recent messages, in order. It must still be a history the API accepts, so it must start
# with a user turn (lesson 02): if the cut falls just before an assistant turn, drop that one too.
# Leave the list you are given unchanged. (A real agent must also keep each tool result with the
# tool call it answers; the check keeps to plain text turns.)

# %%
from helpers.checks.lesson03 import check_trim_history


def trim_history(messages: list[dict], max_messages: int) -> list[dict]:
    # Keep the most recent turns, starting with a user turn.  # STUDENT
    return None  # STUDENT
    ### BEGIN SOLUTION
    kept = messages[-max_messages:] if max_messages > 0 else []
    while kept and kept[0]["role"] != "user":
        kept = kept[1:]
    return list(kept)
    ### END SOLUTION


check_trim_history("trim_history")

# %% [markdown]
# ## Your progress
#
# How many of this lesson's exercises pass right now, going by the latest run of each check in
# this session. After fixing one, run its check again, then this cell.

# %%
from helpers.checks import progress

progress("03")
