"""The exercise checks of lesson 06, the agent loop: each typical mistake gets its own hint, and nothing raises.

Every check prints one line. These tests feed each check the reference implementation of
helpers.agent, the notebook's solution and placeholder, and one deliberately wrong function per
hint, and assert on the hint a student would read.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from helpers.agent import (
    ACTIONS,
    CONTINUE,
    DONE,
    MORE_ROOM,
    REFUSED,
    RUN_TOOLS,
    TOO_LONG,
    blocks_of,
    holds_tool_results,
    without_thinking,
)
from helpers.agent import next_action as reference_next_action
from helpers.agent import run_tools as reference_run_tools
from helpers.agent import trim_history as reference_trim_history
from helpers.checks import NOT_YET, PASS
from helpers.checks.lesson06 import (
    TRIMS,
    check_dispatch,
    check_run_tools,
    check_trim,
    follow_up_history,
    invalid_at,
    shop_history,
)
from tests.test_agent import trim_keeping_thinking  # the solution before thinking binding


def verdict(capsys: pytest.CaptureFixture[str]) -> str:
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0, f"a check should print exactly one line, got: {out!r}"
    assert out.startswith((PASS, NOT_YET)), out
    return out


def assert_verdict(out: str, expected: str) -> None:
    assert expected in out, out
    assert out.startswith("✅" if expected == "✅" else "❌"), out


# --- exercise 1: next_action --------------------------------------------------------------------


def dispatch_solution(reply):
    """The notebook's solution."""
    actions = {
        "end_turn": DONE,
        "stop_sequence": DONE,
        "tool_use": RUN_TOOLS,
        "max_tokens": MORE_ROOM,
        "pause_turn": CONTINUE,
        "refusal": REFUSED,
        "model_context_window_exceeded": TOO_LONG,
    }
    if reply.stop_reason not in actions:
        raise ValueError(f"unknown stop_reason {reply.stop_reason!r}")
    return actions[reply.stop_reason]


# A student's own table, as exercise 1 asks for: the same mapping, written out rather than borrowed.
TABLE = dict(ACTIONS)


def dispatch_borrowing(reply):
    return ACTIONS[reply.stop_reason]


def dispatch_by_lookup(reply):
    return TABLE[reply.stop_reason]  # a KeyError for an unknown reason: raising is all that is asked


def dispatch_with(**changes: str | None):
    """The right table with some stop reasons mapped elsewhere (None: left out, so they fall to DONE)."""
    table = {**TABLE, **changes}

    def next_action(reply):
        return table.get(reply.stop_reason) or DONE

    return next_action


def dispatch_placeholder(reply):
    return None


def dispatch_ellipsis(reply):
    return ...


def dispatch_names(reply):
    return {value: name for name, value in vars_of_constants().items()}[TABLE[reply.stop_reason]]


def vars_of_constants() -> dict[str, str]:
    return {
        "DONE": DONE,
        "RUN_TOOLS": RUN_TOOLS,
        "MORE_ROOM": MORE_ROOM,
        "CONTINUE": CONTINUE,
        "REFUSED": REFUSED,
        "TOO_LONG": TOO_LONG,
    }


def dispatch_stop_reason(reply):
    return reply.stop_reason


def dispatch_by_content(reply):
    if any(block.type == "tool_use" for block in reply.content):
        return RUN_TOOLS
    return reference_next_action(reply)


def dispatch_reading_text(reply):
    if reply.content[0].text:
        return reference_next_action(reply)
    return DONE


def dispatch_raising_on_the_rest(reply):
    if reply.stop_reason in ("end_turn", "tool_use"):
        return TABLE[reply.stop_reason]
    raise ValueError(f"unexpected stop_reason {reply.stop_reason}")


def dispatch_subscripting(reply):
    return TABLE[reply["stop_reason"]]


def dispatch_guessing(reply):
    return TABLE.get(reply.stop_reason, DONE)


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (reference_next_action, "it uses the workbook's own answer"),
        (dispatch_borrowing, "write the mapping yourself, from the table in the lesson"),
        (dispatch_solution, "✅"),
        (dispatch_by_lookup, "✅"),
        (dispatch_placeholder, "return one of the constants from helpers.agent, such as DONE"),
        (dispatch_ellipsis, "return one of the constants from helpers.agent, such as DONE"),
        (dispatch_names, "not the string 'DONE'"),
        (dispatch_stop_reason, "rather than passing the stop_reason on"),
        (
            dispatch_with(max_tokens=DONE),
            "a reply cut off at max_tokens is half an answer: ask again with more room (MORE_ROOM), never pass it on",
        ),
        (dispatch_by_content, "even when it holds a tool_use block"),
        (dispatch_with(tool_use=None), "is waiting for its tools' results: return RUN_TOOLS"),
        (dispatch_with(pause_turn=None), "a paused turn is not finished: send it back to continue"),
        (dispatch_with(refusal=MORE_ROOM), "asking again will not change a refusal"),
        (dispatch_with(refusal=CONTINUE), "asking again will not change a refusal"),
        (dispatch_with(refusal=DONE), "a refusal is not an answer"),
        (dispatch_with(model_context_window_exceeded=MORE_ROOM), "the context window is full"),
        (dispatch_with(stop_sequence=CONTINUE), "stop_sequence means the model wrote one of the stop_sequences"),
        (dispatch_subscripting, "read its attribute, reply.stop_reason"),
        (dispatch_guessing, "an unknown stop_reason must stop the loop with an error, not be guessed"),
        (dispatch_reading_text, "crashed on a thinking block"),
        (dispatch_raising_on_the_rest, "That stop_reason is one the API documents"),
        (42, "define a function `next_action(reply)`"),
        (..., "define a function `next_action(reply)`"),
        ("next_action_missing", "run the cells above first"),
    ],
)
def test_check_dispatch_names_the_mistake(function: Any, expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    check_dispatch(function)
    assert_verdict(verdict(capsys), expected)


def test_check_dispatch_looks_the_name_up_where_it_is_called(capsys: pytest.CaptureFixture[str]) -> None:
    next_action = dispatch_solution  # noqa: F841 (read by the check, through this frame)
    check_dispatch("next_action")
    assert_verdict(verdict(capsys), "✅")


# --- exercise 2: trim_history -------------------------------------------------------------------


def trim_solution(messages, keep_last):
    """The notebook's solution."""
    if len(messages) <= keep_last + 1:
        return list(messages)
    start = len(messages) - keep_last
    while start < len(messages) and holds_tool_results(messages[start]):
        start += 1
    return [messages[0], *without_thinking(messages[start:])]


def trim_at_assistant_turns_only(messages, keep_last):
    """The cut that starts only on an assistant turn: it drops a user's new question."""
    if len(messages) <= keep_last + 1:
        return list(messages)
    start = len(messages) - keep_last
    while start < len(messages) and messages[start]["role"] != "assistant":
        start += 1
    return [messages[0], *without_thinking(messages[start:])]


def trim_from_the_end(messages, keep_last):
    """Another right answer: walk back from the end, and keep whole rounds while they fit."""
    kept: list[dict] = []
    for index in range(len(messages) - 1, 0, -1):
        if len(messages) - index > keep_last:
            break
        if not holds_tool_results(messages[index]):
            kept = messages[index:]
    return [messages[0], *(kept if len(kept) == len(messages) - 1 else without_thinking(kept))]


def _start(messages, keep_last):
    start = len(messages) - keep_last
    while start < len(messages) and holds_tool_results(messages[start]):
        start += 1
    return start


def trim_placeholder(messages, keep_last):
    return messages


def trim_returning_none(messages, keep_last):
    return None


def trim_tuple(messages, keep_last):
    return tuple(reference_trim_history(messages, keep_last))


def trim_without_task(messages, keep_last):
    return messages[-keep_last:]


def trim_naive(messages, keep_last):
    if len(messages) <= keep_last + 1:
        return list(messages)
    return [messages[0], *messages[-keep_last:]]


def _skip_tool_results(messages, keep_last):
    tail = messages[-keep_last:]
    first = tail[0]
    if first["role"] == "user" and isinstance(first["content"], list) and first["content"][0]["type"] == "tool_result":
        tail = tail[1:]
    return [messages[0], *(without_thinking(tail) if keep_last + 1 < len(messages) else tail)]


def trim_task_twice(messages, keep_last):
    return _skip_tool_results(messages, keep_last)


def trim_skipping_one_turn_of_results(messages, keep_last):
    """Another right answer: take the latest keep_last, and drop the first if it is a turn of tool results."""
    if len(messages) <= keep_last + 1:
        return list(messages)
    return _skip_tool_results(messages, keep_last)


def trim_backwards(messages, keep_last):
    if len(messages) <= keep_last + 1:
        return list(messages)
    start = len(messages) - keep_last
    while messages[start]["role"] != "assistant":
        start -= 1
    return [messages[0], *messages[start:]]


def trim_last_round_only(messages, keep_last):
    if len(messages) <= keep_last + 1:
        return list(messages)
    last = max(index for index, message in enumerate(messages) if message["role"] == "assistant")
    start = max(last, _start(messages, keep_last))
    return [messages[0], *without_thinking(messages[start:])]


def trim_oldest(messages, keep_last):
    return [messages[0], *messages[1 : keep_last + 1]]


def trim_in_place(messages, keep_last):
    if len(messages) > keep_last + 1:
        del messages[1 : _start(messages, keep_last)]
    return messages


def trim_without_thinking(messages, keep_last):
    kept = reference_trim_history(messages, keep_last)
    return [
        {**m, "content": [b for b in m["content"] if b["type"] != "thinking"]} if m["role"] == "assistant" else m
        for m in kept
    ]


def trim_without_text(messages, keep_last):
    kept = reference_trim_history(messages, keep_last)
    return [
        {**m, "content": [b for b in m["content"] if b["type"] != "text"]} if m["role"] == "assistant" else m
        for m in kept
    ]


def trim_running_past_the_end(messages, keep_last):
    if len(messages) <= keep_last + 1:
        return list(messages)
    start = len(messages) - keep_last
    while holds_tool_results(messages[start]):  # no bound: runs past the end when keep_last is small
        start += 1
    return [messages[0], *without_thinking(messages[start:])]


def trim_without_the_whole_history_case(messages, keep_last):
    start = len(messages) - keep_last
    if start < 1:
        raise IndexError("list index out of range")  # what indexing before the task would lead to
    while start < len(messages) and messages[start]["role"] != "assistant":
        start += 1
    return [messages[0], *without_thinking(messages[start:])]


def trim_task_as_blocks(messages, keep_last):
    kept = reference_trim_history(messages, keep_last)
    return [{"role": "user", "content": blocks_of(kept[0]["content"])}, *kept[1:]]


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (reference_trim_history, "✅"),
        (trim_solution, "✅"),
        (trim_from_the_end, "✅"),
        (trim_placeholder, "keep at most keep_last of them, so at most keep_last + 1"),
        (trim_returning_none, "`trim_history` returns None"),
        (trim_tuple, "it returned a tuple: return a list"),
        (trim_without_task, "it dropped the task"),
        (trim_naive, "Each `tool_result` block must have a corresponding `tool_use` block in the previous message"),
        (trim_task_twice, "the task appears twice"),
        (trim_skipping_one_turn_of_results, "✅"),
        (trim_at_assistant_turns_only, "it dropped the user's question at position 4"),
        (trim_backwards, "keep at most keep_last of them"),
        (trim_last_round_only, "it dropped more than needed"),
        (trim_oldest, "not the latest ones in a row"),
        (trim_in_place, "it changed the list it was given"),
        (trim_without_thinking, "a thinking block was changed or removed although nothing was cut"),
        (trim_keeping_thinking, "Invalid `signature` in `thinking` block"),
        (trim_without_text, "the assistant message at position 1 of the result"),
        (trim_task_as_blocks, "the user message at position 0 of the result is not one of the history's, unchanged"),
        (trim_running_past_the_end, "ran past the end of the list. Stop it at len(messages)"),
        (trim_without_the_whole_history_case, "when the whole history fits"),
        (42, "define a function `trim_history(messages, keep_last)`"),
        ("trim_history_missing", "run the cells above first"),
    ],
)
def test_check_trim_names_the_mistake(function: Any, expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    check_trim(function)
    assert_verdict(verdict(capsys), expected)


def test_the_orphan_hint_names_the_apis_400(capsys: pytest.CaptureFixture[str]) -> None:
    check_trim(trim_naive)
    out = verdict(capsys)
    assert "keep_last=3" in out and "400" in out and "Never start on a turn of tool results" in out, out


@pytest.mark.parametrize("history", [shop_history, follow_up_history])
def test_the_histories_are_valid_and_the_reference_keeps_them_valid(history) -> None:
    assert invalid_at(history()) is None
    for history_of, keep_last in TRIMS:
        if history_of is history:
            kept = reference_trim_history(history(), keep_last)
            assert invalid_at(kept) is None and len(kept) <= keep_last + 1


def test_the_naive_cut_starts_on_tool_results_in_the_first_case() -> None:
    history_of, keep_last = TRIMS[0]
    naive = [history_of()[0], *history_of()[-keep_last:]]
    assert invalid_at(naive) == 1


# --- exercise 3: run_tools ----------------------------------------------------------------------


def run_tools_solution(content, toolbox):
    """The notebook's solution."""
    results = []
    for block in content:
        if block.type == "tool_use":
            result = {"type": "tool_result", "tool_use_id": block.id}
            try:
                output = toolbox[block.name](**block.input)
            except Exception as err:
                result.update(content=f"{type(err).__name__}: {err}", is_error=True)
            else:
                result["content"] = output if isinstance(output, str) else json.dumps(output)
            results.append(result)
    return results


def run_tools_placeholder(content, toolbox):
    """The notebook's placeholder: right for the calls that work, and nothing more."""
    results = []
    for block in content:
        if block.type == "tool_use":
            output = toolbox[block.name](**block.input)
            results.append({"type": "tool_result", "tool_use_id": block.id, "content": json.dumps(output)})
    return results


def run_tools_text_blocks(content, toolbox):
    """Right too: a tool_result's content may be a list of text blocks."""
    results = run_tools_solution(content, toolbox)
    return [{**result, "content": [{"type": "text", "text": result["content"]}]} for result in results]


def runs_with(make_result, catch=(Exception,), lookup_inside=True):
    """A run_tools whose result for each call is `make_result(block, output, error)`."""

    def run_tools(content, toolbox):
        results = []
        for block in content:
            if block.type != "tool_use":
                continue
            output = error = None
            if not lookup_inside:
                function = toolbox[block.name]
            try:
                function = toolbox[block.name] if lookup_inside else function
                output = function(**block.input)
            except catch as err:
                error = err
            results.append(make_result(block, output, error))
        return results

    return run_tools


def right_result(block, output, error):
    if error is not None:
        return {
            "type": "tool_result",
            "tool_use_id": block.id,
            "content": f"{type(error).__name__}: {error}",
            "is_error": True,
        }
    return {
        "type": "tool_result",
        "tool_use_id": block.id,
        "content": output if isinstance(output, str) else json.dumps(output),
    }


def changed(**changes):
    """right_result with some keys changed; a change is a function of (block, output, error, result)."""

    def make_result(block, output, error):
        result = right_result(block, output, error)
        for key, change in changes.items():
            value = change(block, output, error, result)
            if value is None:
                result.pop(key, None)
            else:
                result[key] = value
        return result

    return make_result


run_tools_no_is_error = runs_with(changed(is_error=lambda block, output, error, result: None))
run_tools_always_is_error = runs_with(changed(is_error=lambda block, output, error, result: True))
run_tools_no_id = runs_with(changed(tool_use_id=lambda block, output, error, result: None))
run_tools_name_as_id = runs_with(changed(tool_use_id=lambda block, output, error, result: block.name))
run_tools_dict_as_is = runs_with(
    changed(content=lambda block, output, error, result: output if error is None else result["content"])
)
run_tools_str_of_dict = runs_with(
    changed(content=lambda block, output, error, result: str(output) if error is None else result["content"])
)
run_tools_vague_error = runs_with(
    changed(content=lambda block, output, error, result: "the tool failed" if error else result["content"])
)
run_tools_error_object = runs_with(
    changed(content=lambda block, output, error, result: error if error else result["content"])
)
run_tools_dumps_everything = runs_with(
    changed(content=lambda block, output, error, result: json.dumps(output) if error is None else result["content"])
)
run_tools_lookup_outside = runs_with(right_result, lookup_inside=False)
run_tools_tool_errors_only = runs_with(right_result, catch=(ValueError, KeyError))


def run_tools_with_get(content, toolbox):
    results = []
    for block in content:
        if block.type == "tool_use":
            try:
                output = toolbox.get(block.name)(**block.input)
                results.append(right_result(block, output, None))
            except Exception as err:
                results.append(right_result(block, None, err))
    return results


def run_tools_reversed(content, toolbox):
    return run_tools_solution(content, toolbox)[::-1]


def run_tools_last_only(content, toolbox):
    results = run_tools_solution(content, toolbox)
    return results[-1:]


def run_tools_one_dict(content, toolbox):
    return run_tools_solution(content, toolbox)[0]


def run_tools_user_turn(content, toolbox):
    return {"role": "user", "content": run_tools_solution(content, toolbox)}


def run_tools_generator(content, toolbox):
    yield from run_tools_solution(content, toolbox)


def run_tools_subscripting(content, toolbox):
    return [{"type": "tool_result", "tool_use_id": b["id"], "content": b["name"]} for b in content]


def run_tools_every_block(content, toolbox):
    return [{"type": "tool_result", "tool_use_id": b.id, "content": str(toolbox[b.name](**b.input))} for b in content]


def run_tools_on_dicts(content, toolbox):
    """Right, by way of dicts: blocks_of turns the SDK's blocks into the API's JSON."""
    results = []
    for block in blocks_of(content):
        if block["type"] == "tool_use":
            results.extend(run_tools_solution([_Block(block)], toolbox))
    return results


class _Block:
    def __init__(self, block: dict) -> None:
        self.type, self.id, self.name, self.input = block["type"], block["id"], block["name"], block["input"]


def run_tools_catching_value_error_only(content, toolbox):
    results = []
    for block in content:
        if block.type == "tool_use":
            try:
                output = toolbox[block.name](**block.input)
            except ValueError as err:
                results.append({"type": "tool_result", "tool_use_id": block.id, "content": str(err), "is_error": True})
            else:
                results.append({"type": "tool_result", "tool_use_id": block.id, "content": json.dumps(output)})
    return results


def run_tools_by_position(content, toolbox):
    results = []
    for block in content:
        if block.type == "tool_use":
            try:
                output = toolbox[block.name](*block.input.values())
            except Exception as err:
                results.append({"type": "tool_result", "tool_use_id": block.id, "content": str(err), "is_error": True})
            else:
                content_text = output if isinstance(output, str) else json.dumps(output)
                results.append({"type": "tool_result", "tool_use_id": block.id, "content": content_text})
    return results


def run_tools_none(content, toolbox):
    return None


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        (reference_run_tools, "✅"),
        (run_tools_solution, "✅"),
        (run_tools_text_blocks, "✅"),
        (run_tools_on_dicts, "✅"),
        (runs_with(right_result), "✅"),
        (
            run_tools_placeholder,
            "A tool that fails must not crash the loop: catch the exception and return a tool_result with "
            "is_error: True",
        ),
        (run_tools_no_is_error, "is_error is missing on the result of a tool that raised"),
        (run_tools_always_is_error, "is_error is set on a call that worked"),
        (run_tools_no_id, "a result has no tool_use_id"),
        (run_tools_name_as_id, "use each tool_use block's own block.id"),
        (run_tools_reversed, "the results are out of order"),
        (run_tools_last_only, "1 result for 2 tool_use blocks"),
        (run_tools_one_dict, "it returned one dict"),
        (run_tools_user_turn, "it returned a whole message"),
        (run_tools_generator, "it returned a generator: return a list"),
        (run_tools_dict_as_is, "content must be text, so json.dumps the dict"),
        (run_tools_str_of_dict, "str(output), which is Python, not JSON"),
        (run_tools_vague_error, "put the exception's message in the content (here 'no parcel has tracking number"),
        (run_tools_error_object, "content must be text"),
        (run_tools_lookup_outside, "a tool that is not in the toolbox crashed it (KeyError: 'cancel_order')"),
        (run_tools_with_get, "name the tool it asked for ('cancel_order')"),
        (run_tools_tool_errors_only, "inputs the function does not take crashed it (TypeError"),
        (run_tools_dumps_everything, "quotes included"),
        (run_tools_subscripting, "the SDK's objects, not dicts"),
        (run_tools_every_block, "run only the blocks whose block.type is 'tool_use'"),
        (run_tools_none, "`run_tools` returns None"),
        (run_tools_catching_value_error_only, "except Exception, not only ValueError"),
        (run_tools_by_position, "the inputs went in by position"),
        (42, "define a function `run_tools(content, toolbox)`"),
        ("run_tools_missing", "run the cells above first"),
    ],
)
def test_check_run_tools_names_the_mistake(function: Any, expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    check_run_tools(function)
    assert_verdict(verdict(capsys), expected)


def test_no_check_raises_whatever_it_is_given(capsys: pytest.CaptureFixture[str]) -> None:
    def crash(*args: Any) -> None:
        raise RuntimeError("boom")

    for check in (check_dispatch, check_trim, check_run_tools):
        for value in (crash, lambda *args: 42, lambda *args: [object()], "nothing_by_that_name", None):
            check(value)
            out = verdict(capsys)
            assert out.startswith(NOT_YET), out
