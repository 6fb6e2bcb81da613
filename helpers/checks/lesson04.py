"""Checks for the exercise of lesson 04, streaming.

The check runs the student's function against a scripted stream built here, in-process,
so it needs no recording and knows exactly which text and usage are right.
"""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx2

from ..wire import encode_event, message_events
from . import Outcome, exercise, message_json, report, scripted_client, unanswered

EXERCISE_PROMPT = "Explain streaming in one sentence."
PIECES = ["Streaming sends ", "the reply in small pieces ", "as the model writes them."]
USAGE = {"input_tokens": 14, "output_tokens": 12}


def _events() -> list[dict[str, Any]]:
    """The scripted reply as the API streams it, one text delta per piece."""
    return message_events(message_json("".join(PIECES), usage=USAGE), split=lambda text: list(PIECES))


def recording_client(requests: list[dict[str, Any]]) -> anthropic.Anthropic:
    """A client whose every call gets the scripted reply: streamed if asked for, else as JSON."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        requests.append(body)
        if body.get("stream"):
            content = b"".join(encode_event(event) for event in _events())
            return httpx2.Response(200, headers={"content-type": "text/event-stream"}, content=content)
        return httpx2.Response(200, json=message_json("".join(PIECES), usage=USAGE))

    return scripted_client(answer)


@exercise(1, "Collect a streamed reply")
def check_collect(function: Any) -> Outcome:
    """Exercise 04.1: stream a reply, and return its whole text and its final usage."""
    if not callable(function):
        return report(False, "define a function `collect(client, prompt)` that returns (text, usage).")
    requests: list[dict[str, Any]] = []
    result = function(recording_client(requests), EXERCISE_PROMPT)
    if unanswered(result):
        return report(False, "`collect` returns None. Stream the reply and return the pair (text, usage).")
    if not requests:
        return report(False, "`collect` made no request: call client.messages.stream(...) with the prompt.")
    sent = requests[-1]
    if not sent.get("stream"):
        return report(
            False, "that was a call without streaming: use `with client.messages.stream(...) as stream:` instead."
        )
    if sent.get("messages") != [{"role": "user", "content": EXERCISE_PROMPT}]:
        return report(False, "send exactly one user message whose content is the `prompt` argument.")
    if not isinstance(result, tuple) or len(result) != 2:
        return report(False, f"return a pair `(text, usage)`; got {type(result).__name__}.")
    text, usage = result
    whole = "".join(PIECES)
    if text == PIECES[0]:
        return report(False, "the text is only the first piece: join every piece of `stream.text_stream`.")
    if text == PIECES[-1]:
        return report(False, "the text is only the last piece: add each piece to the text, don't replace it.")
    if isinstance(text, list):
        return report(False, "the text is a list of pieces: join them into one string with ''.join(...).")
    if text != whole:
        return report(False, f"the text should be {whole!r}, the pieces of `stream.text_stream` joined; got {text!r}.")
    if not hasattr(usage, "output_tokens"):
        return report(False, "the second item should be a usage object, e.g. `stream.get_final_message().usage`.")
    if usage.output_tokens == 1:
        return report(
            False,
            "output_tokens is 1: that is the usage of message_start, sent before any text. Read the usage "
            "after the stream ends: `stream.get_final_message().usage`.",
        )
    if (usage.input_tokens, usage.output_tokens) != (USAGE["input_tokens"], USAGE["output_tokens"]):
        return report(False, "that usage does not belong to this reply: take `stream.get_final_message().usage`.")
    return report(True, f"all {len(PIECES)} pieces joined, and the final usage ({usage.output_tokens} output tokens).")
