"""Reading a reply: the text of a Message, whatever other blocks it holds."""

from __future__ import annotations

from anthropic.types import ContentBlock, Message

from .errors import NotAMessageError


def reply_text(message: Message) -> str:
    """All the text blocks of a reply, joined; tool calls and thinking blocks are skipped.

    Safer than `message.content[0].text`, which fails when the first block is not text.
    """
    if not isinstance(message.content, list):
        # The SDK builds a Message from any JSON object, with None for what is missing: say so,
        # instead of failing on None further down.
        raise NotAMessageError(
            "the server's reply was not in the Messages API format (it has no content blocks). "
            "Check that ANTHROPIC_BASE_URL points at the Anthropic API or a server compatible with it."
        )
    return "".join(block.text for block in message.content if block.type == "text")


def describe_block(block: ContentBlock) -> str:
    """One short line for a content block: its type, then what it carries."""
    if block.type == "text":
        return f"text: {block.text}"
    if block.type in ("tool_use", "server_tool_use"):
        return f"{block.type}: {block.name}({block.input})"
    if block.type == "thinking":
        shown = f"{len(block.thinking)} characters of reasoning shown" if block.thinking else "reasoning not shown"
        return f"thinking: {shown}, signed ({len(block.signature)}-character signature)"
    return block.type
