"""The checks that read nbval's execution of each notebook (tests/notebook_checks.py) can fail."""

from __future__ import annotations

import base64
import io
from types import SimpleNamespace

from matplotlib.figure import Figure

from helpers.checks.verdicts import VERDICT_MIME
from tests import notebook_checks


def cell(source: str, nodeid: str = "notebooks/x.ipynb") -> SimpleNamespace:
    return SimpleNamespace(cell=SimpleNamespace(source=source), parent=SimpleNamespace(nodeid=nodeid))


def png(width_inches: float) -> str:
    buffer = io.BytesIO()
    Figure(figsize=(width_inches, 2), dpi=100).savefig(buffer, format="png")  # no pyplot: no backend, no state
    return base64.b64encode(buffer.getvalue()).decode()


def image(data: str) -> dict:
    return {"output_type": "display_data", "data": {"image/png": data}}


def verdict(exercise: int, passed: bool) -> dict:
    data = {"lesson": "01", "exercise": exercise, "title": "t", "passed": passed, "hint": "h"}
    return {"output_type": "display_data", "data": {VERDICT_MIME: data}}


def test_a_plot_cell_must_show_an_image_of_readable_width():
    drawing = cell("figure = plot_token_growth(turns)\nfigure")
    assert notebook_checks.plot_problem(drawing, [image(png(6))]) is None
    assert "no image" in notebook_checks.plot_problem(drawing, [{"output_type": "stream", "text": "x"}])
    assert "did not render" in notebook_checks.plot_problem(drawing, [image(png(1))])
    assert notebook_checks.plot_problem(cell("print(1)"), []) is None, "a cell that draws nothing needs no image"


def test_png_width_reads_the_header_and_refuses_what_is_not_a_png():
    assert notebook_checks.png_width(png(6)) == 600
    assert notebook_checks.png_width(base64.b64encode(b"GIF89a....").decode()) is None


def test_verdicts_must_pass_in_the_instructor_edition_and_fail_in_the_student_one():
    assert notebook_checks.verdict_problems(cell("check()", "a"), [verdict(1, True)], "solution") == []
    assert notebook_checks.verdict_problems(cell("check()", "b"), [verdict(1, False)], "student") == []
    (problem,) = notebook_checks.verdict_problems(cell("check()", "c"), [verdict(2, False)], "solution")
    assert "exercise 2" in problem and "fails" in problem
    (problem,) = notebook_checks.verdict_problems(cell("check()", "d"), [verdict(3, True)], "student")
    assert "exercise 3" in problem and "passes" in problem


def test_each_exercise_of_the_lesson_is_checked_exactly_once():
    last = cell("progress('01')", "lesson01")
    notebook_checks.verdict_problems(last, [verdict(1, True), verdict(1, True)], "solution")
    problems = notebook_checks.exercises_checked_once(last, "01")
    assert "exercise 1 was checked 2 times" in problems
    assert any("never checked" in problem for problem in problems), "lesson 01 has more than one exercise"
