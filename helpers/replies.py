"""Reading a reply: the text of a Message, whatever other blocks it holds."""

from __future__ import annotations

from anthropic.types import Message


def reply_text(message: Message) -> str:
    """All the text blocks of a reply, joined; tool calls and thinking blocks are skipped.

    Safer than `message.content[0].text`, which fails when the first block is not text.
    """
    return "".join(block.text for block in message.content if block.type == "text")
