"""Lesson 00's exercise checks: right answers pass, each typical mistake gets its own hint."""

from __future__ import annotations

import pytest

from helpers.checks import NOT_YET, PASS
from helpers.checks.lesson00 import ANSWERS, check_local_settings, check_placements

GOOD_SETTINGS = {
    "ANTHROPIC_BASE_URL": "http://localhost:11434",
    "ANTHROPIC_API_KEY": "ollama",
    "WORKBOOK_MODEL": "qwen3:8b",
    "WORKBOOK_MODE": "live",
}


def verdict(capsys) -> str:
    return capsys.readouterr().out.strip()


def test_the_right_placements_pass(capsys):
    check_placements(dict(ANSWERS))
    assert verdict(capsys).startswith(PASS)


def test_a_wrong_placement_names_the_situation(capsys):
    check_placements({**ANSWERS, "offline": "hosted"})
    out = verdict(capsys)
    assert out.startswith(NOT_YET) and "'offline'" in out


def test_placeholders_are_not_yet(capsys):
    check_placements(dict.fromkeys(ANSWERS, ...))
    assert verdict(capsys).startswith(NOT_YET)


def test_the_right_local_settings_pass(capsys):
    check_local_settings(GOOD_SETTINGS)
    assert verdict(capsys).startswith(PASS)


@pytest.mark.parametrize(
    ("change", "hint"),
    [
        ({"ANTHROPIC_BASE_URL": "http://localhost:11434/v1"}, "leave /v1 off"),
        ({"ANTHROPIC_BASE_URL": "http://localhost:8000"}, "11434"),
        ({"ANTHROPIC_API_KEY": ""}, "non-empty"),
        ({"ANTHROPIC_API_KEY": "sk-ant-api03-real"}, "real Anthropic key"),
        ({"WORKBOOK_MODEL": "claude-sonnet-4-6"}, "qwen3:8b"),
        ({"WORKBOOK_MODE": "auto"}, "'live'"),
    ],
)
def test_each_settings_mistake_gets_a_specific_hint(capsys, change, hint):
    check_local_settings({**GOOD_SETTINGS, **change})
    out = verdict(capsys)
    assert out.startswith(NOT_YET) and hint in out, out
