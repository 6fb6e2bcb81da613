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

from .wire import THINKING_TYPES

Say = Callable[[str], object]


def expect_tool_call(reply: Message, name: str, *, so: str, say: Say = print) -> ToolUseBlock | None:
    """The reply's call to the tool `name`; or None, after a line saying the model answered without it, so <so>."""
    for block in reply.content:
        if block.type == "tool_use" and block.name == name:
            return block
    kinds = ", ".join(block.type for block in reply.content) or "nothing"
    say(f"This model answered without calling {name} (its reply holds: {kinds}), so {so}.")
    return None


def has_thinking(reply: Message) -> bool:
    """Whether the reply holds a thinking block (redacted or not)."""
    return any(block.type in THINKING_TYPES for block in reply.content)


def say_if_no_thinking(reply: Message, *, so: str, say: Say = print) -> None:
    """A line saying the reply holds no thinking block, so <so>, when it holds none."""
    if not has_thinking(reply):
        kinds = ", ".join(block.type for block in reply.content) or "nothing"
        say(f"No thinking block in this reply (it holds: {kinds}): this model sent no thinking, so {so}.")


def say_if_thinking(reply: Message, *, so: str, say: Say = print) -> None:
    """A line saying the reply holds a thinking block after all, so <so>, when it holds one."""
    if has_thinking(reply):
        kinds = ", ".join(block.type for block in reply.content)
        say(f"This reply thought first after all (it holds: {kinds}), so {so}.")


def prompt_caching_reported(*usages: Usage) -> bool:
    """Whether these usages report prompt caching. The API sends cache_creation_input_tokens in every
    usage (0 when it wrote nothing); a server that reports cache reads alone (llama.cpp's server: the part
    of the prompt it had already read for the previous request) means its own reuse by them, not prompt
    caching, which nobody pays less for."""
    return any(u.cache_creation_input_tokens is not None for u in usages)


def say_if_no_cache_fields(*usages: Usage, so: str, say: Say = print) -> None:
    """A line saying the server does not report prompt caching, so <so>, when no usage means it.

    A server that does not cache leaves cache_creation_input_tokens and cache_read_input_tokens out
    (None), where the API sends 0 for a call that cached nothing; one that reports only cache reads means
    its own reuse of the prompt (prompt_caching_reported). Returns nothing, so a notebook cell that ends
    with it shows no value.
    """
    if not any(u.cache_creation_input_tokens is not None or u.cache_read_input_tokens is not None for u in usages):
        say(f"No cache fields in these replies: the server does not report caching, so {so}.")
    elif not prompt_caching_reported(*usages) and any(u.cache_read_input_tokens for u in usages):
        say(
            "These replies report cache reads but never a cache write: that is the server's own reuse of "
            f"the prompt it read before, not prompt caching, so {so}."
        )


def sent_tokens(usage: Usage) -> int:
    """All the input a call sent: input_tokens plus what the usage reports as read from or written to a
    cache, which were sent too (a server that reuses the prompt reports most of it as cache reads)."""
    return usage.input_tokens + (usage.cache_creation_input_tokens or 0) + (usage.cache_read_input_tokens or 0)


def say_if_not_growing(usages: list[Usage], *, so: str, say: Say = print) -> None:
    """A line saying the input sent did not grow from the first call to the last, so <so>, when it did not.
    (On the API every call of a conversation sends more than the one before.)"""
    sent = [sent_tokens(usage) for usage in usages]
    if len(sent) > 1 and sent[-1] <= sent[0]:
        counts = ", ".join(f"{n:,}" for n in sent)
        say(
            f"The input sent did not grow here ({counts} tokens): this server's usage does not count "
            f"the history, so {so}."
        )


def say_if_not_cut_short(reply: Message, *, max_tokens: int, so: str, say: Say = print) -> None:
    """A line saying the reply was not cut at max_tokens, so <so>, when its stop_reason is another."""
    if reply.stop_reason != "max_tokens":
        say(
            f"This server did not stop this reply at max_tokens={max_tokens} (stop_reason: {reply.stop_reason}), "
            f"so {so}."
        )


def capped_by_server(reply: Message, *, max_tokens: int) -> bool:
    """Whether the reply stopped at max_tokens having written fewer output tokens than the request's
    max_tokens allowed: the server capped it lower than asked (the workbook's local model caps every reply
    for a CPU), so asking again with more room gets the same cut. The API stops at max_tokens only when
    the reply has used them all."""
    return reply.stop_reason == "max_tokens" and reply.usage.output_tokens < max_tokens


def say_if_capped_by_server(reply: Message, *, max_tokens: int, so: str, say: Say = print) -> bool:
    """A line saying the server capped the reply below max_tokens, so <so>, when it did (capped_by_server);
    returns whether it did."""
    capped = capped_by_server(reply, max_tokens=max_tokens)
    if capped:
        say(
            f"This server cut the reply at {reply.usage.output_tokens:,} output tokens, below the "
            f"max_tokens={max_tokens:,} asked for: more room would not help, so {so}."
        )
    return capped


def say_if_no_rate_limits(limits: dict[str, str], *, so: str, say: Say = print) -> None:
    """A line saying the reply carried no anthropic-ratelimit-* headers, so <so>, when `limits` (what
    helpers.concurrency.rate_limits read from them) is empty. The API sends them with every reply; a local
    server sends none."""
    if not limits:
        say(f"This server sends no rate-limit headers (no anthropic-ratelimit-*), so {so}.")
