"""What a check publishes: the verdict a program reads, and the progress line a student reads."""

from __future__ import annotations

import pytest

from helpers.checks import progress
from helpers.checks import verdicts as module
from helpers.checks.lesson01 import check_request, check_was_cut_off
from helpers.checks.verdicts import EXERCISES, Verdict, progress_line


@pytest.fixture(autouse=True)
def fresh_session(monkeypatch):
    """Each test starts as a new kernel would: no check has run yet."""
    monkeypatch.setattr(module, "LATEST", {})


def test_every_lesson_with_checks_registers_its_exercises_numbered_from_one():
    import helpers.checks.lesson01  # noqa: F401 - registers lesson 01's exercises

    numbers = sorted(EXERCISES["01"])
    assert numbers == list(range(1, len(numbers) + 1))
    assert all(exercise.lesson == "01" and exercise.title for exercise in EXERCISES["01"].values())


def test_a_check_publishes_its_verdict_with_the_line_the_student_read(capsys):
    check_request(...)
    line = capsys.readouterr().out.strip()
    verdict = module.LATEST[("01", 1)]
    assert verdict.passed is False and verdict.title == "Build a request"
    assert line.endswith(verdict.hint)


def test_the_progress_line_counts_passing_failing_and_unchecked_exercises(capsys):
    check_request(...)
    check_was_cut_off(lambda response: response.stop_reason == "max_tokens")
    capsys.readouterr()
    line = progress_line("01")
    total = len(EXERCISES["01"])
    assert line.startswith(f"1 of {total} exercises pass: 2 · Spot a truncated reply.")
    assert "Not yet: 1 · Build a request." in line
    assert "Not checked in this session (run its cell): 3 · " in line


def test_progress_registers_a_lessons_exercises_even_when_no_check_ran(capsys):
    progress("02")
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"0 of {len(EXERCISES['02'])} exercises pass.") and "Not checked" in line


def test_one_exercise_reads_in_the_singular():
    import helpers.checks.lesson05  # noqa: F401 - registers lesson 05's one exercise

    assert progress_line("05").startswith("0 of 1 exercise passes.")


@pytest.mark.parametrize(
    "data",
    [
        None,
        [],
        {"lesson": "01", "exercise": 1, "title": "t", "passed": "yes", "hint": ""},
        {"lesson": "01", "exercise": 1, "title": "t", "passed": True},
        {"lesson": "01", "exercise": True, "title": "t", "passed": True, "hint": ""},
        {"lesson": "01", "exercise": 1, "title": "t", "passed": True, "hint": "", "extra": 1},
    ],
)
def test_a_saved_verdict_that_is_not_one_is_refused(data):
    assert Verdict.from_json(data) is None


def test_a_verdict_survives_the_round_trip_through_a_saved_notebook():
    verdict = Verdict("03", 2, "Trim a history", True, "fine")
    assert Verdict.from_json(verdict.to_json()) == verdict
