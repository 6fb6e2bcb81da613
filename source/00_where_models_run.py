# %% [markdown]
# # 00 · Where the model runs, and getting set up
#
# Before the first call, two practical questions: where does the model you are talking to actually
# run, and is your machine ready for this workbook? This lesson answers both, and ends with your
# first call.
#
# **Learning goals**
#
# - Compare a local open-weight model with a provider-hosted one: control, privacy, cost, capability
# - Check your setup: Python, packages, API key, mode, and a first call
# - Point the same notebooks at a local model server that speaks the Anthropic Messages API
# - Say what changes with a local model: model names, token counts, features

# %% [markdown]
# ## Two places a model can run
#
# **On your own hardware.** Open-weight models (Qwen, DeepSeek, Mistral, Llama, Gemma and others)
# can be downloaded and served on your own machine with tools such as Ollama, vLLM or llama.cpp.
#
# **On a provider's servers.** Anthropic, OpenAI, Google and others run their models in their data
# centres; your code sends each request over HTTPS and the provider bills you per token.
#
# | | Local open-weight model | Provider-hosted model |
# |---|---|---|
# | **Control** | You choose the exact weights and version, and nobody can change or retire them under you. | The provider updates and eventually retires models; you pin a model ID and migrate on their schedule. |
# | **Privacy** | Prompts and replies never leave your machine. | Data goes to the provider, under their data-handling terms. |
# | **Cost** | No per-token bill: you buy the hardware up front, then pay for its power. | Nothing up front; you pay per token, so cost grows with use. |
# | **Capability** | Limited by your memory and GPU: the strongest frontier models are far too large for a laptop. | The most capable models available, at any scale, with no hardware of your own. |
# | **Fits** | Sensitive data, offline work, experiments with fine-tuning, high steady volume on hardware you own. | Building agents and products that need the best models, spiky or unknown demand, no GPU at hand. |
#
# Most agents today run on hosted models, and that is what this course uses, with Anthropic's API in
# Python. Neither choice is fundamental: the concepts (messages, roles, tool calls, streaming) look
# the same at every provider, so learning one API well teaches you the others. Libraries such as
# LangChain go one step further and hide several providers behind one interface. Several local
# servers even speak the Anthropic Messages API itself, as you will see below.

# %% [markdown]
# ## Check your setup
#
# Run the next cell first, every time you set up a new machine. It checks your Python and the
# workbook's packages, tells you whether an API key is configured (without ever showing it), and
# which mode the workbook is in. With a key or a base URL set, it also asks that server, with one
# small request each, what it can do: streaming, token counting, tools, structured output, thinking,
# rate-limit headers, batches; a missing feature is one line naming the lessons it affects. (The
# output stored below was made by the tests, in `replay` mode with no key, so it has no such table;
# on your machine, without a `.env`, it says `auto`.)

# %%
from helpers.setup_check import setup_report

print(setup_report())

# %% [markdown]
# **No key? That is fine.** Every lesson runs from recorded replies. The modes, set with
# `WORKBOOK_MODE` in a `.env` file (copy `.env.example`):
#
# | Mode | Without a key | With a key |
# |---|---|---|
# | `auto` (default) | replays recordings; a request never recorded stops with a message, or goes to the local model if one runs (below) | replays what is recorded, calls the API for the rest and saves the reply |
# | `replay` | replays recordings, never touches the network | the same: the key is ignored |
# | `record` | refuses to start | calls the API for every request, saves every reply |
# | `live` | refuses to start | calls the API for every request, saves nothing |

# %% [markdown]
# ## The model, and what a key changes
#
# Every lesson talks to one model, `MODEL`: the workbook's default model, named once in
# `helpers/settings.py` and shown on the last line of the setup check. `WORKBOOK_MODEL` in `.env`
# swaps it; lesson 01 explains model IDs and which ones are current.
#
# With a key, in `auto` mode:
#
# - a request that was recorded still replays, free and at once;
# - any other request (a prompt you changed, another model) goes to the API and is billed to your
#   account, at the prices in `helpers/models.py`;
# - those replies are real model output, so their words, token counts and timings differ from the
#   stored ones, and most of them begin with a `thinking` block before the text (lesson 01).
# <!-- source: helpers/settings.py (DEFAULT_MODEL, Mode), helpers/setup_check.py, helpers/server_check.py, helpers/transport.py -->

# %% [markdown]
# ## Your first call
#
# `get_client()` returns a real `anthropic.Anthropic` client. Its first lines tell you where the
# replies will come from. Lesson 01 takes this call apart piece by piece; for now, just see that one
# goes through. (The outputs stored in these notebooks were made in replay mode, from sample
# recordings.)

# %%
from helpers import MODEL, get_client, reply_text, usage_line
from helpers.notices import say_if_no_thinking

client = get_client("00_where_models_run")

# %%
response = client.messages.create(
    model=MODEL,
    max_tokens=100,
    messages=[{"role": "user", "content": "In one short sentence, confirm that you received this message."}],
)
print(reply_text(response))
print(usage_line(response.usage))
say_if_no_thinking(response, so="its output tokens are the sentence alone, and the note below is not about it")

# %% [markdown]
# More output tokens than that one sentence needs? The model thought before answering, and thinking
# is billed as output too; lesson 01 shows where those tokens went.

# %% [markdown]
# ## The same question, on a small model on your own machine
#
# Here is that question again, sent to **SmolLM2-135M-Instruct**: an open-weight model small enough
# for any laptop's CPU, served by llama.cpp's `llama-server`. `python3 workbook.py local` installs
# and runs both for you (README: "A local model"). Its reply was recorded from it, with the server's
# build and the model's name, and is shown here as recorded: this cell sends nothing.

# %%
from helpers.local_reply import show_local_reply

local = show_local_reply()

# %% [markdown]
# Side by side with the hosted reply above:
#
# - **Speed.** The time shown is the recording machine's CPU computing every token itself; a hosted
#   model runs on a provider's accelerators. Short replies are quick on both; long ones are not on a CPU.
# - **Quality.** A model this small writes fluent sentences, but gets facts wrong, loses the thread of
#   long conversations and ignores parts of an instruction; frontier models are far larger.
# - **Tool calls and thinking.** It answers in prose where a lesson offers a tool, and sends no
#   thinking blocks. The lessons say so in one line where a step needs them, and carry on.
# - **Cost.** No bill per token: the workbook prints no price for it. You pay in your own hardware
#   and power instead.
# - **Privacy.** The prompt never left the machine, and nobody else saw the reply.
#
# **Try it.** Start JupyterLab with `python3 workbook.py lab --local`: the local model runs beside
# it. Change the question in the first call above and run it again: with no API key, a request that
# was never recorded goes to the local model instead of stopping, and the lines above the reply say
# that it is real output from a 135M-parameter model on your machine, not Claude.
# <!-- source: helpers/local_reply.py, workbook_base/local_model.py, recordings/00_local_model.json -->

# %% [markdown]
# ## The same notebooks on a local model
#
# llama.cpp's server, Ollama and vLLM can serve open-weight models behind the **Anthropic Messages
# API**: the same `/v1/messages` endpoint, the same JSON. So the official SDK, and every notebook here, can talk to
# them by changing only where the requests go. Put this in `.env` (Ollama shown; vLLM usually
# listens on `http://localhost:8000`):
#
# ```bash
# ANTHROPIC_BASE_URL=http://localhost:11434   # the server's root: the SDK adds /v1/messages itself
# ANTHROPIC_API_KEY=ollama                    # any non-empty value: the SDK needs one, Ollama ignores it
# WORKBOOK_MODEL=qwen3:8b                     # a model you have pulled with `ollama pull qwen3:8b`
# WORKBOOK_MODE=live                          # call the local model every time and save nothing
# ```
#
# `live` keeps local replies out of `recordings/`. (In `auto` mode they would be saved there, since a
# request naming another model never matches a recording.) Restart the kernel after editing `.env`:
# the workbook reads `MODEL` once, when the kernel starts, so every request and every line it prints
# name the same model.
#
# What changes when you do:
#
# - **Model names.** Local servers use their own names (`qwen3:8b`, `llama3.2:3b`), not Claude IDs.
#   `WORKBOOK_MODEL` swaps the one `MODEL` constant every lesson uses.
# - **Token counts.** Each model family has its own *tokenizer*, the rule that cuts text into tokens
#   (chunks of about three to four characters, lesson 01), so the same text gives different
#   `input_tokens` and `output_tokens`, and some servers only estimate them.
# - **Cost.** There is no price per token: `usage_line()` says the cost is unknown. Where a lesson
#   works out dollars, the default model's prices stand in, and a line says so.
# - **Features.** Compatibility layers implement a subset of the API. Basic calls, system prompts
#   and streaming usually work; prompt caching, some tool features and exact error types may not.
# - **Replies a step needs.** A small model may answer in words where a lesson expects a tool call,
#   write JSON that does not parse, or send no thinking blocks; a server may report no cache fields.
#   Where a reply does not allow a step, the lesson says so in one line and carries on.
# - **Answers.** A small local model answers faster on a good GPU, slower on a laptop CPU, and less
#   well than a frontier model on hard questions. The recorded outputs in these notebooks will not
#   match what you see.

# %% [markdown]
# ## Key takeaways
#
# - A model runs either on hardware you control (open weights: privacy and control, limited by your
#   hardware) or at a provider (the strongest models, pay per token, data leaves your machine).
# - Run the setup check first on any new machine; the workbook runs without a key from recordings.
# - `ANTHROPIC_BASE_URL`, a dummy key and `WORKBOOK_MODEL` point every lesson at a local server that
#   speaks the Messages API; expect other names, token counts, costs and features.
#
# ## Exercises
#
# Each exercise ends with a check that tells you at once whether your answer works.
#
# ### Exercise 1 · Local or hosted?
#
# For each situation, decide where the model should run: fill in `"local"` or `"hosted"`.

# %%
from helpers.checks.lesson00 import SITUATIONS, check_placements

for key, situation in SITUATIONS.items():
    print(f"{key}: {situation}")

placements = {"records": ..., "frontier": ..., "offline": ..., "prototype": ...}  # STUDENT
### BEGIN SOLUTION
placements = {"records": "local", "frontier": "hosted", "offline": "local", "prototype": "hosted"}
### END SOLUTION
check_placements("placements")  # the name in quotes: the check finds it, or says to run the cells above

# %% [markdown]
# ### Exercise 2 · Settings for a local model
#
# You have Ollama running on this machine, on its usual port, and have pulled the model
# `qwen3:8b`. Write the four `.env` settings that point the workbook at it and save nothing, as a
# dict. (The check only reads the dict; nothing is written to `.env`.)

# %%
from helpers.checks.lesson00 import check_local_settings

local_settings = {  # STUDENT
    "ANTHROPIC_BASE_URL": ...,  # STUDENT
    "ANTHROPIC_API_KEY": ...,  # STUDENT
    "WORKBOOK_MODEL": ...,  # STUDENT
    "WORKBOOK_MODE": ...,  # STUDENT
}  # STUDENT
### BEGIN SOLUTION
local_settings = {
    "ANTHROPIC_BASE_URL": "http://localhost:11434",
    "ANTHROPIC_API_KEY": "ollama",
    "WORKBOOK_MODEL": "qwen3:8b",
    "WORKBOOK_MODE": "live",
}
### END SOLUTION
check_local_settings("local_settings")

# %% [markdown]
# ## Your progress
#
# How many of this lesson's exercises pass right now, going by the latest run of each check in
# this session. After fixing one, run its check again, then this cell.

# %%
from helpers.checks import progress

progress("00")
