"""Checks for the exercises of lesson 02, roles."""

from __future__ import annotations

import copy
from typing import Any

from anthropic.types import ToolUseBlock

from . import Outcome, exercise, given, report, text_of

_CONVERSATION = [
    {"role": "user", "content": "Good morning!"},
    {"role": "assistant", "content": "Bonjour !"},
    {"role": "user", "content": "How are you?"},
]


@exercise(1, "From system-first to this API")
def check_to_anthropic(function: Any) -> Outcome:
    """Exercise 02.1: move the system prompt out of a system-first messages list."""
    if not callable(function):
        return report(False, "define a function `to_anthropic(messages)` that returns a dict.")
    given = [{"role": "system", "content": "Reply in French."}, *copy.deepcopy(_CONVERSATION)]
    untouched = copy.deepcopy(given)
    result = function(given)
    if not isinstance(result, dict) or not result:
        return report(False, 'return a dict with two keys: "system" and "messages". It is empty or not a dict yet.')
    if given != untouched:
        return report(False, "your function changed the list it was given. Build a new list instead.")
    messages = result.get("messages")
    if not isinstance(messages, list):
        return report(False, 'the dict needs a "messages" key holding a list of the user and assistant turns.')
    if any(isinstance(m, dict) and m.get("role") == "system" for m in messages):
        return report(
            False,
            'the "system" message is still in "messages". For this workbook\'s model the system prompt goes in '
            'the "system" parameter, not in "messages": take it out.',
        )
    if result.get("system") != "Reply in French.":
        got = result.get("system")
        return report(False, f'"system" should be the system message\'s content, "Reply in French.", not {got!r}.')
    if messages != _CONVERSATION:
        return report(False, 'the other turns should stay as they were, in the same order, in "messages".')
    without = function(copy.deepcopy(_CONVERSATION))
    if not isinstance(without, dict) or "system" in without:
        return report(
            False,
            'with no system message in the list, leave the "system" key out of the dict '
            "(an empty or None system is not the same as no system prompt).",
        )
    if without.get("messages") != _CONVERSATION:
        return report(False, 'with no system message, "messages" should be the whole list, unchanged.')
    return report(True, "the system prompt moves to its own parameter, and the turns stay in order.")


def _tool_call(number: int) -> ToolUseBlock:
    return ToolUseBlock(
        type="tool_use", id=f"toolu_check_{number}", name="get_order_status", input={"order_id": f"A10{number}"}
    )


@exercise(2, "Send a tool's result back")
def check_tool_result_message(function: Any) -> Outcome:
    """Exercise 02.2: the user turn that carries a tool's output back to the model."""
    if not callable(function):
        return report(False, "define a function `tool_result_message(call, output)` that returns a dict.")
    for number in (1, 2):
        call, output = _tool_call(number), f'{{"status": "shipped", "check": {number}}}'
        message = function(call, output)
        if not isinstance(message, dict) or not message:
            return report(False, 'return a message dict with "role" and "content". It is empty or not a dict yet.')
        role = message.get("role")
        if role == "tool":
            return report(False, 'this API has no "tool" role: a tool\'s result goes back in a "user" message.')
        if role != "user":
            return report(False, f'the role is {role!r}; a tool result is sent by your code, in a "user" message.')
        content = message.get("content")
        if not isinstance(content, list) or len(content) != 1 or not isinstance(content[0], dict):
            return report(False, '"content" should be a list holding one block (a dict): the tool result.')
        block = content[0]
        if block.get("type") != "tool_result":
            return report(False, f'the block\'s "type" is {block.get("type")!r}; it should be "tool_result".')
        if block.get("tool_use_id") != call.id:
            hint = " You used the tool's name; use its id." if block.get("tool_use_id") == call.name else ""
            return report(
                False,
                f'"tool_use_id" should be the id of the call it answers, `call.id` ({call.id!r}).{hint}',
            )
        if text_of(block.get("content")) != output:
            return report(False, "the block's \"content\" should be the tool's output string, as it came.")
    return report(True, "a user turn with a tool_result block, tied to its call by tool_use_id.")


# (history, whether it keeps the lesson's three rules, what the history shows)
_HISTORIES: list[tuple[list[dict[str, Any]], bool, str]] = [
    (copy.deepcopy(_CONVERSATION), True, "an ordinary conversation"),
    ([{"role": "user", "content": "Hi"}], True, "a single user message"),
    (
        [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        True,
        "content given as a list of blocks",
    ),
    (
        [{"role": "assistant", "content": "Bonjour !"}, {"role": "user", "content": "Hi"}],
        False,
        "starts with assistant",
    ),
    (
        [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": ""}, {"role": "user", "content": "?"}],
        False,
        "an empty string as content",
    ),
    (
        [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": []}, {"role": "user", "content": "?"}],
        False,
        "an empty list of blocks as content",
    ),
    ([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], False, "a system role"),
    (
        [{"role": "user", "content": "Hi"}, {"role": "tool", "content": "42"}],
        False,
        'a "tool" role after a user turn',
    ),
    ([], False, "no messages at all"),
]
# Malformed messages: a function that reads m["role"] or len(m["content"]) crashes on them.
_MALFORMED: list[tuple[list[dict[str, Any]], str]] = [
    ([{"role": "user", "content": "Hi"}, {"content": "Bonjour !"}], 'a message with no "role"'),
    ([{"content": "Hi"}], 'a first message with no "role"'),
    ([{"role": "user"}], 'a message with no "content"'),
    ([{"role": "user", "content": "Hi"}, {"role": "assistant", "content": None}], 'a message whose "content" is None'),
]


@exercise(3, "Catch a malformed history before the API does")
def check_is_valid_history(function: Any) -> Outcome:
    """Exercise 02.3: tell a history that keeps the three rules from one that breaks one."""
    if not callable(function):
        return report(False, "define a function `is_valid_history(messages)` that returns True or False.")
    for history, accepted, description in _HISTORIES:
        with given(f"a history with {description} ({history!r})"):
            got = function(copy.deepcopy(history))
        if not isinstance(got, bool):
            return report(False, f"for a history with {description} it returned {got!r}; return True or False.")
        if got != accepted:
            verdict = "keeps all three rules" if accepted else "breaks one of the three rules"
            return report(
                False,
                f"for a history with {description} it returned {got}, but that history {verdict}: {history!r}",
            )
    for history, description in _MALFORMED:
        try:
            got = function(copy.deepcopy(history))
        except Exception as err:  # the point of this case: a malformed history must not crash it
            return report(
                False,
                f"for a history with {description} it raised {type(err).__name__}: {err}. A malformed message "
                'breaks a rule, so return False rather than crash: read with m.get("role") and m.get("content").',
            )
        if got is not False:
            return report(False, f"for a history with {description} it returned {got!r}, but it should be False.")
    return report(True, f"it gets all {len(_HISTORIES) + len(_MALFORMED)} histories right, malformed ones too.")
