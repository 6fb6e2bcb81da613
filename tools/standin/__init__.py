"""A small stand-in for the Messages API, served on 127.0.0.1: `with StandinServer() as server:` (from
tools.standin.http) in a test, `python -m tools.standin` from a shell.

It speaks the wire format the SDK expects (JSON, or server-sent events sent with
chunked encoding), answers from the hand-written replies in tools/samples/,
and counts tokens with tools/token_estimate.py. Every reply carries the header
`x-workbook-sample: true`, so whatever is recorded from it is labelled a sample.

Tests use it as "any Anthropic-compatible server"; `instructor.record_lessons --standin`
records the shipped sample recordings from it. It can also fail on demand:

    python -m tools.standin --port 8765 --fail 429,529   # then answers normally
    python -m tools.standin --port 8765 --always 529     # overloaded for ever

With `plain_text=True` (`--plain-text`) it plays a small local model instead: every request gets
the same short plain-text reply, under the model name asked for, streamed or not; no tool calls,
no JSON, no thinking, and a usage with only input_tokens and output_tokens (no cache fields); and
it has no token counting and no Message Batches (404, as such a server would answer).

With `llama_cpp=True` (`--llama-cpp`) it plays llama.cpp's `llama-server` as it answers the SDK (issue 21's
list of differences): plain text as above; usage that reports most of the prompt as cache_read_input_tokens
(its own reuse of the previous prompt, not prompt caching), so input_tokens is often 1; a `model` that is the
GGUF file's path (LLAMA_CPP_MODEL_PATH), whatever was asked; streams without `ping` and replies without a
request-id; error bodies without the top-level "type": "error", with its own types (server_error,
exceed_context_size_error); a 200 for what the API refuses (a history that starts with the assistant, empty
messages, max_tokens 0, no model, no key), and a 500 for a request without messages or with an image.

Degraded shapes, one option each, that a compatible server or proxy can answer in (tests serve each):
`stream_as_json` (a stream request gets the Message as plain JSON), `missing={"count_tokens": 500,
"batches": 501}` (an endpoint answered with that status: 404 and 405 as plain text, 500 as JSON, 501 as an
HTML page), `stream_without_start` (a stream without its message_start), `batch_create_as_message` (creating a batch returns a plain Message) and `flat_usage` (the same
input_tokens for every request).

It plays each model as its record in helpers/models.py says (what the API refuses of it, whether it
thinks by default, the shortest prefix it caches), and keeps no facts of its own. One module per job:
rules.py (what the API refuses, in its words), models.py (reading helpers/models.py), replies.py (the
Messages it answers with, streamed or not), limits.py (rate limits), batches.py (the Message Batches
API), state.py (what a server was told and has seen), http.py (the handler, the server and
StandinServer), __main__.py (the command line).

What else it plays of the real API:

- Rate limits. Each server keeps the limits of a Tier 1 sized organization (the sizes in
  helpers/faults.py) as token buckets, refilled continuously as the API's are, and every reply of
  the Messages endpoint carries the anthropic-ratelimit-* headers: limit, what remains after this
  request, and when the bucket is full again. It reports them without enforcing them, unless
  `enforce_rate_limits=True`: then a request that does not fit gets a 429 with retry-after.
- Time. A stream is paced by `first_token_delay` and `pace` (seconds between text deltas). With
  `json_latency=True`, a reply without streaming arrives when the same reply streamed would have
  ended: after first_token_delay (spread by the request, from half to three times) + pace x its
  number of deltas. Both are 0 by default (tests stay fast).
- The Message Batches API (/v1/messages/batches): create, retrieve, results, list, cancel and
  delete, as the SDK's `client.messages.batches` calls them. A batch is `in_progress` for the first
  `batch_polls` retrieves, then `ended`; its results (JSON Lines, `application/x-jsonl`) are the
  Messages the stand-in would answer each request with, or `errored` for a request the API would
  refuse (its params are validated only then, as the API documents) or that no sample answers.
"""
