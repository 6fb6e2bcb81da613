"""Lesson 01's exercise checks: right answers pass, each typical mistake gets its own hint."""

from __future__ import annotations

import pytest
from anthropic.types import Message, Usage

from helpers import MODEL
from helpers.checks import NOT_YET, PASS, message_json
from helpers.checks.lesson01 import EXERCISE_QUESTION, check_cost, check_request, check_was_cut_off


def good_request() -> dict:
    return {
        "model": MODEL,
        "max_tokens": 200,
        "system": "Answer as a bulleted list.",
        "messages": [{"role": "user", "content": EXERCISE_QUESTION}],
    }


def verdict(capsys) -> str:
    return capsys.readouterr().out.strip()


def test_a_correct_request_passes(capsys):
    check_request(good_request())
    assert verdict(capsys).startswith(PASS)


@pytest.mark.parametrize(
    ("change", "hint"),
    [
        ({"model": "claude-sonnet-4-6-typo"}, "MODEL"),
        ({"max_tokens": 1024}, "200"),
        ({"system": ""}, "non-empty string"),
        ({"messages": [{"role": "system", "content": "x"}]}, "own parameter"),
        ({"messages": [{"role": "user", "content": "Name three uses."}]}, "exactly"),
        ({"system": "You are a helpful Python tutor."}, "does not ask for a list"),
        ({"system": [{"type": "text", "text": "Be brief."}]}, "does not ask for a list"),
        ({"temperature": 0.2}, "take out temperature"),
        ({"top_k": 5}, "take out top_k"),
    ],
)
def test_each_mistake_in_the_request_gets_a_specific_hint(capsys, change, hint):
    check_request({**good_request(), **change})
    out = verdict(capsys)
    assert out.startswith(NOT_YET) and hint in out, out


def test_a_system_prompt_put_in_messages_gets_the_own_parameter_hint_not_a_missing_key(capsys):
    request = good_request()
    system = {"role": "system", "content": request.pop("system")}
    request["messages"] = [system, *request["messages"]]
    check_request(request)
    out = verdict(capsys)
    assert out.startswith(NOT_YET) and "own parameter" in out and "has no system" not in out, out


@pytest.mark.parametrize(
    "change",
    [
        {"messages": [{"role": "user", "content": [{"type": "text", "text": EXERCISE_QUESTION}]}]},
        {"system": [{"type": "text", "text": "Reply with a bulleted list."}]},
        {"system": "Give three bullet points."},
    ],
    ids=["content-as-text-blocks", "system-as-text-blocks", "bullet-points"],
)
def test_every_valid_form_of_a_right_request_passes(capsys, change):
    check_request({**good_request(), **change})
    out = verdict(capsys)
    assert out.startswith(PASS), out


def test_the_request_is_found_by_its_name(capsys):
    my_request = good_request()
    check_request("my_request")
    assert verdict(capsys).startswith(PASS), my_request


def test_the_untouched_placeholder_is_not_yet(capsys):
    check_request(...)
    assert verdict(capsys).startswith(NOT_YET)


def test_was_cut_off_accepts_the_right_function(capsys):
    check_was_cut_off(lambda response: response.stop_reason == "max_tokens")
    assert verdict(capsys).startswith(PASS)


def test_was_cut_off_rejects_a_function_that_returns_none(capsys):
    check_was_cut_off(lambda response: None)
    assert "return True or False" in verdict(capsys)


def test_was_cut_off_rejects_treating_tool_use_as_truncation(capsys):
    check_was_cut_off(lambda response: response.stop_reason != "end_turn")
    out = verdict(capsys)
    assert out.startswith(NOT_YET) and "tool_use" in out


def test_a_check_turns_the_students_exception_into_a_hint(capsys):
    check_was_cut_off(lambda response: response.no_such_field)
    out = verdict(capsys)
    assert out.startswith(NOT_YET) and "AttributeError" in out


USAGE = Usage(input_tokens=42, output_tokens=148)


RIGHT_COST = (42 * 3 + 148 * 15) / 1_000_000  # 0.002346 dollars


def test_the_right_cost_passes(capsys):
    check_cost(RIGHT_COST, USAGE, model="claude-sonnet-4-6")
    assert verdict(capsys).startswith(PASS)


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        ((42 * 15 + 148 * 3) / 1_000_000, "swapped"),
        (42 * 3 + 148 * 15, "per million"),
        (1.0, "is not what this call cost"),
        (round(RIGHT_COST, 4), "Don't round: keep the full value"),
        (round(RIGHT_COST, 3), "Don't round: keep the full value"),
        (float(f"{RIGHT_COST:.2g}"), "Don't round: keep the full value"),
    ],
    ids=["swapped", "per-million", "far-off", "rounded-4-places", "rounded-3-places", "2-significant-figures"],
)
def test_each_costing_mistake_gets_a_specific_hint(capsys, value, hint):
    check_cost(value, USAGE, model="claude-sonnet-4-6")
    out = verdict(capsys)
    assert out.startswith(NOT_YET) and hint in out, out


@pytest.mark.parametrize("value", [1.0, 0.5, (42 * 15 + 148 * 3) / 1_000_000, 42 * 3 + 148 * 15])
def test_no_hint_gives_the_answer_away(capsys, value):
    check_cost(value, USAGE, model="claude-sonnet-4-6")
    out = verdict(capsys)
    for spelled in (f"{RIGHT_COST:.6f}", f"{RIGHT_COST:g}", f"{RIGHT_COST:.4f}", str(RIGHT_COST)):
        assert spelled not in out, f"the hint names the answer ({spelled}): {out}"


def test_a_rounded_cost_is_not_told_the_formula_it_already_used(capsys):
    check_cost(round(RIGHT_COST, 4), USAGE, model="claude-sonnet-4-6")
    out = verdict(capsys)
    assert "Multiply input_tokens" not in out, out


def test_the_cost_check_takes_the_reply_by_name_as_the_lesson_cell_does(capsys):
    my_cost, short = RIGHT_COST, Message.model_validate(message_json("...", usage=USAGE.model_dump()))
    check_cost("my_cost", "short", model="claude-sonnet-4-6")
    assert verdict(capsys).startswith(PASS), (my_cost, short)


def test_the_cost_check_says_run_the_cells_above_when_the_reply_is_missing(capsys):
    my_cost = RIGHT_COST
    check_cost("my_cost", "short")  # `short` was never made: its cell failed, with no key, say
    out = verdict(capsys)
    assert out.startswith(NOT_YET) and "`short`" in out and "run the cells above first" in out, (out, my_cost)
