"""Hand-written sample replies, served by the stand-in server (tools/standin/).

One module per lesson (lesson01.py, ...), each with a list REPLIES; scripts' replies
live with the lesson they belong to.

This repository was built where the API cannot be reached, so the shipped
recordings were made by recording these replies through the real SDK. Each is
written to be a correct, good answer to its prompt. Recordings made from them
are labelled `sample`; re-recording with a key replaces them with real output.

A reply is chosen by the text of the last user message (all of it, or a part that
only it holds) and, when given, the system prompt and the number of messages, so the same question can be answered
differently with and without its history.
"""

from __future__ import annotations

from typing import Any

from tools.samples import (
    lesson00,
    lesson01,
    lesson02,
    lesson03,
    lesson04,
    lesson05,
    lesson06,
    lesson07,
    server_check,
)
from tools.samples.base import SampleReply, last_user_text, system_text


def all_replies() -> list[SampleReply]:
    return [
        *lesson00.REPLIES,
        *lesson01.REPLIES,
        *lesson02.REPLIES,
        *lesson03.REPLIES,
        *lesson04.REPLIES,
        *lesson05.REPLIES,
        *lesson06.REPLIES,
        *lesson07.REPLIES,
        *server_check.REPLIES,
    ]


def reply_for(body: dict[str, Any]) -> SampleReply:
    """The most specific sample reply that fits `body`, or an honest placeholder."""
    prompt = last_user_text(body)
    system = system_text(body)
    turns = len(body.get("messages", []))
    candidates = [reply for reply in all_replies() if reply.fits(prompt, system, turns)]
    if candidates:
        return max(candidates, key=SampleReply.specificity)
    return SampleReply(
        prompt=prompt,
        text=(
            "This reply comes from the workbook's stand-in server, not from a model: it has no "
            f"sample answer for {prompt[:60]!r}. Set a real API key to get a real answer."
        ),
    )
