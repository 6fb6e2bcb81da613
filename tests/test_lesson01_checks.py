"""Lesson 01's exercise checks: right answers pass, each typical mistake gets its own hint."""

from __future__ import annotations

import pytest
from anthropic.types import Usage

from helpers import MODEL
from helpers.checks import NOT_YET, PASS
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
    ],
)
def test_each_mistake_in_the_request_gets_a_specific_hint(capsys, change, hint):
    check_request({**good_request(), **change})
    out = verdict(capsys)
    assert out.startswith(NOT_YET) and hint in out, out


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


def test_the_right_cost_passes(capsys):
    check_cost((42 * 3 + 148 * 15) / 1_000_000, USAGE, "claude-sonnet-4-6")
    assert verdict(capsys).startswith(PASS)


@pytest.mark.parametrize(
    ("value", "hint"),
    [((42 * 15 + 148 * 3) / 1_000_000, "swapped"), (42 * 3 + 148 * 15, "per million"), (1.0, "expected about")],
)
def test_each_costing_mistake_gets_a_specific_hint(capsys, value, hint):
    check_cost(value, USAGE, "claude-sonnet-4-6")
    out = verdict(capsys)
    assert out.startswith(NOT_YET) and hint in out, out
