"""The Messages the stand-in answers with: a hand-written sample (tools/samples/) with its usage
counted by tools/token_estimate.py, thinking and prompt caching as the model's record says, or in
plain-text mode a small local model's reply; and how a Message streams, and how long it takes.

Whatever replaces a reply (a test that plays a real server, say) replaces it here: the other modules
reach build_message and stream_events through this module.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from helpers import api_rules, wire
from tools import token_estimate
from tools.samples import reply_for
from tools.standin.models import min_cacheable_tokens, text_between_tools_in_thinking, thinks

if TYPE_CHECKING:
    from tools.standin.state import StandinState

# What the stand-in says to everything in plain-text mode: no JSON, no tool call.
PLAIN_TEXT_REPLY = "Sure. Here is a short answer in plain words, as a small local model might give it."
# What llama-server reports as a reply's `model`: the path of the file it serves, whatever was asked.
LLAMA_CPP_MODEL_PATH = "/home/student/.cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
# What flat_usage reports as every request's input_tokens.
FLAT_INPUT_TOKENS = 2095


class SampleError(Exception):
    """A hand-written sample does not fit its request as the API's reply would: fix tools/samples/."""


def digest(value: Any, size: int = 24) -> str:
    """A short hash of a JSON value: the stand-in's ids are made from what they name, so a request
    sent again gets the same ids."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:size]


def plain_text_message(body: dict[str, Any]) -> dict[str, Any]:
    """A small local model's reply: PLAIN_TEXT_REPLY (cut at max_tokens), usage without cache fields."""
    text, stop_reason = PLAIN_TEXT_REPLY, "end_turn"
    max_tokens = body.get("max_tokens") if isinstance(body.get("max_tokens"), int) else 4096
    if token_estimate.text_tokens(text) > max_tokens:
        text, stop_reason = text[: int(max(max_tokens, 0) * token_estimate.CHARS_PER_TOKEN)], "max_tokens"
    return {
        "id": f"msg_plain_{digest(body)}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model"),
        "content": [{"type": "text", "text": text}] if text else [],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": token_estimate.input_tokens(body), "output_tokens": token_estimate.text_tokens(text)},
    }


def llama_cpp_message(body: dict[str, Any], state: StandinState) -> dict[str, Any]:
    """llama-server's reply: plain text under the model file's path, and a usage in which the part of the
    prompt it had already read for the previous request (its KV cache, not prompt caching) is reported as
    cache_read_input_tokens: for a conversation that goes on, or a request sent again, input_tokens is 1."""
    message = plain_text_message(body)
    prompt = json.dumps([body.get("system"), body.get("tools"), body.get("messages")], sort_keys=True)
    with state.lock:
        previous, state.last_prompt = state.last_prompt, prompt
    shared = 0
    for mine, theirs in zip(prompt, previous, strict=False):
        if mine != theirs:
            break
        shared += 1
    total = message["usage"]["input_tokens"]
    cached = min(total - 1, int(shared / token_estimate.CHARS_PER_TOKEN))
    message["usage"] = {
        "cache_read_input_tokens": max(cached, 0),
        "input_tokens": total - max(cached, 0),
        "output_tokens": message["usage"]["output_tokens"],
    }
    return {**message, "model": LLAMA_CPP_MODEL_PATH}


def summarized_thinking(blocks: list[dict[str, Any]]) -> str:
    """What a thinking block shows under display "summarized": the stand-in's sample says what the reply
    does next (the real model's summary says it in its own words; omitted, the default, shows nothing)."""
    tools = [block["name"] for block in blocks if block["type"] == "tool_use"]
    plan = f"call {', '.join(tools)}" if tools else "write the answer"
    return f"(A sample of summarized thinking.) Next: {plan}."


def notes_between_tools(body: dict[str, Any], blocks: list[dict[str, Any]]) -> str | None:
    """The text of a reply that calls tools, on a model that sends such text inside a thinking block
    (ModelFacts.text_between_tools_in_thinking); None for any other reply or model."""
    if not text_between_tools_in_thinking(str(body["model"])):
        return None
    if not any(block["type"] == "tool_use" for block in blocks):
        return None
    return " ".join(block["text"] for block in blocks if block["type"] == "text")


def build_message(body: dict[str, Any], state: StandinState) -> dict[str, Any]:
    """The Message the stand-in answers `body` with, usage included."""
    if state.llama_cpp:
        return llama_cpp_message(body, state)
    if state.plain_text:
        message = plain_text_message(body)
        if state.flat_usage:
            message["usage"]["input_tokens"] = FLAT_INPUT_TOKENS
        return message
    reply = reply_for(body)
    seed = digest(body, 20)
    blocks = reply.content_blocks(seed)
    stop_reason = "tool_use" if any(b["type"] == "tool_use" for b in blocks) else "end_turn"
    thinking_setting = body.get("thinking") or {}
    notes = notes_between_tools(body, blocks)
    if notes is not None:
        blocks = [block for block in blocks if block["type"] != "text"]
    if notes:
        # On this model what it writes between tool calls comes back inside a thinking block: shown as
        # summary text under between_tools or display "summarized", empty under the default display.
        shown_as_summary = (
            thinking_setting.get("type") == "between_tools" or thinking_setting.get("display") == "summarized"
        )
        shown = notes if shown_as_summary else ""
        blocks.insert(0, {"type": "thinking", "thinking": shown, "signature": api_rules.thinking_signature(body)})
    elif thinks(body):
        # The thinking text is omitted, as these models do by default; the signature lets it be passed
        # back, and binds it to the conversation before it (helpers/api_rules.py checks it).
        shown = summarized_thinking(blocks) if thinking_setting.get("display") == "summarized" else ""
        blocks.insert(0, {"type": "thinking", "thinking": shown, "signature": api_rules.thinking_signature(body)})

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
    cached, ttl = cache_split(body)
    if cached >= min_cacheable_tokens(str(body["model"])):
        prefix_key = digest([body.get("system"), body["messages"][:1], body.get("tools")])
        with state.lock:
            hit = prefix_key in state.cached_prefixes
            state.cached_prefixes.add(prefix_key)
        if hit:
            usage["cache_read_input_tokens"] = cached
        else:
            usage["cache_creation_input_tokens"] = cached
            usage["cache_creation"][f"ephemeral_{ttl}_input_tokens"] = cached
        usage["input_tokens"] -= cached

    if state.flat_usage:
        usage["input_tokens"] = FLAT_INPUT_TOKENS
    if json_schema(body) is not None and stop_reason == "end_turn":
        check_structured(reply.text, body)

    return {
        "id": f"msg_sample_{digest(body)}",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": blocks,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage,
    }


def cache_split(body: dict[str, Any]) -> tuple[int, str]:
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


def json_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema the request asks the reply's text to follow (output_config.format), or None."""
    output_format = (body.get("output_config") or {}).get("format") or {}
    return output_format.get("schema") if output_format.get("type") == "json_schema" else None


def check_structured(text: str, body: dict[str, Any]) -> None:
    """The API guarantees that a structured reply parses and has the schema's required keys: a sample
    that does not would teach something false, so the stand-in refuses to serve it."""
    schema = json_schema(body) or {}
    try:
        data = json.loads(text)
    except ValueError as error:
        raise SampleError(f"the sample reply to a structured-output request is not JSON ({error})") from None
    missing = [key for key in schema.get("required", []) if not isinstance(data, dict) or key not in data]
    if missing:
        raise SampleError(f"the sample reply to a structured-output request lacks the required keys {missing}")


def stream_events(message: dict[str, Any], *, pings: bool = True) -> Iterator[tuple[str, dict[str, Any]]]:
    """The Message as the API streams it: message_start ... message_stop (without `ping`, as llama-server
    streams, when `pings` is False)."""
    for event in wire.message_events(message):
        if pings or event["event"] != "ping":
            yield event["event"], event["data"]


def json_reply_delay(message: dict[str, Any], state: StandinState, body: Any = None) -> float:
    """How long a reply without streaming takes with `json_latency`: as long as the same reply streamed,
    its wait for the first token spread from half to three times first_token_delay, as a busy server's
    varies; the spread is fixed by the request (its digest), so a re-record keeps each request's time."""
    if not state.json_latency:
        return 0.0
    deltas = sum(1 for name, _ in stream_events(message) if name == "content_block_delta")
    spread = 0.5 + 2.5 * int(digest(body, 8), 16) / 16**8
    return state.first_token_delay * spread + state.pace * deltas
