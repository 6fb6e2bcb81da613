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
no JSON, no thinking, and a usage with only input_tokens and output_tokens (no cache fields).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import json
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from helpers import wire
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
class StandinState:
    """What the server was told to do, and what it has seen."""

    failures: list[str] = field(default_factory=list)
    always: str | None = None
    pace: float = 0.0  # seconds between streamed chunks; 0 sends them at once
    first_token_delay: float = 0.0
    hang_seconds: float = 5.0
    mark_as_sample: bool = True  # False plays a real server, whose replies are recorded as `recorded`
    plain_text: bool = False  # True plays a small local model: plain text only (see the module's docstring)
    requests: list[dict[str, Any]] = field(default_factory=list)
    cached_prefixes: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_fault(self) -> str | None:
        with self.lock:
            if self.failures:
                return self.failures.pop(0)
            return self.always


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

    def do_POST(self) -> None:
        state = self.server.state
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        with state.lock:
            state.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
        request_id = f"req_sample_{_digest([body, len(state.requests)], 20)}"
        headers = {"request-id": request_id}

        counting = self.path.split("?")[0].rstrip("/").endswith("/v1/messages/count_tokens")
        if counting and state.plain_text:  # like a local model server without the endpoint
            self._send_json(404, wire.error_body("not_found_error", f"Not found: {self.path}", request_id), headers)
            return
        if not counting and not self.path.split("?")[0].rstrip("/").endswith("/v1/messages"):
            self._send_json(404, wire.error_body("not_found_error", f"Not found: {self.path}", request_id), headers)
            return
        if not (self.headers.get("authorization") or self.headers.get("x-api-key")):
            message = "x-api-key header is required"
            self._send_json(401, wire.error_body("authentication_error", message, request_id), headers)
            return

        fault = state.next_fault()
        if fault == "timeout":
            time.sleep(state.hang_seconds)
            return
        if fault is not None:
            status, kind, message, extra = ERRORS[fault]
            self._send_json(status, wire.error_body(kind, message, request_id), {**headers, **extra})
            return

        problem = validate({**body, "max_tokens": 1} if counting and isinstance(body, dict) else body)
        if problem is not None:
            self._send_json(400, wire.error_body("invalid_request_error", problem, request_id), headers)
            return
        if counting:  # count_tokens takes no max_tokens, and answers with the count alone
            self._send_json(200, {"input_tokens": token_estimate.input_tokens(body)}, headers)
            return

        try:
            message_body = build_message(body, state)
        except SampleError as error:
            self._send_json(500, wire.error_body("api_error", f"stand-in: {error}", request_id), headers)
            return
        if not body.get("stream"):
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
    parser.add_argument("--plain-text", action="store_true", help="play a small local model: plain text only")
    args = parser.parse_args()
    failures = [fault for fault in args.fail.split(",") if fault]
    unknown = [fault for fault in failures if fault not in FAULTS]
    if unknown:
        parser.error(f"unknown fault(s) {unknown}; use {', '.join(FAULTS)}")
    options = {"failures": failures, "always": args.always, "pace": args.pace, "plain_text": args.plain_text}
    with StandinServer(args.port, **options) as server:
        print(f"stand-in Messages API at {server.url} (Ctrl-C to stop)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.thread.join()


if __name__ == "__main__":
    main()
