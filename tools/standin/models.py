"""What the stand-in knows of a model: its record in helpers/models.py, read here. It keeps no facts of
its own; a model the records do not list (a local model's name, say) gets only the rules every model
shares (tools/standin/rules.py), no thinking unless asked for, and the assumption below."""

from __future__ import annotations

from typing import Any

from helpers.models import MODELS

# The stand-in's assumption for a model helpers/models.py does not list: the prompt-caching docs' usual
# minimum (https://platform.claude.com/docs/en/build-with-claude/prompt-caching).
UNLISTED_MIN_CACHEABLE_TOKENS = 1024


def min_cacheable_tokens(model: str) -> int:
    """The shortest prompt prefix the model caches."""
    facts = MODELS.get(model)
    return UNLISTED_MIN_CACHEABLE_TOKENS if facts is None else facts.min_cacheable_tokens


def text_between_tools_in_thinking(model: str) -> bool:
    """Whether the model sends what it writes between tool calls inside a thinking block, not as text."""
    facts = MODELS.get(model)
    return facts is not None and facts.text_between_tools_in_thinking


def thinks(body: dict[str, Any]) -> bool:
    """Whether the model thinks before answering this request: when asked to, or by default on a model
    with adaptive thinking on unless the request turns it off (disabled, or between_tools). At effort
    "low" the stand-in skips thinking, as the effort docs say a model may on a simple request."""
    thinking = body.get("thinking") or {}
    # between_tools turns the thinking before a reply off: only short notes between tool calls remain
    if (
        thinking.get("type") in ("disabled", "between_tools")
        or (body.get("output_config") or {}).get("effort") == "low"
    ):
        return False
    facts = MODELS.get(str(body["model"]))
    by_default = facts is not None and facts.adaptive_thinking_by_default
    return by_default or thinking.get("type") in ("adaptive", "enabled")
