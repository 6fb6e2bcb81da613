"""What a sample reply is, and how a request's text is found to choose one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SampleReply:
    prompt: str | None  # text of the last user message (or of the tool results it carries); None: any
    text: str = ""
    tool_calls: tuple[dict[str, Any], ...] = field(default_factory=tuple)  # {"name": ..., "input": {...}}
    system: str | None = None  # only when the request's system prompt is exactly this
    turns: int | None = None  # only when the request has this many messages
    contains: str | None = None  # only when that text is part of the last user message's text

    def fits(self, prompt: str, system: str | None, turns: int) -> bool:
        return (
            (self.prompt is None or self.prompt == prompt)
            and (self.contains is None or self.contains in prompt)
            and (self.system is None or self.system == system)
            and (self.turns is None or self.turns == turns)
        )

    def content_blocks(self, seed: str) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if self.text:
            blocks.append({"type": "text", "text": self.text})
        for number, call in enumerate(self.tool_calls):
            blocks.append({"type": "tool_use", "id": f"toolu_sample_{seed}{number}", **call})
        return blocks

    def specificity(self) -> int:
        return (self.prompt is not None) + (self.system is not None) + (self.turns is not None)


def last_user_text(body: dict[str, Any]) -> str:
    """The text a reply is chosen by: the last user message's text or tool result."""
    for message in reversed(body.get("messages", [])):
        if message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        texts = []
        for block in content or []:
            if block.get("type") == "text":
                texts.append(block["text"])
            elif block.get("type") == "tool_result":
                inner = block.get("content", "")
                texts.append(inner if isinstance(inner, str) else " ".join(b.get("text", "") for b in inner))
        return "\n".join(texts)
    return ""


def system_text(body: dict[str, Any]) -> str | None:
    system = body.get("system")
    if isinstance(system, list):
        return "\n".join(block.get("text", "") for block in system)
    return system
