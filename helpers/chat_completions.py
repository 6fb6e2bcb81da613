"""The same request and reply in OpenAI's Chat Completions format, to compare the two wire formats.

No second SDK and no call: these functions only rewrite the data of a Messages API call into the
shape the Chat Completions API (and the many servers that copy it) uses. What maps to what:

| Messages API (Anthropic)                    | Chat Completions (OpenAI)                          |
|---------------------------------------------|----------------------------------------------------|
| `system=` parameter                         | a first message with role `system` (newer models: `developer`) |
| `max_tokens`                                | `max_completion_tokens`                            |
| tools: `input_schema`                       | tools: `{"type": "function", "function": {..., "parameters"}}` |
| assistant `tool_use` blocks                 | the assistant message's `tool_calls` (arguments as a JSON string) |
| user turn of `tool_result` blocks           | one message with role `tool` per result (`tool_call_id`) |
| `thinking` blocks (passed back unchanged)   | nothing: Chat Completions has no way to send them back |
| `stop_reason`                               | `finish_reason` (see FINISH_REASONS)               |
| `usage.input_tokens` (+ cache reads, writes) | `usage.prompt_tokens` (cached tokens included)     |
| `usage.output_tokens`                       | `usage.completion_tokens`                          |

Sources: https://platform.openai.com/docs/api-reference/chat/create and /chat/object.
"""

from __future__ import annotations

import json
from typing import Any

from anthropic.types import Message

from .agent import blocks_of

Json = dict[str, Any]

# stop_reason -> finish_reason. None where Chat Completions has no such reason.
FINISH_REASONS: dict[str, str | None] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
    "pause_turn": None,
    "model_context_window_exceeded": None,
}


def _text(blocks: list[Json]) -> str:
    return "".join(block["text"] for block in blocks if block.get("type") == "text")


def _message(message: Json) -> list[Json]:
    """One Messages API message as Chat Completions messages (a turn of tool results becomes several)."""
    blocks = blocks_of(message["content"])
    if message["role"] == "assistant":
        calls = [
            {
                "id": block["id"],
                "type": "function",
                "function": {"name": block["name"], "arguments": json.dumps(block["input"])},
            }
            for block in blocks
            if block.get("type") == "tool_use"
        ]
        converted: Json = {"role": "assistant", "content": _text(blocks) or None}
        if calls:
            converted["tool_calls"] = calls
        return [converted]
    results = [block for block in blocks if block.get("type") == "tool_result"]
    out = [
        {
            "role": "tool",
            "tool_call_id": block["tool_use_id"],
            # No is_error field over there: the error has to be said in the text.
            "content": ("Error: " if block.get("is_error") else "") + str(block["content"]),
        }
        for block in results
    ]
    text = _text(blocks)
    if text or not results:
        out.append({"role": "user", "content": text})
    return out


def request_as_chat_completions(request: Json) -> Json:
    """A Messages API request (model, max_tokens, system, tools, messages) as a Chat Completions request."""
    messages: list[Json] = []
    if request.get("system"):
        messages.append({"role": "system", "content": request["system"]})
    for message in request["messages"]:
        messages.extend(_message(message))
    converted: Json = {
        "model": request["model"],
        "max_completion_tokens": request["max_tokens"],
        "messages": messages,
    }
    if request.get("tools"):
        converted["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": tool["name"],
                    "description": tool.get("description", ""),
                    "parameters": tool["input_schema"],
                    **({"strict": True} if tool.get("strict") else {}),
                },
            }
            for tool in request["tools"]
        ]
    return converted


def reply_as_chat_completion(reply: Message) -> Json:
    """A Messages API reply as the Chat Completions API's `chat.completion` object."""
    (message,) = _message({"role": "assistant", "content": reply.content})
    # prompt_tokens counts every input token, cached or not; input_tokens leaves the cached ones out.
    usage = reply.usage
    prompt_tokens = usage.input_tokens + (usage.cache_read_input_tokens or 0) + (usage.cache_creation_input_tokens or 0)
    return {
        "id": reply.id,
        "object": "chat.completion",
        "model": reply.model,
        "choices": [{"index": 0, "message": message, "finish_reason": FINISH_REASONS.get(str(reply.stop_reason))}],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": reply.usage.output_tokens,
            "total_tokens": prompt_tokens + reply.usage.output_tokens,
        },
    }
