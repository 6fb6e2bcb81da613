# %% [markdown]
# # 02 · Roles: system, user and assistant
#
# Every piece of text the model reads arrives with a label that says who it comes from. The label,
# called the *role*, changes how the model treats the text. This lesson shows each role at work,
# by sending calls that differ only in one role, and what the API says when the roles are wrong.
#
# **Learning goals**
#
# - Say what the system, user and assistant roles each mean to the model
# - Explain why a tool's result goes back to the model in a user message
# - Move a system prompt between this API's shape and the system-first shape of other providers
# - Recognise the malformed histories the API rejects, and read its error
#
# The calls below replay `recordings/02_roles.json`; with a key, a call you change goes to the API
# (lesson 00 explains the modes). The outputs stored in this notebook were made in replay mode, from
# sample recordings. `reply_text()` from `helpers` picks the text out of a reply (lesson 01).

# %%
from helpers import MODEL, describe_block, get_client, reply_text

client = get_client("02_roles")

# %% [markdown]
# ## Three roles
#
# | Role | Who writes it | How the model treats it |
# |---|---|---|
# | **system** | you, the developer | Standing instructions that frame the whole conversation: who the model is, what it must and must not do. Usually set once. |
# | **user** | a person, *or your code* | Something to respond to: a question, a request, or a result the model asked for. |
# | **assistant** | the model, *or your code* | What the model has already said. It continues from there. |
#
# In this API the system prompt is not a message: it is the separate `system` parameter, and the
# `messages` list holds the `user` and `assistant` turns.
#
# **The lecture says** a system prompt is typically set once and not changed during a conversation;
# **today** that still holds for `system` itself (editing it spoils the prompt cache and the thinking
# bound to it, lessons 03 and 06), but the newest models, the workbook's default among them, also take
# new instructions partway through as a `system` turn *later* in `messages` (never first). Where such
# a turn may stand, and which models take it: a going-further section after "Where the system prompt
# lives".
# <!-- source: https://platform.claude.com/docs/en/build-with-claude/mid-conversation-system-messages (supported models; "not for the first message") -->

# %% [markdown]
# ## system: the same question, two framings
#
# Here is one question sent twice. Only the system prompt changes.

# %%
QUESTION = "What is a Python decorator?"
BEGINNER_TUTOR = (
    "You are a tutor for people who have never programmed. Use one everyday analogy, no jargon, "
    "and at most three sentences."
)
SENIOR_COLLEAGUE = (
    "You are a senior Python engineer answering a colleague. Reply with a minimal code example "
    "and one line of explanation."
)

for system in (BEGINNER_TUTOR, SENIOR_COLLEAGUE):
    response = client.messages.create(
        model=MODEL, max_tokens=400, system=system, messages=[{"role": "user", "content": QUESTION}]
    )
    print(f"SYSTEM: {system[:60]}...\n")
    print(reply_text(response))
    print("\n" + "-" * 80 + "\n")

# %% [markdown]
# Same words from the user, two different answers (sample replies here, but real models differ just
# as much): the system prompt sets the audience, the tone and the format before the user says
# anything. That is why instructions about *how* to answer belong there rather than in each user
# message.

# %% [markdown]
# ## assistant: the model continues from what "it" said
#
# An assistant turn tells the model what it said earlier in the conversation. The model cannot check
# that claim: the API takes the turns your code sends on trust. So your code can *write* assistant
# turns too, for example to show the model one worked example of the answer you want.
#
# First, a request on its own:

# %%
EXAMPLE = "Sum up this error in emoji: ZeroDivisionError: division by zero"
ASK = "Sum up this error in emoji: KeyError: 'user_id'"

alone = client.messages.create(model=MODEL, max_tokens=200, messages=[{"role": "user", "content": ASK}])
print(reply_text(alone))

# %% [markdown]
# Now the same request, after one earlier exchange whose assistant turn our code wrote by hand:

# %%
with_example = client.messages.create(
    model=MODEL,
    max_tokens=200,
    messages=[
        {"role": "user", "content": EXAMPLE},
        {"role": "assistant", "content": "➗0️⃣💥"},  # written by us, not by the model
        {"role": "user", "content": ASK},
    ],
)
print(reply_text(with_example))

# %% [markdown]
# The reply keeps to the pattern that the earlier assistant turn set: emoji only, no explanation (a
# sample reply; real models follow such a pattern closely). Assistant turns are how a conversation
# stays consistent from one call to the next, and hand-written ones are a simple way to show the
# model an example.
#
# One limit: the conversation must not end with an assistant turn. Older models let you end it with a
# partial assistant turn for the model to complete ("prefilling"); from the Claude 4.6 models on, the
# lecture's model and the workbook's default among them, that gets a 400 error. Use the system
# prompt, or an example exchange like the one above, instead.
# <!-- source: https://platform.claude.com/docs/en/about-claude/models/migration-guide (prefilling returns a 400 error from the 4.6 models on) -->

# %% [markdown]
# ## user: not always a person
#
# When a model can use tools, it does not run them itself. It replies with a `tool_use` block that
# names a tool and its input, and stops with `stop_reason == "tool_use"`. *Your code* runs the tool
# and sends the result back, in a **user** turn holding a `tool_result` block. No person typed that
# turn; to the model it is simply new information to respond to.
#
# The tool here is a pretend order database, described to the model by a name, a description and a
# *JSON schema* of its input (a JSON description of what the input must look like: its fields, their
# types, which ones are required):

# %%
import json

ORDERS = {
    "A1042": {"status": "shipped", "carrier": "DHL", "shipped_on": "2026-11-24", "expected_delivery": "2026-11-27"}
}


def get_order_status(order_id: str = "") -> str:
    """The tool itself: ordinary Python, run by our code, never by the model."""
    return json.dumps({"order_id": order_id, **ORDERS.get(order_id, {"error": "no such order"})})


TOOLS = [
    {
        "name": "get_order_status",
        "description": "Look up the shipping status of a customer's order by its ID, such as A1042.",
        "input_schema": {
            "type": "object",
            "properties": {"order_id": {"type": "string", "description": "The order ID, such as A1042."}},
            "required": ["order_id"],
        },
    }
]
SUPPORT_SYSTEM = (
    "You are the customer-support assistant of an online bookshop. Use the tools to look things up; "
    "never guess an order's status."
)

# %% [markdown]
# The customer asks; the model asks for the tool:

# %%
conversation = [{"role": "user", "content": "Where is my order A1042?"}]
tool_call_reply = client.messages.create(
    model=MODEL, max_tokens=300, system=SUPPORT_SYSTEM, tools=TOOLS, messages=conversation
)

print("stop_reason:", tool_call_reply.stop_reason)
for block in tool_call_reply.content:
    print(" ", describe_block(block))

# %% [markdown]
# Our code runs the tool, then sends everything back: the model's turn as it was, and a user turn
# with the result. `tool_use_id` ties the result to the request it answers.

# %%
from helpers.notices import expect_tool_call

call = expect_tool_call(tool_call_reply, "get_order_status", so="there is nothing to run: its words are its answer")
if call is None:
    answer_reply = tool_call_reply
else:
    conversation.append({"role": "assistant", "content": tool_call_reply.content})
    conversation.append(
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": get_order_status(**call.input)}],
        }
    )
    answer_reply = client.messages.create(
        model=MODEL, max_tokens=300, system=SUPPORT_SYSTEM, tools=TOOLS, messages=conversation
    )


def kinds(content) -> str:
    """A one-line summary of a message's content: the text, or the types of its blocks."""
    if isinstance(content, str):
        return repr(content)
    return "[" + ", ".join(b["type"] if isinstance(b, dict) else b.type for b in content) + "]"


for turn in conversation:
    print(f"{turn['role']:>9}: {kinds(turn['content'])}")
print(f"assistant: {reply_text(answer_reply)}")

# %% [markdown]
# Read the roles down the left: the conversation alternates user, assistant, user, assistant, even
# though only the first user turn came from a person. The second user turn was our code reporting
# back.

# %% [markdown]
# ## Where the system prompt lives
#
# Some providers' chat APIs have no `system` parameter: the system prompt is the first entry of the
# messages list, with the role `"system"`. The content is the same; only its place differs. Here is
# one short conversation in both shapes, as plain data:

# %%
SYSTEM_FIRST = {
    "messages": [
        {"role": "system", "content": "Reply in French."},
        {"role": "user", "content": "Good morning!"},
        {"role": "assistant", "content": "Bonjour !"},
        {"role": "user", "content": "How are you?"},
    ]
}
THIS_API = {
    "system": "Reply in French.",
    "messages": [
        {"role": "user", "content": "Good morning!"},
        {"role": "assistant", "content": "Bonjour !"},
        {"role": "user", "content": "How are you?"},
    ],
}


def lines_of(request: dict) -> list[str]:
    """One line per top-level field or message, short enough to print in a column."""
    lines = [f"system: {request['system']!r}"] if "system" in request else []
    lines.append("messages:")
    lines += [f"  {m['role']:<9} {m['content']!r}" for m in request["messages"]]
    return lines


left, right = lines_of(SYSTEM_FIRST), lines_of(THIS_API)
print(f"{'SYSTEM FIRST (some other providers)':<44}ANTHROPIC MESSAGES API")
for number in range(max(len(left), len(right))):
    a = left[number] if number < len(left) else ""
    b = right[number] if number < len(right) else ""
    print(f"{a:<44}{b}")

# %% [markdown]
# The right-hand shape is what this API takes, so it can be passed straight to the call:

# %%
response = client.messages.create(model=MODEL, max_tokens=100, **THIS_API)
print(reply_text(response))

# %% [markdown]
# The left-hand shape, sent as it is, is rejected by every model: a `system` turn may never be the
# first message, even on the models that accept one later. That is one of the malformed histories in
# the next section. Exercise 1 asks you to convert one shape into the other.

# %% [markdown]
# ### Going further: a `system` turn partway through
#
# On the newest models a `system` turn inside `messages` adds instructions partway through a
# conversation, without editing the `system` parameter (which would spoil the prompt cache). The rules,
# from the docs:
#
# - **Where it may stand:** right after a `user` turn (one carrying tool results counts) or after an
#   `assistant` turn that ends in a server tool's result; and either last in the list or right before
#   an `assistant` turn. Never between a `tool_use` and its `tool_result`. Anywhere else: a 400 error.
# - **Never first**, on any model: instructions for the whole conversation go in `system`.
# - **Which models:** older ones, such as the lecture's Claude Sonnet 4.6, reject any `system` turn.
#   The docs' page lists every model that takes one; of the models this workbook knows
#   (`helpers/models.py`):
# <!-- source: https://platform.claude.com/docs/en/build-with-claude/mid-conversation-system-messages (supported models; placement rules; "not for the first message") -->

# %%
from helpers.models import MODELS

for facts in MODELS.values():
    verdict = "takes" if facts.accepts_mid_conversation_system else "rejects"
    print(f"{facts.name:<18} {facts.id:<18} {verdict} a later system turn")

# %% [markdown]
# ## Histories the API rejects
#
# The API checks the shape of `messages` before the model sees anything, and answers a malformed
# request with HTTP status **400** (bad request). The SDK raises that as `anthropic.BadRequestError`.
# Three common mistakes, each with the status and the error type it gets. The error also carries a
# `message` in words, but its wording differs between models and changes over time, so read it when
# you debug and never match on it in code.
# <!-- source: anthropic/_exceptions.py (APIStatusError.api_message: "Its wording can change, so don't match on it") -->

# %%
import anthropic

MALFORMED = {
    "starts with an assistant turn": [
        {"role": "assistant", "content": "Bonjour !"},
        {"role": "user", "content": "How are you?"},
    ],
    "has an empty message": [
        {"role": "user", "content": "Good morning!"},
        {"role": "assistant", "content": ""},
        {"role": "user", "content": "How are you?"},
    ],
    "starts with a system turn": SYSTEM_FIRST["messages"],
}

for problem, messages in MALFORMED.items():
    try:
        client.messages.create(model=MODEL, max_tokens=100, messages=messages)
        print(f"A history that {problem}: accepted this time; keep to the rules below all the same")
    except anthropic.BadRequestError as err:
        print(f"A history that {problem}: HTTP {err.status_code}, {err.type}")

# %% [markdown]
# What each one means, and the usual cause:
#
# - **Start with a user turn.** The Messages API has required the first message to come from the user,
#   and providers that serve Claude, such as Amazon Bedrock, enforce it. The sample recordings come
#   from the workbook's stand-in server, which keeps that rule; the current API may be more lenient,
#   and then the loop above says the history was accepted.
#   A history that opens with a user turn is accepted everywhere, so treat it as the rule.
#   A history that breaks it usually comes from code that trims old turns and cuts between a question
#   and its answer (exercise 2 of lesson 03).
# - **Every message needs content.** An empty turn usually means code appended a reply that failed or
#   had no text.
# - **No `system` turn first.** The system prompt goes in the `system` parameter, on every model;
#   only the newest models take a `system` turn later, and only where the rules allow (the
#   going-further section above). Tool results go in a user turn: there is never a `"tool"` role.
#
# Each error is a bug in the code that built the history, so retrying the same request cannot help:
# fix the history. (Lesson 05 is about the errors worth retrying.)

# %% [markdown]
# ## Key takeaways
#
# - **system** frames the whole conversation: it is the `system` parameter, not the first message.
#   The newest models, the workbook's default among them, also take a `system` turn later on.
# - **user** is whatever the model should respond to: a person's words, or your code reporting a tool
#   result in a `tool_result` block.
# - **assistant** is what the model said before, and it continues from it. Your code sends these
#   turns, so it can also write them, for example as a worked example.
# - Other providers put the system prompt first in the messages list; the content is the same.
# - A malformed history fails with a 400 `BadRequestError` that says what is wrong: fix the history,
#   don't retry.
#
# ## Exercises
#
# Each exercise ends with a check that tells you at once whether your answer works.
#
# ### Exercise 1 · From system-first to this API
#
# Complete `to_anthropic(messages)`: it takes a system-first list like `SYSTEM_FIRST["messages"]` and
# returns a dict with `"system"` (the system message's content) and `"messages"` (everything else, in
# order), ready for `client.messages.create(model=..., max_tokens=..., **result)`. When there is no
# system message, leave the `"system"` key out. Don't change the list you are given.

# %%
from helpers.checks.lesson02 import check_to_anthropic


def to_anthropic(messages: list[dict]) -> dict:
    # Build and return {"system": ..., "messages": [...]}.  # STUDENT
    return {}  # STUDENT
    ### BEGIN SOLUTION
    system = [m["content"] for m in messages if m["role"] == "system"]
    request = {"messages": [m for m in messages if m["role"] != "system"]}
    if system:
        request["system"] = "\n\n".join(system)
    return request
    ### END SOLUTION


check_to_anthropic("to_anthropic")

# %% [markdown]
# ### Exercise 2 · Send a tool's result back
#
# Complete `tool_result_message(call, output)`. `call` is a `tool_use` block from a reply (it has
# `.id`, `.name` and `.input`), and `output` is the string your tool returned. Return the message
# that carries the result back to the model.

# %%
from helpers.checks.lesson02 import check_tool_result_message


def tool_result_message(call, output: str) -> dict:
    # Return the message dict: which role, and which kind of content block?  # STUDENT
    return {}  # STUDENT
    ### BEGIN SOLUTION
    return {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": output}]}
    ### END SOLUTION


check_tool_result_message("tool_result_message")

# %% [markdown]
# ### Exercise 3 · Catch a malformed history before the API does
#
# Complete `is_valid_history(messages)`: return `True` when the list keeps the three rules above, and
# `False` when it breaks one: the first message comes from the user (the safe rule); every role is
# `"user"` or `"assistant"` (a simplification: the default model also accepts a later `system` turn, going
# further above); every message has non-empty content.
# (Content is a string or a list of blocks; both can be empty. An empty list of messages is not a
# valid history either, and neither is one with a message that has no `"role"` or no `"content"`:
# return `False` for it, don't crash.)

# %%
from helpers.checks.lesson02 import check_is_valid_history


def is_valid_history(messages: list[dict]) -> bool:
    # Return False if any rule is broken, True otherwise.  # STUDENT
    return None  # STUDENT
    ### BEGIN SOLUTION
    if not messages or messages[0].get("role") != "user":
        return False
    return all(m.get("role") in ("user", "assistant") and m.get("content") for m in messages)
    ### END SOLUTION


check_is_valid_history("is_valid_history")

# %% [markdown]
# ## Your progress
#
# How many of this lesson's exercises pass right now, going by the latest run of each check in
# this session. After fixing one, run its check again, then this cell.

# %%
from helpers.checks import progress

progress("02")
