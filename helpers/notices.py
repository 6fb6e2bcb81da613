"""When a reply does not allow a lesson's next step: say so in one plain line, and let the lesson run on.

A small local model may never call a tool or send a thinking block, and a server may report no
cache fields. A lesson then skips the step that needed them, after one line that says why, instead
of failing:

    call = expect_tool_call(reply, "get_order_status", so="there is no result to send back")
    if call is not None:
        ...  # run the tool
"""

from __future__ import annotations

from collections.abc import Callable

from anthropic.types import Message, ToolUseBlock, Usage

Say = Callable[[str], object]


def expect_tool_call(reply: Message, name: str, *, so: str, say: Say = print) -> ToolUseBlock | None:
    """The reply's call to the tool `name`; or None, after a line saying the model answered without it, so <so>."""
    for block in reply.content:
        if block.type == "tool_use" and block.name == name:
            return block
    kinds = ", ".join(block.type for block in reply.content) or "nothing"
    say(f"This model answered without calling {name} (its reply holds: {kinds}), so {so}.")
    return None


def say_if_no_thinking(reply: Message, *, so: str, say: Say = print) -> None:
    """A line saying the reply holds no thinking block, so <so>, when it holds none."""
    if not any(block.type in ("thinking", "redacted_thinking") for block in reply.content):
        kinds = ", ".join(block.type for block in reply.content) or "nothing"
        say(f"No thinking block in this reply (it holds: {kinds}): this model sent no thinking, so {so}.")


def say_if_no_cache_fields(*usages: Usage, so: str, say: Say = print) -> None:
    """A line saying the server does not report caching, so <so>, when no usage has a cache field.

    A server that does not cache leaves cache_creation_input_tokens and cache_read_input_tokens out
    (None), where the API sends 0 for a call that cached nothing. Returns nothing, so a notebook
    cell that ends with it shows no value.
    """
    if not any(u.cache_creation_input_tokens is not None or u.cache_read_input_tokens is not None for u in usages):
        say(f"No cache fields in these replies: the server does not report caching, so {so}.")
