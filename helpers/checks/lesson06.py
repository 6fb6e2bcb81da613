"""Checks for the exercises of lesson 06, the agent loop.

Nothing here calls a model or reads a recording. The replies the student's functions get are real
`anthropic.types.Message` objects, built by the SDK itself from scripted JSON (scripted_client), so
their content holds the SDK's block objects, a thinking block first, as current models send them.

- check_dispatch: `next_action(reply)` gets one reply for each stop_reason the API documents, then
  one with a stop_reason it does not know. Each documented one must get its action (the constants of
  helpers.agent); the unknown one must raise, any exception, rather than be guessed at. The
  max_tokens reply carries a tool_use block, as a reply cut off in the middle of a tool call does.
- check_trim: `trim_history(messages, keep_last)` gets realistic agent histories (thinking, text
  and tool_use blocks, parallel calls, a user's follow-up) and several keep_last values, among them
  one where the naive cut `messages[-keep_last:]` starts on a turn of tool_results and one larger
  than the history. The result is judged by its properties: the task first; then a contiguous run of
  the latest messages, unchanged; every tool_result answering a tool_use of the message just before
  (the API refuses anything else) and, the lesson's rule, the kept part starting with an assistant turn,
  so roles alternate from user (the API would merge two user turns); no more than keep_last + 1 messages;
  no fewer than the longest valid tail (helpers.agent.trim_history's length); the input untouched.
- check_run_tools: `run_tools(content, toolbox)` gets the content of scripted replies: two parallel
  calls that work (one tool returns a dict, one a string), a tool that raises ValueError, a tool name
  that is not in the toolbox, and inputs the function does not take. Each tool_use needs its
  tool_result, in order, with its tool_use_id and text content; the failures come back as results
  with is_error: True and the error in their content, instead of crashing the loop.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import httpx2
from anthropic.types import Message

from ..agent import CONTINUE, DONE, MORE_ROOM, REFUSED, RUN_TOOLS, TOO_LONG, without_thinking
from ..agent import next_action as reference_next_action
from ..agent import trim_history as reference_trim
from ..settings import MODEL
from ..wire import THINKING_TYPES
from . import Outcome, exercise, explain, message_json, report, scripted_client, text_of, unanswered

Json = dict[str, Any]

# --- scripted replies ------------------------------------------------------------------------------

SIGNATURE = "c2lnbmF0dXJl"  # a thinking block's signature: opaque to the client, checked by the API


def thinking(text: str = "") -> Json:
    """A thinking block; current models send its text empty unless asked to show it."""
    return {"type": "thinking", "thinking": text, "signature": SIGNATURE}


def text(words: str) -> Json:
    return {"type": "text", "text": words}


def tool_use(block_id: str, name: str, arguments: Json) -> Json:
    return {"type": "tool_use", "id": block_id, "name": name, "input": arguments}


def tool_result(block_id: str, content: str, *, is_error: bool = False) -> Json:
    result: Json = {"type": "tool_result", "tool_use_id": block_id, "content": content}
    if is_error:
        result["is_error"] = True
    return result


def scripted_replies(script: dict[str, tuple[str, list[Json]]]) -> dict[str, Message]:
    """One Message per entry of `script` (name: (stop_reason, content)), each built by the SDK from JSON."""

    def answer(request: httpx2.Request) -> httpx2.Response:
        name = json.loads(request.content)["messages"][0]["content"]
        stop_reason, content = script[name]
        body = {**message_json("", stop_reason=stop_reason), "content": content}
        if stop_reason == "refusal":
            body["stop_details"] = {"type": "refusal", "category": None, "explanation": None}
        return httpx2.Response(200, json=body)

    client = scripted_client(answer)
    return {
        name: client.messages.create(model=MODEL, max_tokens=100, messages=[{"role": "user", "content": name}])
        for name in script
    }


# --- exercise 1: next_action ---------------------------------------------------------------------

NAMES = {
    DONE: "DONE",
    RUN_TOOLS: "RUN_TOOLS",
    MORE_ROOM: "MORE_ROOM",
    CONTINUE: "CONTINUE",
    REFUSED: "REFUSED",
    TOO_LONG: "TOO_LONG",
}
UNKNOWN_REASON = "something_new"

# Each stop_reason, the reply that comes with it, and the action the loop should take.
DISPATCH: list[tuple[str, list[Json], str]] = [
    ("end_turn", [thinking(), text("Order A1042 arrives on Friday.")], DONE),
    (
        "tool_use",
        # The default model's words before a tool call come inside its thinking block, not as text.
        [thinking("Let me look that up."), tool_use("toolu_01", "get_order", {"id": "A1042"})],
        RUN_TOOLS,
    ),
    ("stop_sequence", [thinking(), text("1. Check the order\n2. Track it\n")], DONE),
    # Cut off in the middle of a tool call: the tool_use block is there, but its input may be incomplete.
    ("max_tokens", [thinking("I'll check both."), tool_use("toolu_02", "get_order", {"id": "A10"})], MORE_ROOM),
    ("pause_turn", [thinking(), text("Searching the web for the carrier's notices")], CONTINUE),
    ("refusal", [thinking(), text("I can't help with that.")], REFUSED),
    ("model_context_window_exceeded", [thinking(), text("Order A1042 was shipped on")], TOO_LONG),
]

WHY = {
    "end_turn": "a reply that ends with end_turn is the complete answer: return DONE",
    "stop_sequence": (
        "stop_sequence means the model wrote one of the stop_sequences you asked it to stop at: the reply is "
        "complete, return DONE"
    ),
    "tool_use": (
        "a reply that stops for tool_use is waiting for its tools' results: return RUN_TOOLS, so the loop runs "
        "them and sends every result back"
    ),
    "max_tokens": (
        "a reply cut off at max_tokens is half an answer: ask again with more room (MORE_ROOM), never pass it on"
    ),
    "pause_turn": "a paused turn is not finished: send it back to continue (CONTINUE)",
    "refusal": "asking again will not change a refusal: return REFUSED, so the loop stops and says so",
    "model_context_window_exceeded": (
        "the context window is full, and the same request would fill it again: return TOO_LONG, so the loop "
        "stops and says to keep the history shorter"
    ),
}


def _why(reason: str, got: str) -> str:
    """The hint for a documented stop_reason that got the wrong action."""
    if reason == "max_tokens" and got == RUN_TOOLS:
        return (
            f"{WHY[reason]}, even when it holds a tool_use block: a call cut off midway may have half its input. "
            "Decide by reply.stop_reason, not by the blocks in the content"
        )
    if reason == "refusal" and got == DONE:
        return "a refusal is not an answer: return REFUSED, so the loop stops and says so"
    return WHY[reason]


def _shown(value: Any) -> str:
    """An action as the student would write it: its constant's name, or the value itself."""
    return NAMES.get(value, repr(value)) if isinstance(value, str) else repr(value)


def _not_a_constant(reason: str, got: Any) -> str:
    said = (
        f"for stop_reason {reason!r} it returned {got!r}: return one of the constants from helpers.agent, such as DONE"
    )
    if isinstance(got, str) and got in NAMES.values():
        return f"{said}: use the constant itself (from helpers.agent import {got}), not the string {got!r}."
    if got == reason:
        return f"{said}. Map each stop_reason to its action rather than passing the stop_reason on."
    return f"{said} (DONE, RUN_TOOLS, MORE_ROOM, CONTINUE, REFUSED, TOO_LONG)."


def _thinking_crash(error: Exception) -> bool:
    return isinstance(error, AttributeError) and "ThinkingBlock" in str(error)


BORROWED_TABLE = (
    "it uses the workbook's own answer (helpers.agent's ACTIONS or next_action): write the mapping yourself, "
    "from the table in the lesson, as a dict or an if/elif chain."
)
SDK_MESSAGE = "The reply is the SDK's Message object, not a dict: read its attribute, reply.stop_reason."
THINKING_FIRST = (
    "it read the reply's content and crashed on a thinking block ({error}): current models send a thinking "
    "block first, and it has no .text. Decide by reply.stop_reason alone."
)


@exercise(1, "Dispatch on the stop reason")
def check_dispatch(function: Any) -> Outcome:
    """Exercise 06.1: the action for every stop_reason, and an error for an unknown one."""
    if not callable(function):
        return report(False, "define a function `next_action(reply)` that returns one of the constants (DONE, ...).")
    if function is reference_next_action or "ACTIONS" in getattr(getattr(function, "__code__", None), "co_names", ()):
        return report(False, BORROWED_TABLE)
    script = {reason: (reason, content) for reason, content, _ in DISPATCH}
    script[UNKNOWN_REASON] = (UNKNOWN_REASON, [thinking(), text("Here is something new.")])
    replies = scripted_replies(script)
    for reason, _, expected in DISPATCH:
        try:
            got = function(replies[reason])
        except Exception as error:  # the student's function may raise anything
            if _thinking_crash(error):
                return report(False, THINKING_FIRST.format(error=error))
            if isinstance(error, TypeError) and "'Message' object is not subscriptable" in str(error):
                return report(False, f"it raised TypeError: {error}. {SDK_MESSAGE}")
            raised = explain(error) if isinstance(error, NameError) else f"it raised {type(error).__name__}: {error}."
            return report(
                False,
                f"for a reply with stop_reason {reason!r}, {raised} That stop_reason is one the API documents: "
                f"{WHY[reason]}.",
            )
        if unanswered(got):
            return report(
                False,
                f"`next_action` returns {got!r} for stop_reason {reason!r}: return one of the constants from "
                "helpers.agent, such as DONE.",
            )
        if not isinstance(got, str) or got not in NAMES:
            return report(False, _not_a_constant(reason, got))
        if got != expected:
            return report(False, f"for stop_reason {reason!r} it returned {_shown(got)}: {_why(reason, got)}.")
    try:
        got = function(replies[UNKNOWN_REASON])
    except Exception as error:  # the right answer: any exception stops the loop
        raised = type(error).__name__
    else:
        return report(
            False,
            f"for stop_reason {UNKNOWN_REASON!r}, one no table lists, it returned {_shown(got)}: an unknown "
            "stop_reason must stop the loop with an error, not be guessed. Raise an exception that names it "
            "(helpers.agent raises AgentError), so a new stop_reason is noticed the first time it comes.",
        )
    return report(
        True,
        f"all {len(DISPATCH)} documented stop reasons get their action, and an unknown one stops the loop ({raised}).",
    )


# --- exercise 2: trim_history --------------------------------------------------------------------


def shop_history() -> list[Json]:
    """An agent run, up to the call about to be sent: the task, then four rounds of tool calls."""
    return [
        {"role": "user", "content": "Where is my order A1042, and when will it arrive?"},
        {
            "role": "assistant",
            "content": [
                thinking("I'll look the order up."),
                tool_use("toolu_01", "get_order", {"order_id": "A1042"}),
            ],
        },
        {
            "role": "user",
            "content": [tool_result("toolu_01", '{"id": "A1042", "status": "shipped", "tracking": "JD0146"}')],
        },
        {
            "role": "assistant",
            "content": [
                thinking(),
                tool_use("toolu_02", "track_parcel", {"tracking": "JD0146"}),
                tool_use("toolu_03", "get_customer", {"order_id": "A1042"}),
            ],
        },
        {
            "role": "user",
            "content": [
                tool_result("toolu_02", '{"status": "in transit", "eta": "2025-06-14"}'),
                tool_result("toolu_03", '{"name": "Ada", "city": "Lyon"}'),
            ],
        },
        {
            "role": "assistant",
            "content": [
                thinking("Let me check for delays in Lyon."),
                tool_use("toolu_04", "delivery_notices", {"city": "Lyon"}),
            ],
        },
        {
            "role": "user",
            "content": [tool_result("toolu_04", "ValueError: no notices for Lyon", is_error=True)],
        },
        {
            "role": "assistant",
            "content": [
                thinking("The notices failed; the carrier can tell about delays."),
                tool_use("toolu_05", "carrier_status", {"tracking": "JD0146"}),
            ],
        },
        {"role": "user", "content": [tool_result("toolu_05", '{"delayed": false}')]},
    ]


def follow_up_history() -> list[Json]:
    """A run where the user wrote again after an answer: a user turn that holds text, not tool_results."""
    return [
        {"role": "user", "content": [text("Cancel order A1042, please.")]},
        {
            "role": "assistant",
            "content": [thinking("Cancel it."), tool_use("toolu_11", "cancel_order", {"order_id": "A1042"})],
        },
        {"role": "user", "content": [tool_result("toolu_11", '{"cancelled": true}')]},
        {"role": "assistant", "content": [thinking(), text("Order A1042 is cancelled.")]},
        {"role": "user", "content": "Thanks. And order B2077: where is it?"},
        {
            "role": "assistant",
            "content": [
                {"type": "redacted_thinking", "data": "RW5jcnlwdGVkIHRoaW5raW5n"},
                tool_use("toolu_12", "get_order", {"order_id": "B2077"}),
                tool_use("toolu_13", "get_customer", {"order_id": "B2077"}),
            ],
        },
        {
            "role": "user",
            "content": [
                tool_result("toolu_12", '{"id": "B2077", "status": "packing"}'),
                tool_result("toolu_13", '{"name": "Ada", "city": "Lyon"}'),
            ],
        },
    ]


# (history, keep_last): 3 first, where messages[-3:] would start on a turn of tool_results; 20 and 8
# keep the whole history; 1 keeps only the task, since the last message is a turn of tool results;
# follow_up_history with 3 starts on the user's new question, which the cut keeps.
TRIMS: list[tuple[Callable[[], list[Json]], int]] = [
    (shop_history, 3),
    (shop_history, 4),
    (shop_history, 7),
    (shop_history, 20),
    (shop_history, 8),
    (follow_up_history, 3),
    (follow_up_history, 4),
    (shop_history, 1),
]


def _without_thinking(content: Any) -> Any:
    if not isinstance(content, list):
        return content
    return [block for block in content if not (isinstance(block, dict) and block.get("type") in THINKING_TYPES)]


def _has_thinking(message: Json) -> bool:
    return _without_thinking(message["content"]) != message["content"]


def _changed(kept: Any, position: int, history: list[Json]) -> str | None:
    """The hint for a kept message that is not one of the history's, unchanged; None when none is."""
    if kept in history:
        return None
    if isinstance(kept, dict):
        for message in history:
            same = message["role"] == kept.get("role") and _has_thinking(message)
            if same and _without_thinking(message["content"]) == _without_thinking(kept.get("content")):
                return (
                    "a thinking block was changed or removed although nothing was cut: when the whole history "
                    "fits, the API wants the model's turns back exactly as they came, thinking blocks (and their "
                    "signatures) included. Return list(messages)."
                )
    role = kept.get("role") if isinstance(kept, dict) else None
    what = f"the {role} message" if isinstance(role, str) else f"the {type(kept).__name__}"
    return (
        f"{what} at position {position} of the result is not one of the history's, unchanged: a kept message "
        "was changed. Return the messages you keep exactly as they were; keep or drop whole messages, never "
        "parts of one."
    )


def _tool_uses(message: Json) -> set[str]:
    content = message["content"]
    if message["role"] != "assistant" or not isinstance(content, list):
        return set()
    return {block["id"] for block in content if isinstance(block, dict) and block.get("type") == "tool_use"}


def _tool_results(message: Json) -> list[str]:
    content = message["content"]
    if message["role"] != "user" or not isinstance(content, list):
        return []
    return [block["tool_use_id"] for block in content if isinstance(block, dict) and block.get("type") == "tool_result"]


def invalid_at(messages: list[Json]) -> int | None:
    """Where `messages` first breaks the API's rules for a history (it starts with a user turn; two
    assistant turns never follow each other; each tool_result answers a tool_use in the message just before
    it), or None when it keeps them. Two user turns in a row are fine: the API joins them into one."""
    for index, message in enumerate(messages):
        if index == 0 and message["role"] != "user":
            return index
        if index and message["role"] == "assistant" == messages[index - 1]["role"]:
            return index
        answered = _tool_uses(messages[index - 1]) if index else set()
        if any(block_id not in answered for block_id in _tool_results(message)):
            return index
    return None


def _trim_hint(history: list[Json], keep_last: int, kept: Any) -> str | None:
    """What is wrong with `kept`, trim_history's result for `history` and `keep_last`; None when nothing is."""
    said = f"with keep_last={keep_last} and {len(history)} messages"
    if unanswered(kept):
        return f"`trim_history` returns {kept!r}: return a new list, the first message and the latest ones."
    if not isinstance(kept, list):
        return f"{said} it returned a {type(kept).__name__}: return a list of messages."
    thinking_left = False
    if len(history) > keep_last + 1 and all(isinstance(m, dict) and "role" in m and "content" in m for m in kept):
        # After a cut the kept turns go without thinking: compare the rest with thinking left out on both
        # sides, and say last if thinking blocks stayed.
        thinking_left = any(_has_thinking(message) for message in kept[1:])
        history = [history[0], *without_thinking(history[1:])]
        kept = kept[:1] + without_thinking(kept[1:])
    for position, message in enumerate(kept):
        hint = _changed(message, position, history)
        if hint:
            return f"{said} {hint}"
    if not kept or kept[0] != history[0]:
        return (
            f"{said} it dropped the task: the first message, the task, must stay first, or the model no longer "
            "knows what it was asked. Return [messages[0], *the latest messages]."
        )
    tail = len(kept) - 1
    if tail == len(history) and kept[1] == history[0]:
        return (
            f"{said} the task appears twice: when the whole history fits (len(messages) <= keep_last + 1), "
            "return a copy of it as it is, list(messages)."
        )
    if tail and kept[1:] != history[len(history) - tail :]:
        return (
            f"{said} the messages after the task are not the latest ones in a row: keep a contiguous tail, "
            "messages[start:], in order and with none skipped, so no turn goes missing from the middle."
        )
    if tail > keep_last:
        return (
            f"{said} it kept {tail} messages after the task: keep at most keep_last of them, so at most "
            "keep_last + 1 with the task."
        )
    broken = invalid_at(kept)
    if broken is not None:
        return (
            f"{said} the kept messages start with a user turn of tool_results whose tool_use was cut away. The "
            'API refuses that with a 400: "unexpected `tool_use_id` found in `tool_result` blocks ... Each '
            '`tool_result` block must have a corresponding `tool_use` block in the previous message". Never '
            "start on a turn of tool results: move the start forward past it (holds_tool_results(message))."
        )
    needed = len(reference_trim(history, keep_last)) - 1
    dropped_question = history[len(history) - needed] if 0 < needed <= len(history) - 1 else None
    if tail < needed and dropped_question is not None and dropped_question["role"] == "user":
        return (
            f"{said} it dropped the user's question at position {len(history) - needed}, a user turn with no "
            "tool results: the kept turns may start there (the API joins it to the task), and without it the "
            "model no longer knows what it was last asked. Move the start forward only past a turn of tool "
            "results."
        )
    if tail < needed:
        return (
            f"{said} it kept {tail} messages after the task, but the latest {needed} fit and do not start on a "
            "turn of tool results: it dropped more than needed. Start at len(messages) - keep_last, and move "
            "forward only past a turn of tool results."
        )
    if thinking_left:
        return (
            f"{said} the kept assistant turns still carry their thinking blocks. Each was bound to the "
            "conversation before it, and the cut changed that: the API refuses them with a 400 "
            '"Invalid `signature` in `thinking` block" (unless the request asks it to drop them). After a cut, '
            "send the kept turns without them: [messages[0], *without_thinking(messages[start:])]."
        )
    return None


def _index_hint(history: list[Json], keep_last: int, error: IndexError) -> str:
    """The hint for an IndexError: the two ends a cut can run past."""
    said = f"with keep_last={keep_last} and {len(history)} messages your code raised IndexError ({error})"
    if keep_last + 1 >= len(history):
        return (
            f"{said}: when the whole history fits (len(messages) <= keep_last + 1), return a copy of it as it is, "
            "before computing where to cut."
        )
    return (
        f"{said}: the search for an assistant turn ran past the end of the list. Stop it at len(messages), e.g. "
        '`while start < len(messages) and messages[start]["role"] != "assistant"`.'
    )


@exercise(2, "Trim without breaking pairs")
def check_trim(function: Any) -> Outcome:
    """Exercise 06.2: trim a history to the task and its latest turns, never splitting a tool_use from its result."""
    if not callable(function):
        return report(False, "define a function `trim_history(messages, keep_last)` that returns a new list.")
    for history_of, keep_last in TRIMS:
        history = history_of()
        given = copy.deepcopy(history)
        try:
            kept = function(given, keep_last)
        except IndexError as error:
            return report(False, _index_hint(history, keep_last, error))
        if given != history:
            return report(
                False,
                f"with keep_last={keep_last} it changed the list it was given: leave `messages` as it is (the "
                "loop still holds it) and return a new list, e.g. [messages[0], *without_thinking(messages[start:])].",
            )
        hint = _trim_hint(history, keep_last, kept)
        if hint:
            return report(False, hint)
    return report(
        True,
        "it keeps the task and the latest turns within keep_last, never starts them on a turn of tool results "
        "(every tool_result keeps its tool_use), sends the kept turns without the thinking blocks a cut "
        "invalidates, and leaves the history it was given as it was.",
    )


# --- exercise 3: run_tools -----------------------------------------------------------------------

ORDER = {"id": "A1042", "status": "shipped", "items": 2}
SHOUTED = "ON ITS WAY!"
FAILURE = "no parcel has tracking number ZZ9"
UNKNOWN_TOOL = "cancel_order"


def get_order(order_id: str) -> Json:
    return {**ORDER, "id": order_id}


def shout(words: str) -> str:
    return words.upper() + "!"


def track_parcel(tracking: str) -> str:
    raise ValueError(f"no parcel has tracking number {tracking}")


def toolbox() -> dict[str, Callable[..., Any]]:
    return {"get_order": get_order, "shout": shout, "track_parcel": track_parcel}


TOOL_TURNS: dict[str, tuple[str, list[Json]]] = {
    "parallel": (
        "tool_use",
        [
            thinking(),
            # Other models (Opus 5.5, Sonnet 4.6) send their words before a tool call as a text block.
            text("I'll look up the order and write the reply."),
            tool_use("toolu_21", "get_order", {"order_id": "A1042"}),
            tool_use("toolu_22", "shout", {"words": "on its way"}),
        ],
    ),
    "failing": ("tool_use", [thinking(), tool_use("toolu_23", "track_parcel", {"tracking": "ZZ9"})]),
    "unknown": ("tool_use", [thinking(), tool_use("toolu_24", UNKNOWN_TOOL, {"order_id": "A1042"})]),
    "bad input": ("tool_use", [thinking(), tool_use("toolu_25", "get_order", {"order": "A1042"})]),
}

SDK_BLOCKS = (
    "The blocks of reply.content are the SDK's objects, not dicts: read block.type, block.id, block.name and "
    "block.input"
)
NOT_ONLY_TOOLS = (
    "The content holds thinking and text blocks too, and they have no id, name or input: run only the blocks "
    "whose block.type is 'tool_use'"
)


def _block_crash(error: Exception) -> str | None:
    """A specific hint when the student's code tripped over the SDK's blocks; None for any other error."""
    if "Block' object" not in str(error):
        return None
    if isinstance(error, TypeError) and "subscriptable" in str(error):
        return f"it raised TypeError: {error}. {SDK_BLOCKS}."
    if isinstance(error, AttributeError):
        if error.name in ("get", "keys", "items"):
            return f"it raised AttributeError: {error}. {SDK_BLOCKS}."
        return f"it raised AttributeError: {error}. {NOT_ONLY_TOOLS}."
    return None


def _shape(results: Any, ids: list[str]) -> str | None:
    """The hint for results that are not a list of one tool_result per tool_use, in order; None when they are."""
    if unanswered(results):
        return f"`run_tools` returns {results!r}: return a list with one tool_result dict per tool_use block."
    if isinstance(results, dict):
        if "role" in results:
            return (
                "it returned a whole message: return only the list of tool_result blocks; the loop puts them in "
                "the user turn."
            )
        return (
            "it returned one dict: return a list of tool_results, one per tool_use block, since all the results "
            "of a turn go back together in one user turn."
        )
    if not isinstance(results, list):
        return f"it returned a {type(results).__name__}: return a list of tool_result dicts."
    wanted = len(ids)
    if not results:
        return "it returned no results: make a tool_result for every block whose type is 'tool_use'."
    if len(results) < wanted:
        return (
            f"{len(results)} result for {wanted} tool_use blocks: the reply called {wanted} tools at once (parallel "
            "calls), and every call needs its result, in order, in the one list."
        )
    if len(results) > wanted:
        return (
            f"{len(results)} results for {wanted} tool_use blocks: make results only for the tool_use blocks, "
            "skipping the thinking and text blocks."
        )
    for result in results:
        if not isinstance(result, dict):
            return (
                f"each result must be a dict, {{'type': 'tool_result', 'tool_use_id': block.id, 'content': ...}}; "
                f"got {result!r}."
            )
        if result.get("type") != "tool_result":
            return f'each result needs "type": "tool_result"; got {result.get("type")!r}.'
    got = [result.get("tool_use_id") for result in results]
    if None in got:
        return (
            "a result has no tool_use_id: give each result the id of the tool_use block it answers (block.id), so "
            "the model knows which result answers which call."
        )
    if got == ids[::-1] and got != ids:
        return "the results are out of order: answer the tool_use blocks in the order they came."
    if got != ids:
        return f"the tool_use_ids are {got}, but the calls' ids are {ids}: use each tool_use block's own block.id."
    return None


def _run(function: Any, content: list[Any]) -> tuple[Any, Exception | None]:
    try:
        return function(content, toolbox()), None
    except Exception as error:  # the student's function may raise anything
        return None, error


def _failed(results: Any, ids: list[str], what: str, must_say: str, why: str) -> str | None:
    """The hint for the results of a call that should fail (`what`): one is_error result whose content
    says `must_say` (`why` tells the student why it should)."""
    hint = _shape(results, ids)
    if hint:
        return hint
    result = results[0]
    if result.get("is_error") is not True:
        return (
            f'is_error is missing on the result of {what}: set "is_error": True whenever a call fails, so the '
            "model reads the content as an error, not as an answer."
        )
    words = text_of(result.get("content"))
    if words is None:
        return (
            f"the content of the error result for {what} is {result.get('content')!r}: content must be text, e.g. "
            'f"{type(err).__name__}: {err}".'
        )
    if must_say not in words:
        return f"the error result for {what} says {words!r}, which does not say what went wrong: {why}"
    return None


def _message_of(call: Callable[[], Any]) -> str:
    """What `call` raises, as str(error)."""
    try:
        call()
    except Exception as error:  # the errors the check's own tools raise
        return str(error)
    raise AssertionError("the call was meant to raise")


@exercise(3, "A tool that fails must not crash the loop")
def check_run_tools(function: Any) -> Outcome:
    """Exercise 06.3: a tool_result for every tool_use, with failures sent back as is_error results."""
    if not callable(function):
        return report(False, "define a function `run_tools(content, toolbox)` that returns a list of tool_results.")
    replies = scripted_replies(TOOL_TURNS)

    # 1. Two parallel calls that work, after a thinking and a text block.
    results, error = _run(function, replies["parallel"].content)
    if error is not None:
        hint = _block_crash(error)
        if hint is None:
            raise error
        return report(False, hint)
    hint = _shape(results, ["toolu_21", "toolu_22"])
    if hint:
        return report(False, hint)
    order, shouted = (result.get("content") for result in results)
    order_text = text_of(order)
    if order_text is None:
        if isinstance(order, dict):
            return report(
                False,
                "the content of get_order's result is a dict: content must be text, so json.dumps the dict the "
                "tool returned.",
            )
        return report(False, f"the content of get_order's result is {order!r}: content must be text (json.dumps).")
    try:
        parsed = json.loads(order_text)
    except ValueError:
        parsed = None
    if parsed != get_order("A1042"):
        if order_text == str(get_order("A1042")):
            return report(
                False,
                "get_order's dict went back as str(output), which is Python, not JSON (single quotes): json.dumps it.",
            )
        return report(False, f"get_order's result says {order_text!r}: send json.dumps of what the tool returned.")
    if any(result.get("is_error") for result in results):
        return report(False, "is_error is set on a call that worked: set it only on the result of a call that failed.")

    # 2. A tool that raises, 3. a name that is not in the toolbox, 4. inputs the function does not take.
    results, error = _run(function, replies["failing"].content)
    if error is not None:
        if isinstance(error, ValueError) and FAILURE in str(error):
            return report(
                False,
                f"the tool's ValueError ({error}) escaped run_tools. A tool that fails must not crash the loop: "
                "catch the exception and return a tool_result with is_error: True and the error as its content, "
                "so the model can read it and try another way.",
            )
        raise error
    why = (
        f"put the exception's message in the content (here {FAILURE!r}), e.g. "
        'f"{type(err).__name__}: {err}", so the model can tell what to do differently.'
    )
    hint = _failed(results, ["toolu_23"], "a tool that raised", FAILURE, why)
    if hint:
        return report(False, hint)

    results, error = _run(function, replies["unknown"].content)
    if error is not None:
        return report(
            False,
            f"a call of a tool that is not in the toolbox crashed it ({type(error).__name__}: {error}): the model "
            "may name a tool that does not exist. Answer it with a tool_result with is_error: True that names "
            "the tool: the lookup toolbox[block.name] must be inside the try, and the except must catch its "
            f"{type(error).__name__} (except Exception, not only ValueError).",
        )
    why = (
        f"name the tool it asked for ({UNKNOWN_TOOL!r}), so the model sees its mistake: e.g. look it up with "
        "toolbox[block.name] inside the try, whose KeyError names it."
    )
    hint = _failed(results, ["toolu_24"], f"an unknown tool ({UNKNOWN_TOOL!r})", UNKNOWN_TOOL, why)
    if hint:
        return report(False, hint)

    results, error = _run(function, replies["bad input"].content)
    if error is not None:
        return report(
            False,
            f"inputs the function does not take crashed it ({type(error).__name__}: {error}): the model may send "
            "wrong arguments. Make the call toolbox[name](**block.input) inside the try, and catch Exception "
            f"(its {type(error).__name__} is not a ValueError), so that becomes an is_error result too.",
        )
    if _shape(results, ["toolu_25"]) is None and not results[0].get("is_error"):
        try:
            by_position = json.loads(text_of(results[0].get("content")) or "") == get_order("A1042")
        except ValueError:
            by_position = False
        if by_position:
            return report(
                False,
                "the call with a wrong input name ({'order': ...} where get_order takes order_id) worked, so the "
                "inputs went in by position (e.g. *block.input.values()): pass them by name, "
                "toolbox[block.name](**block.input), so a wrong name raises and goes back as an is_error result.",
            )
    wrong_inputs = _message_of(lambda: get_order(order="A1042"))
    why = f"put the exception's message in the content (here {wrong_inputs!r}), so the model can fix its inputs."
    hint = _failed(results, ["toolu_25"], "a call with the wrong inputs", wrong_inputs, why)
    if hint:
        return report(False, hint)

    # Last, a finer point: text that a tool returns goes back as it is.
    if shouted != SHOUTED and text_of(shouted) != SHOUTED:
        if shouted == json.dumps(SHOUTED):
            return report(
                False,
                f"shout returned the text {SHOUTED!r}, and it went back as {shouted!r}, quotes included: send a "
                "string as it is, and json.dumps only what is not a string.",
            )
        return report(False, f"shout returned {SHOUTED!r}, but its result's content is {shouted!r}: send it as it is.")
    return report(
        True,
        "every tool_use gets its tool_result, in order and with its tool_use_id, as text (JSON for a dict); a tool "
        "that raises, an unknown name and wrong inputs come back as is_error results instead of crashing the loop.",
    )
