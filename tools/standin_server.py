"""A small stand-in for the Messages API, served on 127.0.0.1.

It speaks the wire format the SDK expects (JSON, or server-sent events sent with
chunked encoding), answers from the hand-written replies in tools/samples/,
and counts tokens with tools/token_estimate.py. Every reply carries the header
`x-workbook-sample: true`, so whatever is recorded from it is labelled a sample.

Tests use it as "any Anthropic-compatible server"; tools/make_samples.py records
the shipped sample recordings from it. It can also fail on demand:

    python -m tools.standin_server --port 8765 --fail 429,529   # then answers normally
    python -m tools.standin_server --port 8765 --always 529     # overloaded for ever

With `plain_text=True` (`--plain-text`) it plays a small local model instead: every request gets
the same short plain-text reply, under the model name asked for, streamed or not; no tool calls,
no JSON, no thinking, and a usage with only input_tokens and output_tokens (no cache fields); and
it has no token counting and no Message Batches (404, as such a server would answer).

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

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import math
import re
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from helpers import faults, wire
from tools import token_estimate
from tools.samples import reply_for

# The failures it can answer with: status, error type and message as helpers.wire has them.
ERRORS: dict[str, tuple[int, str, str, dict[str, str]]] = {
    str(status): (status, *wire.ERRORS[status], {"retry-after": "1"} if status == 429 else {})
    for status in (400, 401, 404, 429, 500, 529)
}
FAULTS = (*ERRORS, "timeout")

# The shortest prompt prefix each model family caches (source: the prompt caching docs,
# https://platform.claude.com/docs/en/build-with-claude/prompt-caching); 512 on the 5.5 models.
MIN_CACHEABLE_TOKENS = {"claude-sonnet-5-5": 512, "claude-opus-5-5": 512, "claude-haiku-5-5": 512}
DEFAULT_MIN_CACHEABLE_TOKENS = 1024

# Models that think by default (adaptive thinking), and show the thinking text only when asked:
# their replies start with a thinking block whose text is omitted but whose signature is there.
# Source: the models' overview pages and anthropic/types/thinking_config_adaptive_param.py.
ADAPTIVE_BY_DEFAULT = ("claude-sonnet-5", "claude-opus-5", "claude-haiku-5", "claude-fable-5", "claude-mythos-5")
# The 5.5 models refuse forced tool use (tool_choice "any" or "tool").
NO_FORCED_TOOLS = ("claude-sonnet-5-5", "claude-opus-5-5", "claude-haiku-5-5")
SAMPLING_PARAMETERS = ("temperature", "top_p", "top_k")

# What the stand-in says to everything in plain-text mode: no JSON, no tool call.
PLAIN_TEXT_REPLY = "Sure. Here is a short answer in plain words, as a small local model might give it."

# The Message Batches API. Source: anthropic/resources/messages/batches.py and
# anthropic/types/messages/message_batch*.py (the shapes); the batch-processing guide,
# https://platform.claude.com/docs/en/build-with-claude/batch-processing (a batch expires 24 hours
# after it is created; "Validation of the params object for each message request is performed
# asynchronously, and validation errors are returned when processing of the entire batch has ended").
BATCHES_PATH = "/v1/messages/batches"
BATCH_PATH = re.compile(r"/v1/messages/batches/(?P<id>[^/]+)(?P<action>/results|/cancel)?$")
BATCH_LIFETIME = timedelta(hours=24)
CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # the API reference's pattern for custom_id
# What the results endpoint answers with: the API sends this content type (it sent none before a fix;
# https://github.com/anthropics/anthropic-sdk-ruby/issues/208), and names the file it is.
RESULTS_CONTENT_TYPE = "application/x-jsonl"
DEFAULT_BATCH_POLLS = 2


def accepts_mid_conversation_system(model: str) -> bool:
    """Models from Claude Opus 4.8 on take a system message inside `messages` (never as the first)."""
    return model.startswith(ADAPTIVE_BY_DEFAULT) or model == "claude-opus-4-8"


def thinks(body: dict[str, Any]) -> bool:
    """Whether the model thinks before answering this request. At effort "low" the stand-in skips
    thinking, as the effort docs say a model may on a simple request."""
    thinking = body.get("thinking") or {}
    if thinking.get("type") == "disabled" or (body.get("output_config") or {}).get("effort") == "low":
        return False
    return str(body["model"]).startswith(ADAPTIVE_BY_DEFAULT) or thinking.get("type") in ("adaptive", "enabled")


def _digest(value: Any, size: int = 24) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:size]


def validate(body: Any) -> str | None:
    """The first problem the real API would reject this request for, or None."""
    if not isinstance(body, dict):
        return "The request body is not valid JSON."
    for name in ("model", "max_tokens", "messages"):
        if name not in body:
            return f"{name}: Field required"
    if not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1:
        return "max_tokens: Input should be greater than or equal to 1"
    messages = body["messages"]
    if not isinstance(messages, list) or not messages:
        return "messages: at least one message is required"
    for index, message in enumerate(messages):
        role = message.get("role")
        if role == "system" and index > 0 and accepts_mid_conversation_system(str(body["model"])):
            continue
        if role == "system":
            if index == 0:
                return (
                    "messages.0.role: the first message cannot be a system message; use the top-level system parameter"
                )
            return f"messages.{index}.role: role 'system' is not supported on this model"
        if role not in ("user", "assistant"):
            return f"messages.{index}.role: Input should be 'user', 'assistant' or 'system'"
        content = message.get("content")
        is_last = index == len(messages) - 1
        if (content == "" or content == []) and not (is_last and role == "assistant"):
            return (
                f"messages.{index}: all messages must have non-empty content except for "
                "the optional final assistant message"
            )
    if messages[0].get("role") != "user":
        return 'messages: first message must use the "user" role'
    if messages[-1].get("role") == "assistant" and str(body["model"]).startswith("claude-"):
        # Claude's 4.6 and later models refuse a prefilled assistant turn at the end.
        return "This model does not support assistant message prefill. The conversation must end with a user message."
    model = str(body["model"])
    if model.startswith(ADAPTIVE_BY_DEFAULT):
        for name in SAMPLING_PARAMETERS:
            if name in body:
                return f"{name}: sampling parameters are not supported on {model}"
    uses_tools = any(
        isinstance(block, dict) and block.get("type") in ("tool_use", "tool_result")
        for message in messages
        if isinstance(message.get("content"), list)
        for block in message["content"]
    )
    if uses_tools and not body.get("tools"):
        return "Requests which include `tool_use` or `tool_result` blocks must define tools."
    choice = (body.get("tool_choice") or {}).get("type")
    if model in NO_FORCED_TOOLS and choice in ("any", "tool"):
        return f"tool_choice: forced tool use (type {choice!r}) is not supported on {model}; use 'auto'"
    return None


def _cache_split(body: dict[str, Any]) -> tuple[int, str]:
    """Tokens of the prompt prefix up to the last block marked cache_control (0 if none), and the
    cache's lifetime ("5m" or "1h"). A top-level cache_control caches everything up to the last message."""
    prefix: dict[str, Any] = {"messages": []}
    marked, ttl = 0, "5m"
    system = body.get("system")
    if isinstance(system, list):
        for index, block in enumerate(system):
            if block.get("cache_control"):
                prefix["system"] = system[: index + 1]
                marked = token_estimate.input_tokens(prefix) - token_estimate.REQUEST_FRAMING
                ttl = block["cache_control"].get("ttl", "5m")
    for number, message in enumerate(body["messages"]):
        content = message.get("content")
        marks = (
            [
                block["cache_control"]
                for block in content or []
                if isinstance(block, dict) and block.get("cache_control")
            ]
            if isinstance(content, list)
            else []
        )
        if marks or (body.get("cache_control") and number == len(body["messages"]) - 1):
            prefix["messages"] = body["messages"][: number + 1]
            prefix["system"] = system
            marked = token_estimate.input_tokens(prefix) - token_estimate.REQUEST_FRAMING
            ttl = (marks[-1] if marks else body["cache_control"]).get("ttl", "5m")
    return marked, ttl


@dataclass
class Bucket:
    """One rate limit as the API keeps it: a token bucket that holds `per_minute` and refills
    continuously, at per_minute / 60 a second. `used` is what is missing from a full bucket."""

    per_minute: int
    used: float = 0.0
    at: float | None = None  # when `used` was last brought up to date (time.time())

    def _refill(self, now: float) -> None:
        if self.at is not None:
            self.used = max(0.0, self.used - (now - self.at) * self.per_minute / 60)
        self.at = now

    def take(self, amount: float, now: float) -> None:
        self._refill(now)
        self.used += amount

    def wait_for(self, amount: float, now: float) -> float:
        """Seconds until `amount` fits (0 when it does now; an amount larger than the bucket waits for it empty)."""
        self._refill(now)
        excess = self.used + min(amount, self.per_minute) - self.per_minute
        return max(0.0, excess * 60 / self.per_minute)

    def report(self, now: float) -> wire.RateLimit:
        """The limit, what remains, and when the bucket is full again (in whole seconds, rounded up)."""
        self._refill(now)
        full_at = datetime.fromtimestamp(math.ceil(now + self.used * 60 / self.per_minute), UTC)
        return wire.RateLimit(self.per_minute, math.floor(self.per_minute - self.used), full_at)


@dataclass
class RateLimits:
    """A server's limits, sized like a Tier 1 organization's (helpers/faults.py). Only uncached input
    counts against the input limit (input_tokens + cache_creation_input_tokens), as the API documents
    for most models (https://platform.claude.com/docs/en/api/rate-limits)."""

    requests: Bucket = field(default_factory=lambda: Bucket(faults.REQUESTS_PER_MINUTE))
    input_tokens: Bucket = field(default_factory=lambda: Bucket(faults.INPUT_TOKENS_PER_MINUTE))
    output_tokens: Bucket = field(default_factory=lambda: Bucket(faults.OUTPUT_TOKENS_PER_MINUTE))

    def wait_for(self, input_tokens: int, now: float) -> float:
        """Seconds until a request with `input_tokens` fits every limit (0: it fits now)."""
        return max(
            self.requests.wait_for(1, now),
            self.input_tokens.wait_for(input_tokens, now),
            self.output_tokens.wait_for(1, now),
        )

    def take(self, now: float, *, requests: int = 0, usage: dict[str, Any] | None = None) -> None:
        self.requests.take(requests, now)
        if usage is not None:
            self.input_tokens.take(usage["input_tokens"] + (usage.get("cache_creation_input_tokens") or 0), now)
            self.output_tokens.take(usage["output_tokens"], now)

    def headers(self, now: float) -> dict[str, str]:
        return wire.rate_limit_headers(
            {
                "requests": self.requests.report(now),
                "input-tokens": self.input_tokens.report(now),
                "output-tokens": self.output_tokens.report(now),
            }
        )


@dataclass
class Batch:
    """A Message Batch the server was sent: its requests, and how far its processing has come."""

    id: str
    requests: list[dict[str, Any]]
    created_at: datetime
    retrieves: int = 0
    cancel_initiated_at: datetime | None = None
    ended_at: datetime | None = None
    results: list[dict[str, Any]] | None = None  # a MessageBatchIndividualResponse per request, once ended

    @property
    def status(self) -> str:
        if self.ended_at is not None:
            return "ended"
        return "canceling" if self.cancel_initiated_at is not None else "in_progress"

    def to_json(self, results_url: str) -> dict[str, Any]:
        """The MessageBatch the API answers with; `results_url` is given only once processing has ended."""
        counts = dict.fromkeys(("processing", "succeeded", "errored", "canceled", "expired"), 0)
        if self.results is None:
            counts["processing"] = len(self.requests)
        else:
            for entry in self.results:
                counts[entry["result"]["type"]] += 1
        return {
            "id": self.id,
            "type": "message_batch",
            "processing_status": self.status,
            "request_counts": counts,
            "ended_at": _timestamp(self.ended_at),
            "created_at": _timestamp(self.created_at),
            "expires_at": _timestamp(self.created_at + BATCH_LIFETIME),
            "archived_at": None,
            "cancel_initiated_at": _timestamp(self.cancel_initiated_at),
            "results_url": results_url if self.results is not None else None,
        }


def _timestamp(moment: datetime | None) -> str | None:
    """A time as the Batches API writes it: RFC 3339, UTC, to the microsecond."""
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass
class StandinState:
    """What the server was told to do, and what it has seen."""

    failures: list[str] = field(default_factory=list)
    always: str | None = None
    pace: float = 0.0  # seconds between streamed chunks; 0 sends them at once
    first_token_delay: float = 0.0
    # True: a reply without streaming waits first_token_delay + pace x the deltas it would stream as.
    json_latency: bool = False
    hang_seconds: float = 5.0
    mark_as_sample: bool = True  # False plays a real server, whose replies are recorded as `recorded`
    plain_text: bool = False  # True plays a small local model: plain text only (see the module's docstring)
    enforce_rate_limits: bool = False  # True: a request that does not fit the rate limits gets a 429
    batch_polls: int = DEFAULT_BATCH_POLLS  # retrieves that find a batch still in progress; the next finds it ended
    requests: list[dict[str, Any]] = field(default_factory=list)
    cached_prefixes: set[str] = field(default_factory=set)
    rate_limits: RateLimits = field(default_factory=RateLimits)
    batches: dict[str, Batch] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    batch_lock: threading.Lock = field(default_factory=threading.Lock)  # held while a batch's results are made

    def next_fault(self) -> str | None:
        with self.lock:
            if self.failures:
                return self.failures.pop(0)
            return self.always

    def limit_headers(self, now: float) -> dict[str, str]:
        """The anthropic-ratelimit-* headers of a reply; none from a local model's server, which has no limits."""
        return {} if self.plain_text else self.rate_limits.headers(now)


def plain_text_message(body: dict[str, Any]) -> dict[str, Any]:
    """A small local model's reply: PLAIN_TEXT_REPLY (cut at max_tokens), usage without cache fields."""
    text, stop_reason = PLAIN_TEXT_REPLY, "end_turn"
    if token_estimate.text_tokens(text) > body["max_tokens"]:
        text, stop_reason = text[: int(body["max_tokens"] * token_estimate.CHARS_PER_TOKEN)], "max_tokens"
    return {
        "id": f"msg_plain_{_digest(body)}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": token_estimate.input_tokens(body), "output_tokens": token_estimate.text_tokens(text)},
    }


def build_message(body: dict[str, Any], state: StandinState) -> dict[str, Any]:
    """The Message the stand-in answers `body` with, usage included."""
    if state.plain_text:
        return plain_text_message(body)
    reply = reply_for(body)
    seed = _digest(body, 20)
    blocks = reply.content_blocks(seed)
    stop_reason = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    if thinks(body):
        # The thinking text is omitted, as these models do by default; the signature lets it be passed back.
        signature = base64.b64encode(f"workbook-sample-signature:{seed}".encode()).decode()
        blocks.insert(0, {"type": "thinking", "thinking": "", "signature": signature})

    full_tokens = token_estimate.output_tokens(blocks)
    thinking = token_estimate.thinking_tokens(blocks)
    text_at = next((i for i, block in enumerate(blocks) if block["type"] == "text"), None)
    if full_tokens > body["max_tokens"] and text_at is not None:
        # Thinking comes first and counts against max_tokens: what is left of it goes to the text.
        thinking = min(thinking, body["max_tokens"])
        cut = int((body["max_tokens"] - thinking) * token_estimate.CHARS_PER_TOKEN)
        text = [{"type": "text", "text": blocks[text_at]["text"][:cut]}] if cut > 0 else []
        blocks = [*blocks[:text_at], *text]
        stop_reason = "max_tokens"
        full_tokens = body["max_tokens"]

    usage: dict[str, Any] = {
        "input_tokens": token_estimate.input_tokens(body),
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
        "output_tokens": full_tokens,
        "service_tier": "standard",
    }
    if thinking:
        usage["output_tokens_details"] = {"thinking_tokens": thinking}
    cached, ttl = _cache_split(body)
    if cached >= MIN_CACHEABLE_TOKENS.get(str(body["model"]), DEFAULT_MIN_CACHEABLE_TOKENS):
        prefix_key = _digest([body.get("system"), body["messages"][:1], body.get("tools")])
        with state.lock:
            hit = prefix_key in state.cached_prefixes
            state.cached_prefixes.add(prefix_key)
        if hit:
            usage["cache_read_input_tokens"] = cached
        else:
            usage["cache_creation_input_tokens"] = cached
            usage["cache_creation"][f"ephemeral_{ttl}_input_tokens"] = cached
        usage["input_tokens"] -= cached

    if _json_schema(body) is not None and stop_reason == "end_turn":
        _check_structured(reply.text, body)

    return {
        "id": f"msg_sample_{_digest(body)}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


def _json_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema the request asks the reply's text to follow (output_config.format), or None."""
    output_format = (body.get("output_config") or {}).get("format") or {}
    return output_format.get("schema") if output_format.get("type") == "json_schema" else None


def _check_structured(text: str, body: dict[str, Any]) -> None:
    """The API guarantees that a structured reply parses and has the schema's required keys: a sample
    that does not would teach something false, so the stand-in refuses to serve it."""
    schema = _json_schema(body) or {}
    try:
        data = json.loads(text)
    except ValueError as error:
        raise SampleError(f"the sample reply to a structured-output request is not JSON ({error})") from None
    missing = [key for key in schema.get("required", []) if not isinstance(data, dict) or key not in data]
    if missing:
        raise SampleError(f"the sample reply to a structured-output request lacks the required keys {missing}")


class SampleError(Exception):
    """A hand-written sample does not fit its request as the API's reply would: fix tools/samples/."""


def stream_events(message: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The Message as the API streams it: message_start ... message_stop."""
    for event in wire.message_events(message):
        yield event["event"], event["data"]


def batch_problem(body: Any) -> str | None:
    """What the API refuses a batch for at once (400), naming the request; None when it takes it.
    Each request's params are validated later, when the batch is processed (see batch_result)."""
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        return "requests: Field required"
    if not body["requests"]:
        return "requests: List should have at least 1 item after validation, not 0"
    seen: set[str] = set()
    for index, item in enumerate(body["requests"]):
        if not isinstance(item, dict) or "custom_id" not in item:
            return f"requests.{index}.custom_id: Field required"
        custom_id = item["custom_id"]
        if not isinstance(custom_id, str) or not CUSTOM_ID.match(custom_id):
            return f"requests.{index}.custom_id: {custom_id!r} should match pattern '{CUSTOM_ID.pattern}'"
        if custom_id in seen:
            return f"requests.{index}.custom_id: {custom_id!r} is used by another request; each must be unique"
        seen.add(custom_id)
        if not isinstance(item.get("params"), dict):
            return f"requests.{index}.params (custom_id {custom_id!r}): Input should be a valid dictionary"
    return None


def batch_result(batch_id: str, item: dict[str, Any], state: StandinState) -> dict[str, Any]:
    """One line of a batch's results: the Message the stand-in answers the request's params with, or
    `errored` with the error the Messages API would send for them (or for a reply no sample fits)."""
    request_id = f"req_sample_{_digest([batch_id, item['custom_id']], 20)}"
    params = item["params"]
    problem = validate(params)
    if problem is None and params.get("stream"):
        problem = "stream: streaming is not supported in a Message Batch"
    if problem is not None:
        error = wire.error_body("invalid_request_error", problem, request_id)
        return {"custom_id": item["custom_id"], "result": {"type": "errored", "error": error}}
    try:
        message = build_message(params, state)
    except SampleError as failure:
        error = wire.error_body("api_error", f"stand-in: {failure}", request_id)
        return {"custom_id": item["custom_id"], "result": {"type": "errored", "error": error}}
    return {"custom_id": item["custom_id"], "result": {"type": "succeeded", "message": message}}


def end_batch(batch: Batch, state: StandinState) -> None:
    """End the batch's processing: every request answered, or every one canceled if cancel was asked."""
    if batch.cancel_initiated_at is not None:
        batch.results = [{"custom_id": item["custom_id"], "result": {"type": "canceled"}} for item in batch.requests]
    else:
        batch.results = [batch_result(batch.id, item, state) for item in batch.requests]
    batch.ended_at = datetime.now(UTC)


def json_reply_delay(message: dict[str, Any], state: StandinState, body: Any = None) -> float:
    """How long a reply without streaming takes with `json_latency`: as long as the same reply streamed,
    its wait for the first token spread from half to three times first_token_delay, as a busy server's
    varies; the spread is fixed by the request (its digest), so a re-record keeps each request's time."""
    if not state.json_latency:
        return 0.0
    deltas = sum(1 for name, _ in stream_events(message) if name == "content_block_delta")
    spread = 0.5 + 2.5 * int(_digest(body, 8), 16) / 16**8
    return state.first_token_delay * spread + state.pace * deltas


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read their own output
        pass

    def _send(self, status: int, chunks: Iterable[bytes], content_type: str, headers: dict[str, str]) -> None:
        """Send with chunked transfer encoding, as the real API does."""
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("transfer-encoding", "chunked")
        if self.server.state.mark_as_sample:
            self.send_header("x-workbook-sample", "true")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
        self._send(status, [json.dumps(payload).encode()], "application/json", headers)

    def _error(self, status: int, kind: str, message: str, headers: dict[str, str]) -> None:
        self._send_json(status, wire.error_body(kind, message, headers["request-id"]), headers)

    # --- what every request goes through ---------------------------------------------------------

    def _arrived(self) -> tuple[Any, dict[str, str]]:
        """The request's JSON body (None when it has none or it is not JSON), noted in the state, and
        the headers every reply to it carries (its request id)."""
        state = self.server.state
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with state.lock:
            noted = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
            state.requests.append(noted)
            number = len(state.requests)
        return body, {"request-id": f"req_sample_{_digest([body, number], 20)}"}

    def _turned_away(self, headers: dict[str, str], *, limits: bool = False) -> bool:
        """Answer for the endpoint when the request has no key or meets a fault (after hanging, for a
        timeout, without an answer); True when it was answered so. With `limits`, a fault's reply
        carries the rate-limit headers too: a 429 those of a spent request limit (helpers.faults)."""
        state = self.server.state
        if not (self.headers.get("authorization") or self.headers.get("x-api-key")):
            self._error(401, "authentication_error", "x-api-key header is required", headers)
            return True
        fault = state.next_fault()
        if fault == "timeout":
            time.sleep(state.hang_seconds)
            return True
        if fault is None:
            return False
        status, kind, message, extra = ERRORS[fault]
        if limits:
            with state.lock:
                extra = {**state.limit_headers(time.time()), **extra}
            if status == 429:
                extra.update(faults.too_many_requests_headers(float(extra["retry-after"])))
        self._error(status, kind, message, {**headers, **extra})
        return True

    def _route(self) -> tuple[str, re.Match[str] | None]:
        path = urlsplit(self.path).path.rstrip("/")
        if path.endswith("/v1/messages/count_tokens"):
            return "count_tokens", None
        if path.endswith("/v1/messages"):
            return "messages", None
        if path.endswith(BATCHES_PATH):
            return "batches", None
        found = BATCH_PATH.search(path)
        return ("batch", found) if found else ("unknown", None)

    def _handle(self, method: str) -> None:
        state = self.server.state
        body, headers = self._arrived()
        endpoint, found = self._route()
        allowed = {"count_tokens": ("POST",), "messages": ("POST",), "batches": ("POST", "GET")}
        if endpoint == "batch":
            action = found["action"] if found else None
            allowed["batch"] = ("POST",) if action == "/cancel" else ("GET",) if action else ("GET", "DELETE")
        # A local model's server has neither token counting nor batches.
        local_only = state.plain_text and endpoint not in ("messages",)
        if endpoint == "unknown" or local_only or method not in allowed.get(endpoint, ()):
            self._error(404, "not_found_error", f"Not found: {method} {self.path}", headers)
            return
        if self._turned_away(headers, limits=endpoint == "messages"):
            return
        if endpoint == "count_tokens":
            self._count_tokens(body, headers)
        elif endpoint == "messages":
            self._messages(body, headers)
        elif endpoint == "batches" and method == "POST":
            self._create_batch(body, headers)
        elif endpoint == "batches":
            self._list_batches(headers)
        elif found is not None:
            self._batch(method, found["id"], found["action"], headers)

    def do_POST(self) -> None:
        self._handle("POST")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # --- the Messages API ----------------------------------------------------------------------------

    def _count_tokens(self, body: Any, headers: dict[str, str]) -> None:
        problem = validate({**body, "max_tokens": 1} if isinstance(body, dict) else body)
        if problem is not None:
            self._error(400, "invalid_request_error", problem, headers)
            return
        # count_tokens takes no max_tokens, and answers with the count alone
        self._send_json(200, {"input_tokens": token_estimate.input_tokens(body)}, headers)

    def _messages(self, body: Any, headers: dict[str, str]) -> None:
        state = self.server.state
        limits = state.rate_limits
        problem = validate(body)
        if problem is not None:
            with state.lock:
                now = time.time()
                limits.take(now, requests=1)
                headers = {**headers, **state.limit_headers(now)}
            self._error(400, "invalid_request_error", problem, headers)
            return
        if state.enforce_rate_limits:
            with state.lock:
                now = time.time()
                wait = limits.wait_for(token_estimate.input_tokens(body), now)
                refused = {**headers, **state.limit_headers(now), "retry-after": str(max(1, math.ceil(wait)))}
            if wait > 0:
                self._error(429, "rate_limit_error", wire.ERRORS[429][1], refused)
                return
        try:
            message_body = build_message(body, state)
        except SampleError as error:
            self._error(500, "api_error", f"stand-in: {error}", headers)
            return
        with state.lock:
            now = time.time()
            limits.take(now, requests=1, usage=message_body["usage"])
            headers = {**headers, **state.limit_headers(now)}
        if not body.get("stream"):
            time.sleep(json_reply_delay(message_body, state, body))
            self._send_json(200, message_body, headers)
            return

        def paced() -> Iterator[bytes]:
            for number, (name, data) in enumerate(stream_events(message_body)):
                if number == 0:
                    time.sleep(state.first_token_delay)
                elif name == "content_block_delta":
                    time.sleep(state.pace)
                yield f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()

        self._send(200, paced(), "text/event-stream; charset=utf-8", {**headers, "cache-control": "no-cache"})

    # --- the Message Batches API ---------------------------------------------------------------------

    def _results_url(self, batch_id: str) -> str:
        """Where a batch's results are: on this server, whatever gateway path the client came through."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{BATCHES_PATH}/{batch_id}/results"

    def _create_batch(self, body: Any, headers: dict[str, str]) -> None:
        state = self.server.state
        problem = batch_problem(body)
        if problem is not None:
            self._error(400, "invalid_request_error", problem, headers)
            return
        requests = body["requests"]
        with state.batch_lock:
            # The same requests sent again make another batch, with another id: deterministic, in order.
            again = sum(1 for batch in state.batches.values() if batch.requests == requests)
            batch = Batch(f"msgbatch_sample_{_digest([requests, again])}", requests, datetime.now(UTC))
            state.batches[batch.id] = batch
            reply = batch.to_json(self._results_url(batch.id))
        self._send_json(200, reply, headers)

    def _list_batches(self, headers: dict[str, str]) -> None:
        """The batches, most recent first, a page at a time (limit, after_id, before_id)."""
        state = self.server.state
        query = {name: values[-1] for name, values in parse_qs(urlsplit(self.path).query).items()}
        with state.batch_lock:
            batches = [batch.to_json(self._results_url(batch.id)) for batch in reversed(state.batches.values())]
        ids = [batch["id"] for batch in batches]
        if query.get("after_id") in ids:
            batches = batches[ids.index(query["after_id"]) + 1 :]
        elif query.get("before_id") in ids:
            batches = batches[: ids.index(query["before_id"])]
        limit = max(1, min(1000, int(query.get("limit") or 20)))
        page = batches[-limit:] if "before_id" in query else batches[:limit]
        first, last = (page[0]["id"], page[-1]["id"]) if page else (None, None)
        reply = {"data": page, "has_more": len(page) < len(batches), "first_id": first, "last_id": last}
        self._send_json(200, reply, headers)

    def _batch(self, method: str, batch_id: str, action: str | None, headers: dict[str, str]) -> None:
        state = self.server.state
        with state.batch_lock:
            batch = state.batches.get(batch_id)
            if batch is None:
                self._error(404, "not_found_error", f"message_batch {batch_id!r} not found", headers)
                return
            if method == "DELETE":
                if batch.ended_at is None:
                    message = f"{batch_id} is still processing: cancel it, and delete it once it has ended"
                    self._error(400, "invalid_request_error", message, headers)
                    return
                del state.batches[batch_id]
                self._send_json(200, {"id": batch_id, "type": "message_batch_deleted"}, headers)
                return
            if action == "/results":
                if batch.results is None:
                    message = f"the results of {batch_id} are not available: its processing has not ended"
                    self._error(404, "not_found_error", message, headers)
                    return
                lines = b"".join(json.dumps(entry).encode() + b"\n" for entry in batch.results)
                disposition = f"attachment; filename*=utf-8''{batch_id}_results.jsonl"
                self._send(200, [lines], RESULTS_CONTENT_TYPE, {**headers, "content-disposition": disposition})
                return
            if action == "/cancel":
                if batch.ended_at is None and batch.cancel_initiated_at is None:
                    batch.cancel_initiated_at = datetime.now(UTC)
            else:  # a retrieve: the one after `batch_polls` of them finds the batch ended
                batch.retrieves += 1
                if batch.ended_at is None and (batch.retrieves > state.batch_polls or batch.cancel_initiated_at):
                    end_batch(batch, state)
            reply = batch.to_json(self._results_url(batch_id))
        self._send_json(200, reply, headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: StandinState


class StandinServer:
    """Run the stand-in in a background thread: `with StandinServer() as server: server.url`."""

    def __init__(self, port: int = 0, **state: Any) -> None:
        self.httpd = _Server(("127.0.0.1", port), _Handler)
        self.httpd.state = StandinState(**state)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def state(self) -> StandinState:
        return self.httpd.state

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> StandinServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--fail", default="", help=f"faults to answer first, comma-separated: {', '.join(FAULTS)}")
    parser.add_argument("--always", choices=FAULTS, help="answer every request with this fault")
    parser.add_argument("--pace", type=float, default=0.0, help="seconds between streamed chunks")
    parser.add_argument("--first-token-delay", type=float, default=0.0, help="seconds before a stream's first event")
    parser.add_argument("--json-latency", action="store_true", help="replies without streaming take as long too")
    parser.add_argument("--plain-text", action="store_true", help="play a small local model: plain text only")
    parser.add_argument("--enforce-rate-limits", action="store_true", help="answer 429 past the rate limits")
    parser.add_argument(
        "--batch-polls", type=int, default=DEFAULT_BATCH_POLLS, help="retrieves that find a batch in progress"
    )
    args = parser.parse_args()
    failures = [fault for fault in args.fail.split(",") if fault]
    unknown = [fault for fault in failures if fault not in FAULTS]
    if unknown:
        parser.error(f"unknown fault(s) {unknown}; use {', '.join(FAULTS)}")
    options = {
        "failures": failures,
        "always": args.always,
        "pace": args.pace,
        "first_token_delay": args.first_token_delay,
        "json_latency": args.json_latency,
        "plain_text": args.plain_text,
        "enforce_rate_limits": args.enforce_rate_limits,
        "batch_polls": args.batch_polls,
    }
    with StandinServer(args.port, **options) as server:
        print(f"stand-in Messages API at {server.url} (Ctrl-C to stop)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.thread.join()


if __name__ == "__main__":
    main()
