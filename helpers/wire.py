"""The Messages API's wire format, in one place: error bodies, server-sent events, messages as streams.

Everything else that needs to know what the API sends (the recorder, the fault injector, the
stand-in server, the exercise checks) imports it from here. Where the SDK already knows a
piece of the format, this module asks the SDK: events are decoded by `anthropic.Stream.raw_events`,
and a stream is folded back into a Message by replaying it through `messages.stream()`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, NamedTuple

import anthropic
import httpx2
from anthropic.types import Message

Json = dict[str, Any]

# The content blocks that hold a model's thinking: a thinking block, or one the API encrypted.
THINKING_TYPES = ("thinking", "redacted_thinking")

# Each error status the API documents, with its error type and a message of the documented kind.
ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "messages: at least one message is required"),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API."),
    403: ("permission_error", "Your API key does not have permission to use the specified resource."),
    404: ("not_found_error", "The requested resource could not be found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: (
        "rate_limit_error",
        "This request would exceed the rate limit for your organization of 50 requests per minute.",
    ),
    500: ("api_error", "Internal server error"),
    504: ("timeout_error", "Request timed out"),
    529: ("overloaded_error", "Overloaded"),
}


def error_body(kind: str, message: str, request_id: str | None = None) -> Json:
    """The JSON body of an error response (and the data of an `error` event without request_id)."""
    body: Json = {"type": "error", "error": {"type": kind, "message": message}}
    if request_id is not None:
        body["request_id"] = request_id
    return body


def _error_detail(error: BaseException) -> Json:
    body = getattr(error, "body", None)
    if not isinstance(body, dict):
        return {}
    inner = body.get("error")
    return inner if isinstance(inner, dict) else body


def error_type(error: BaseException) -> str | None:
    """The API's error type ('rate_limit_error', 'overloaded_error', ...) carried by an SDK error, if any."""
    kind = _error_detail(error).get("type")
    return kind if isinstance(kind, str) else None


def error_message(error: BaseException) -> str | None:
    """The API's own message inside an SDK error's body, if any."""
    message = _error_detail(error).get("message")
    return message if isinstance(message, str) else None


# --- rate-limit headers --------------------------------------------------------
# Every reply of the Messages API, successes and 429s alike, says where the organization stands, in
# headers named anthropic-ratelimit-<kind>-<part>: for requests, input tokens, output tokens, and
# tokens (input and output together); the limit, what remains, and when the bucket will be fully
# replenished (an RFC 3339 time). The API keeps each limit as a token bucket, refilled continuously.
# Source: https://platform.claude.com/docs/en/api/rate-limits ("Response headers": the tokens-*
# headers hold the sum of input and output tokens when no Workspace limit applies; "token bucket").
RATE_LIMIT_PREFIX = "anthropic-ratelimit-"
RATE_LIMIT_KINDS = ("requests", "tokens", "input-tokens", "output-tokens")
RATE_LIMIT_PARTS = ("limit", "remaining", "reset")


class RateLimit(NamedTuple):
    """One limit as the headers report it: its size, what remains, and when it is full again."""

    limit: int
    remaining: int
    reset: datetime


def rfc3339(moment: datetime) -> str:
    """A time as the rate-limit headers write it: UTC, whole seconds (2026-01-31T12:00:00Z)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rate_limit_headers(limits: Mapping[str, RateLimit]) -> dict[str, str]:
    """The anthropic-ratelimit-* headers for `limits`, by kind (see RATE_LIMIT_KINDS). When "tokens" is
    not given but input and output tokens are, it is their sum, fully replenished when both are."""
    limits = dict(limits)
    if "tokens" not in limits and {"input-tokens", "output-tokens"} <= set(limits):
        given, taken = limits["input-tokens"], limits["output-tokens"]
        limits["tokens"] = RateLimit(
            given.limit + taken.limit, given.remaining + taken.remaining, max(given.reset, taken.reset)
        )
    headers = {}
    for kind in RATE_LIMIT_KINDS:
        if kind in limits:
            limit, remaining, reset = limits[kind]
            headers[f"{RATE_LIMIT_PREFIX}{kind}-limit"] = str(limit)
            headers[f"{RATE_LIMIT_PREFIX}{kind}-remaining"] = str(max(0, math.floor(remaining)))
            headers[f"{RATE_LIMIT_PREFIX}{kind}-reset"] = rfc3339(reset)
    return headers


# --- JSON text -----------------------------------------------------------------

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def to_json(value: Any, *, indent: int | None = None) -> str:
    """JSON text that can always be written as UTF-8: non-ASCII kept readable, lone surrogates escaped.

    A stream can split an emoji's surrogate pair across two events; each half is then a string
    with a lone surrogate, which UTF-8 cannot encode but a JSON escape (\\ud83d) can.
    """
    separators = None if indent is not None else (",", ":")
    text = json.dumps(value, ensure_ascii=False, indent=indent, separators=separators)
    return _LONE_SURROGATE.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def parse_json(text: str) -> tuple[bool, Any]:
    """(True, value) when `text` is JSON, else (False, text)."""
    try:
        return True, json.loads(text)
    except ValueError:
        return False, text


# --- server-sent events --------------------------------------------------------
# An event is stored as {"event": name or None, "data": <the JSON object it carried>}, or with
# "text" instead of "data" when what it carried is anything else. "id" and "retry" appear only when sent.


def encode_event(event: Json) -> bytes:
    """One event in canonical SSE framing; the SDK decodes it back to the same event."""
    lines = []
    if event.get("event") is not None:
        lines.append(f"event: {event['event']}")
    data = event["text"] if "text" in event else to_json(event.get("data"))
    lines += [f"data: {line}" for line in data.split("\n")]
    if event.get("id") is not None:
        lines.append(f"id: {event['id']}")
    if event.get("retry") is not None:
        lines.append(f"retry: {event['retry']}")
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def decode_events(chunks: Iterable[tuple[float, bytes]]) -> list[Json]:
    """The events in a stream's bytes, decoded by the SDK's own decoder, each with the time ("at")
    of the chunk that completed it. `chunks` are (seconds since the request, bytes) pairs.

    Bytes the decoder cannot read (not UTF-8) end the list there: what came before is kept.
    """
    arrived = [0.0]

    def feed() -> Iterator[bytes]:
        for at, chunk in chunks:
            arrived[0] = at
            yield chunk

    events: list[Json] = []
    try:
        for sse in anthropic.Stream.raw_events(httpx2.Response(200, content=feed())):
            event: Json = {"at": round(arrived[0], 3), "event": sse.event}
            is_json, value = parse_json(sse.data)
            if is_json and isinstance(value, dict):
                event["data"] = value
            else:
                event["text"] = sse.data
            if sse.id is not None:
                event["id"] = sse.id
            if sse.retry is not None:
                event["retry"] = sse.retry
            events.append(event)
    except UnicodeDecodeError:
        pass
    return events


def _words(text: str, per_piece: int = 3) -> list[str]:
    pieces = text.split(" ")
    return [
        " ".join(pieces[i : i + per_piece]) + (" " if i + per_piece < len(pieces) else "")
        for i in range(0, len(pieces), per_piece)
    ]


# What message_delta's usage carries: the final counts (anthropic/types/message_delta_usage.py).
_DELTA_USAGE = (
    "input_tokens",
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "output_tokens",
    "output_tokens_details",
)


def message_events(message: Json, split: Callable[[str], list[str]] = _words) -> list[Json]:
    """A Message (as JSON) as the API streams it: message_start, each block's start, deltas and stop,
    a ping after the first block opens, message_delta with the final usage, message_stop.

    `split` cuts a text block into the pieces of its text deltas (three words each by default).
    """

    def event(name: str, **data: Any) -> Json:
        return {"event": name, "data": {"type": name, **data}}

    start = {**message, "content": [], "stop_reason": None, "stop_sequence": None}
    if "stop_details" in message:  # known only at the end, like the stop reason (a refusal's category)
        start["stop_details"] = None
    start["usage"] = {**message["usage"], "output_tokens": 1}  # before any text exists
    events = [event("message_start", message=start)]
    for index, block in enumerate(message["content"]):
        kind = block["type"]
        if kind == "text":
            events.append(event("content_block_start", index=index, content_block={**block, "text": ""}))
            deltas = [{"type": "text_delta", "text": piece} for piece in split(block["text"]) if piece]
        elif kind == "thinking":
            opened = {**block, "thinking": "", "signature": ""}
            events.append(event("content_block_start", index=index, content_block=opened))
            deltas = [{"type": "thinking_delta", "thinking": piece} for piece in split(block["thinking"]) if piece]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        elif kind in ("tool_use", "server_tool_use"):
            events.append(event("content_block_start", index=index, content_block={**block, "input": {}}))
            deltas = [{"type": "input_json_delta", "partial_json": json.dumps(block["input"])}]
        else:  # redacted_thinking and other blocks arrive whole
            events.append(event("content_block_start", index=index, content_block=block))
            deltas = []
        if index == 0:
            events.append(event("ping"))
        events += [event("content_block_delta", index=index, delta=delta) for delta in deltas]
        events.append(event("content_block_stop", index=index))
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": message.get("stop_sequence")}
    if message.get("stop_details") is not None:
        delta["stop_details"] = message["stop_details"]
    final_usage = {name: value for name, value in message["usage"].items() if name in _DELTA_USAGE}
    events.append(event("message_delta", delta=delta, usage=final_usage))
    events.append(event("message_stop"))
    return events


def fold_events(events: list[Json]) -> Message:
    """The Message a stream of events adds up to, as the SDK folds it (`get_final_message()`)."""
    content = b"".join(encode_event(event) for event in events)

    def serve(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=content)

    client = anthropic.Anthropic(
        api_key="folding-a-recorded-stream",
        base_url="http://fold.invalid",
        max_retries=0,
        http_client=anthropic.DefaultHttpxClient(transport=httpx2.MockTransport(serve)),
    )
    start = next((e["data"]["message"] for e in events if e.get("event") == "message_start"), {})
    with client.messages.stream(
        model=start.get("model") or "unknown", max_tokens=1, messages=[{"role": "user", "content": "-"}]
    ) as stream:
        return stream.get_final_message()
