"""Hand-written sample replies, served by the stand-in server (tools/standin_server.py).

This repository was built where the API cannot be reached, so the shipped
recordings were made by recording these replies through the real SDK. Each is
written to be a correct, good answer to its prompt. Recordings made from them
are labelled `sample`; re-recording with a key replaces them with real output.

A reply is chosen by the text of the last user message and, when given, the
system prompt and the number of messages, so the same question can be answered
differently with and without its history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class SampleReply:
    prompt: str  # text of the last user message (or of the tool result it carries)
    text: str = ""
    tool_calls: tuple[dict[str, Any], ...] = field(default_factory=tuple)  # {"name": ..., "input": {...}}
    system: str | None = None  # only when the request's system prompt is exactly this
    turns: int | None = None  # only when the request has this many messages

    def content_blocks(self, seed: str) -> list[dict[str, Any]]:
        blocks: list[dict[str, Any]] = []
        if self.text:
            blocks.append({"type": "text", "text": self.text})
        for number, call in enumerate(self.tool_calls):
            blocks.append({"type": "tool_use", "id": f"toolu_sample_{seed}{number}", **call})
        return blocks

    def specificity(self) -> int:
        return (self.system is not None) + (self.turns is not None)


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


def _system_text(body: dict[str, Any]) -> str | None:
    system = body.get("system")
    if isinstance(system, list):
        return "\n".join(block.get("text", "") for block in system)
    return system


# --- lesson 01: the anatomy of a call, and scripts/hello_api.py ------------------

TUTOR = "You are a patient Python tutor. Answer in plain language and keep it short."

REPLIES: list[SampleReply] = [
    SampleReply(
        prompt="What does Python's zip() function do?",
        system=TUTOR,
        text=(
            "`zip()` walks through two or more iterables side by side and pairs up their items by "
            "position: the first items together, then the second items, and so on. It gives back a lazy "
            "iterator of tuples, so wrap it in `list()` to see them all:\n\n"
            "```python\n"
            'names = ["Ada", "Grace"]\n'
            "years = [1815, 1906]\n"
            "list(zip(names, years))  # [('Ada', 1815), ('Grace', 1906)]\n"
            "```\n\n"
            "It stops at the end of the shortest input. If unequal lengths would be a bug, pass "
            "`strict=True` (Python 3.10 and later) and it raises a `ValueError` instead."
        ),
    ),
    SampleReply(
        prompt="What is an API, in two sentences?",
        text=(
            "An API (application programming interface) is a defined way for one program to ask another "
            "for data or work, such as sending an HTTPS request and getting JSON back. It spells out which "
            "requests are allowed and what each answer looks like, so the two sides can change their "
            "insides without breaking each other."
        ),
    ),
]


def reply_for(body: dict[str, Any]) -> SampleReply:
    """The most specific sample reply that fits `body`, or an honest placeholder."""
    prompt = last_user_text(body)
    system = _system_text(body)
    turns = len(body.get("messages", []))
    candidates = [
        reply
        for reply in REPLIES
        if reply.prompt == prompt
        and (reply.system is None or reply.system == system)
        and (reply.turns is None or reply.turns == turns)
    ]
    if candidates:
        return max(candidates, key=SampleReply.specificity)
    return SampleReply(
        prompt=prompt,
        text=(
            "This reply comes from the workbook's stand-in server, not from a model: it has no "
            f"sample answer for {prompt[:60]!r}. Set a real API key to get a real answer."
        ),
    )
