"""Checks for the exercises of lesson 03, statelessness.

The chat-function check never touches the recordings: it hands the student's
function a real `anthropic.Anthropic` whose transport is a scripted model. The
script answers every request and keeps a copy of it, so the check can see exactly
what the function sent on each call, and say which step is missing.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx2

from . import Outcome, exercise, message_json, report, scripted_client, unanswered

FIRST_QUESTION = "Hello! My name is Ada."
SECOND_QUESTION = "What is my name?"
FIRST_REPLY = "Nice to meet you, Ada!"
REMEMBERED = "Your name is Ada."
FORGOTTEN = "I don't know your name: nothing in this conversation tells me."


def _text_of(content: Any) -> str:
    """The text of a message's content, whether a string or a list of blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # blocks: dicts, or the SDK's objects from response.content
        texts = (block.get("text", "") if isinstance(block, dict) else getattr(block, "text", "") for block in content)
        return " ".join(str(text) for text in texts)
    return ""


@dataclass
class ScriptedModel:
    """A stand-in for the Messages API that answers like a model with no memory, and notes every request."""

    requests: list[list[dict[str, Any]]] = field(default_factory=list)

    def reply_to(self, messages: list[dict[str, Any]]) -> str:
        if len(self.requests) == 1:
            return FIRST_REPLY
        # Like a real model, it can only know the name if the request carries it.
        told = any(FIRST_QUESTION in _text_of(m.get("content")) for m in messages if isinstance(m, dict))
        return REMEMBERED if told else FORGOTTEN

    def handle(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        messages = body.get("messages", [])
        self.requests.append(copy.deepcopy(messages))
        usage = {"input_tokens": 10 * len(messages), "output_tokens": 8}
        message = message_json(self.reply_to(messages), usage=usage, model=body.get("model", "scripted"))
        return httpx2.Response(200, json=message)

    def client(self) -> anthropic.Anthropic:
        return scripted_client(self.handle)


def _turn(message: Any) -> tuple[Any, str]:
    """A message as (role, text), for comparing what was sent with what should have been."""
    if not isinstance(message, dict):
        return (type(message).__name__, "")
    return (message.get("role"), _text_of(message.get("content")).strip())


def _diagnose(sent: list[list[dict[str, Any]]], history: list[Any], answers: list[Any]) -> tuple[bool, str]:
    """What is wrong with one run of the student's chat(), or that nothing is."""
    user1, user2 = ("user", FIRST_QUESTION), ("user", SECOND_QUESTION)
    assistant1, assistant2 = ("assistant", FIRST_REPLY), ("assistant", REMEMBERED)
    if not sent:
        if unanswered(answers[0]):
            return False, (
                "complete chat(): append the user's turn, call client.messages.create(...) with the whole "
                "list, append the reply as an assistant turn, and return its text."
            )
        return False, "chat() never called the model: use client.messages.create(..., messages=messages)."
    if len(sent) != 2:
        return False, f"two calls of chat() made {len(sent)} requests; call the model exactly once per call."
    first, second = ([_turn(m) for m in request] for request in sent)
    if first != [user1]:
        if not first or first[-1] != user1:
            return False, (
                f"the first request's last message was {first[-1] if first else 'missing'}; append the user's "
                'turn, {"role": "user", "content": user_text}, before calling the model.'
            )
        return False, (
            f"the first request sent {len(first)} messages, but the list passed in was empty. Use the "
            "`messages` you were given, not a list from elsewhere in the notebook."
        )
    if second == [user2]:
        return False, (
            "the second request carried only the new question: chat() starts a fresh list on each call. "
            "Append to the `messages` list that was passed in, so the history survives between calls."
        )
    if second == [user1, user2]:
        return False, (
            "the second request had no assistant turn between the two questions: the reply was never "
            'added. Append {"role": "assistant", "content": <the reply\'s text>} before returning.'
        )
    if len(second) == 3 and second[1][0] != "assistant":
        return False, f'the reply went into the history with the role {second[1][0]!r}; use "assistant".'
    if second != [user1, assistant1, user2]:
        return False, (
            f"the second request should be the first question, the first reply, then the new question; it "
            f"was {second}. Append each turn once, in that order."
        )
    if [_turn(m) for m in history] != [user1, assistant1, user2, assistant2]:
        if not history:
            return False, (
                "the requests were right, but the list passed in is still empty afterwards: the history was "
                "kept in another list (a copy or a global). Append to `messages` itself."
            )
        return False, (
            f"afterwards the caller's list held {[_turn(m) for m in history]}; it should hold both questions and "
            "both replies, in order. Did the last reply get appended?"
        )
    for answer, want in zip(answers, (FIRST_REPLY, REMEMBERED), strict=True):
        if answer != want:
            if isinstance(answer, anthropic.types.Message):
                return False, "chat() returned the whole Message; return only the reply's text, a str."
            if isinstance(answer, list):
                return False, "chat() returned a list; return only the reply's text, a str."
            return False, f"chat() returned {answer!r}, but the model's reply was {want!r}. Return the reply's text."
    return True, "the history grows by two turns per call, and the second question found the first in it."


@exercise(1, "A chat function that remembers")
def check_chat(function: Any) -> Outcome:
    """Exercise 03.1: a chat function that keeps the history in the caller's list."""
    if not callable(function):
        return report(False, "define a function `chat(client, messages, user_text)` that returns the reply's text.")
    model = ScriptedModel()
    client = model.client()
    history: list[Any] = []
    answers = [function(client, history, FIRST_QUESTION)]
    if model.requests:  # a placeholder that never calls the model is reported by _diagnose
        answers.append(function(client, history, SECOND_QUESTION))
    passed, message = _diagnose(model.requests, history, answers)
    return report(passed, message)


def _conversation(turns: int) -> list[dict[str, str]]:
    """A plain alternating history of `turns` messages: user 1, assistant 1, user 2, ..."""
    roles = ("user", "assistant")
    return [{"role": roles[n % 2], "content": f"{roles[n % 2]} {n // 2 + 1}"} for n in range(turns)]


@exercise(2, "Trim a history, and keep it valid")
def check_trim_history(function: Any) -> Outcome:
    """Exercise 03.2: keep the most recent turns of a history, and keep it valid."""
    if not callable(function):
        return report(False, "define a function `trim_history(messages, max_messages)` that returns a list.")
    # (turns, max_messages, expected length); 0 last: messages[-0:] is the whole list, a trap of its own
    cases = [(7, 4, 3), (7, 3, 3), (7, 10, 7), (6, 4, 4), (7, 1, 1), (7, 0, 0)]
    for turns, limit, expected_length in cases:
        given = _conversation(turns)
        untouched = copy.deepcopy(given)
        kept = function(given, limit)
        described = f"for {turns} messages and max_messages={limit}"
        if not isinstance(kept, list):
            return report(False, f"{described} it returned {kept!r}; return a list of messages.")
        if given != untouched:
            return report(False, f"{described} it changed the list it was given; return a new list instead.")
        if limit == 0 and kept:
            return report(
                False,
                f"{described} it kept {len(kept)} messages; it should keep none. Careful: messages[-0:] is the "
                "whole list, since -0 is 0, so handle max_messages=0 on its own (return []).",
            )
        if len(kept) > limit:
            return report(False, f"{described} it kept {len(kept)} messages; keep at most {limit}.")
        if kept and kept != untouched[len(untouched) - len(kept) :]:
            return report(False, f"{described} it kept {kept}; keep the most recent messages, in their order.")
        if kept and kept[0].get("role") != "user":
            return report(
                False,
                f"{described} the trimmed history starts with an assistant turn, which the API rejects. "
                "Drop it too, so the history starts with a user turn.",
            )
        if len(kept) != expected_length:
            return report(
                False,
                f"{described} it kept {len(kept)} messages; the most that fit and start with a user turn is "
                f"{expected_length}.",
            )
    return report(True, "it keeps the most recent turns that fit, starting with a user turn.")
