"""The one estimator behind every sample recording's token counts.

The sample replies were written offline, so nobody measured their tokens. Rather
than type numbers by hand, the stand-in server counts them with this rule:

* a piece of text costs ceil(characters / 3.5) tokens, a common rule of thumb for
  English prose with Claude's tokenizer;
* every message adds 4 tokens of framing, the request adds 3, a system prompt 2;
* offering tools adds 346 tokens (the tool-use system prompt Anthropic documents
  for its Claude 4 models) plus the tools' JSON definitions;
* output counts the reply's text, and the JSON input of any tool call it makes;
* a model that thinks spends thinking tokens too, billed as output though their text is not
  shown (the thinking block arrives empty, with its signature): counted here as half the
  visible reply's tokens plus THINKING_BASE, a made-up but fixed rule, so samples stay consistent.

So input_tokens grows with everything re-sent, and output_tokens fits the text.
Real counts differ by a few percent; re-recording with a key replaces them.
"""

from __future__ import annotations

import json
import math
from typing import Any

CHARS_PER_TOKEN = 3.5
REQUEST_FRAMING = 3
MESSAGE_FRAMING = 4
SYSTEM_FRAMING = 2
TOOL_USE_SYSTEM_PROMPT = 346
THINKING_BASE = 24


def text_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN) if text else 0


def content_tokens(content: Any) -> int:
    """Tokens of a message's content: a string, or a list of content blocks."""
    if isinstance(content, str):
        return text_tokens(content)
    total = 0
    for block in content or []:
        kind = block.get("type")
        if kind == "text":
            total += text_tokens(block.get("text", ""))
        elif kind == "tool_use":
            total += text_tokens(block.get("name", "")) + text_tokens(json.dumps(block.get("input", {})))
        elif kind == "tool_result":
            total += content_tokens(block.get("content", ""))
        elif kind == "thinking":
            total += text_tokens(block.get("thinking", ""))
    return total


def system_tokens(system: Any) -> int:
    if not system:
        return 0
    return SYSTEM_FRAMING + content_tokens(system)


def input_tokens(body: dict[str, Any]) -> int:
    """Estimated input tokens of a whole Messages request."""
    total = REQUEST_FRAMING + system_tokens(body.get("system"))
    if body.get("tools"):
        total += TOOL_USE_SYSTEM_PROMPT + text_tokens(json.dumps(body["tools"], sort_keys=True))
    for message in body.get("messages", []):
        total += MESSAGE_FRAMING + content_tokens(message.get("content"))
    return total


def thinking_tokens(blocks: list[dict[str, Any]]) -> int:
    """Estimated thinking tokens of a reply: none without a thinking block; else what the thinking
    text shows, or, when the text is omitted, half the visible reply plus THINKING_BASE."""
    thinking = [block for block in blocks if block.get("type") == "thinking"]
    if not thinking:
        return 0
    shown = sum(text_tokens(block.get("thinking", "")) for block in thinking)
    visible = content_tokens([block for block in blocks if block.get("type") != "thinking"])
    return shown or THINKING_BASE + visible // 2


def output_tokens(blocks: list[dict[str, Any]]) -> int:
    """Estimated output tokens of a reply's content blocks, thinking included (at least 1, as on the API)."""
    visible = content_tokens([block for block in blocks if block.get("type") != "thinking"])
    return max(1, visible + thinking_tokens(blocks))
