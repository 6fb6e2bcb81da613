"""`workbook.py grade`: every kind of submission gets the row it should, and grading goes on.

The submissions are made here from lesson 01's two shipped editions: the student edition with the
worked answers put in (all, one, wrong ones), then broken in the ways real submissions are. They are
graded once, as an instructor would: the two that run into the time limit in a folder of their own,
with a short limit, beside the rest, since waiting out a generous one is all they would add.
"""

from __future__ import annotations

import copy
import csv
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from helpers.checks.verdicts import VERDICT_MIME
from instructor.feedback import write_feedback
from instructor.grade_report import write_csv, write_html
from instructor.grades import Row
from instructor.grading import TimeLimits, grade_folder, shipped_lessons, summary_lines
from tools.build_notebooks import notebook_bytes, write_notebook
from workbook_base.editions import METADATA_KEY

ROOT = Path(__file__).resolve().parent.parent
STUDENT_NOTEBOOK = nbformat.read(ROOT / "notebooks" / "01_call_anatomy.ipynb", as_version=4)
SOLUTION_NOTEBOOK = nbformat.read(ROOT / "solutions" / "01_call_anatomy.ipynb", as_version=4)
LESSON = shipped_lessons()["01"]
LIMITS = TimeLimits(notebook=45, check=30)  # generous: other tests share the cores
# For the submissions that never finish: the lesson's cells before them take a few seconds.
SHORT_LIMITS = TimeLimits(notebook=15, check=6)
# A key in the grader's own environment, which no student's kernel may see (built from parts, so no
# key-shaped text is in the repository).
INSTRUCTORS_KEY = "-".join(["sk", "ant", "instructors", "own", "key"])


def exercise_cell(notebook: nbformat.NotebookNode, number: int) -> int:
    """The index of the cell that calls exercise `number`'s check."""
    check = next(exercise.check for exercise in LESSON.exercises if exercise.number == number)
    return next(i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code" and f"{check}(" in cell.source)


def answered(*numbers: int) -> nbformat.NotebookNode:
    """The student edition with the worked answers to some exercises, and without the stored outputs."""
    notebook = copy.deepcopy(STUDENT_NOTEBOOK)
    for number in numbers:
        index = exercise_cell(notebook, number)
        notebook.cells[index].source = SOLUTION_NOTEBOOK.cells[exercise_cell(SOLUTION_NOTEBOOK, number)].source
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook


def with_cell(notebook: nbformat.NotebookNode, before_exercise: int, source: str) -> nbformat.NotebookNode:
    notebook = copy.deepcopy(notebook)
    notebook.cells.insert(exercise_cell(notebook, before_exercise), nbformat.v4.new_code_cell(source))
    return notebook


def edited(notebook: nbformat.NotebookNode, number: int, old: str, new: str) -> nbformat.NotebookNode:
    notebook = copy.deepcopy(notebook)
    cell = notebook.cells[exercise_cell(notebook, number)]
    assert old in cell.source, f"exercise {number}'s answer no longer contains {old!r}: update this test"
    cell.source = cell.source.replace(old, new)
    return notebook


def wrong() -> nbformat.NotebookNode:
    notebook = edited(answered(1, 2, 3), 1, '"max_tokens": 200', '"max_tokens": 100')
    notebook = edited(notebook, 2, '== "max_tokens"', '== "end_turn"')
    return edited(notebook, 3, "* price.output", "* price.input")


def reordered() -> nbformat.NotebookNode:
    notebook = answered(1, 2, 3)
    first, second = exercise_cell(notebook, 1), exercise_cell(notebook, 2)
    notebook.cells[first], notebook.cells[second] = notebook.cells[second], notebook.cells[first]
    return notebook


def checks_deleted() -> nbformat.NotebookNode:
    notebook = answered(1, 2, 3)
    for number in (1, 2, 3):
        cell = notebook.cells[exercise_cell(notebook, number)]
        cell.source = "\n".join(line for line in cell.source.splitlines() if not line.startswith("check_"))
    return notebook


def without_metadata() -> nbformat.NotebookNode:
    notebook = answered(1, 2, 3)
    del notebook.metadata[METADATA_KEY]
    return notebook


FORGED = f"""from IPython.display import display
display({{"{VERDICT_MIME}": {{"lesson": "01", "exercise": 1, "title": "Build a request", "passed": True, "hint": ""}}}}, raw=True)"""  # noqa: E501

PEEKS = f"""import os, pathlib
import helpers.settings
secret = ("KEY", "SECRET", "TOKEN")
seen = [name for name, value in os.environ.items() if any(w in name for w in secret) or "ant-" in value]
assert not seen, f"the kernel sees {{seen}}"
assert os.environ.get("WORKBOOK_MODE") == "replay"
workbook = pathlib.Path(helpers.settings.REPO_ROOT)
assert workbook != pathlib.Path({str(ROOT)!r}), "the kernel imports the grader's own helpers, beside its .env"
assert not (workbook / ".env").exists() and not pathlib.Path(".env").exists()"""

# Swallows the interrupt the time limit sends, so the kernel never answers again.
STUBBORN = """import time
while True:
    try:
        time.sleep(0.2)
    except BaseException:
        pass"""

# Shows a passing verdict from inside the function its check runs, then fails honestly.
FORGED_INSIDE = f"""from IPython.display import display


def was_cut_off(response):
    display({{"{VERDICT_MIME}": {{"lesson": "01", "exercise": 2, "title": "Spot a truncated reply", "passed": True, "hint": ""}}}}, raw=True)
    return None"""  # noqa: E501


def malformed() -> str:
    notebook = notebook_bytes(answered(1)).decode()
    return notebook.replace('"cell_type": "code"', '"cell_kind": "code"', 1)


def write(folder: Path, name: str, notebook: nbformat.NotebookNode | str) -> None:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(notebook, str):
        path.write_text(notebook)
    else:
        write_notebook(notebook, path)


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Row]:
    folder = tmp_path_factory.mktemp("submissions")
    unknown = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('my own notebook')")])
    submissions: dict[str, nbformat.NotebookNode | str] = {
        "correct.ipynb": answered(1, 2, 3),
        "half/done.ipynb": answered(1),
        "wrong.ipynb": wrong(),
        "raising.ipynb": with_cell(answered(1, 2, 3), 1, "raise RuntimeError('my mistake')"),
        "reordered.ipynb": reordered(),
        "checks deleted.ipynb": checks_deleted(),
        "renamed.ipynb": edited(answered(1, 2, 3), 1, "my_request = {", "request = {"),
        "no metadata.ipynb": without_metadata(),
        "forged.ipynb": with_cell(answered(), 1, FORGED),
        "forged inside.ipynb": with_cell(answered(), 3, FORGED_INSIDE),
        "<b>escaped</b>.ipynb": with_cell(answered(1, 2, 3), 1, "raise RuntimeError('<script>alert(1)</script>')"),
        "malformed.ipynb": malformed(),
        "peeks at keys.ipynb": with_cell(answered(1, 2, 3), 1, PEEKS),
        "corrupt.ipynb": '{"cells": [',
        "not a notebook.ipynb": '{"hello": "world"}',
        "unknown.ipynb": unknown,
        "lesson 02.ipynb": nbformat.read(ROOT / "notebooks" / "02_roles.ipynb", as_version=4),
        "solutions.ipynb": SOLUTION_NOTEBOOK,
        ".ipynb_checkpoints/correct-checkpoint.ipynb": answered(1, 2, 3),
    }
    never_finish = {
        "looping.ipynb": with_cell(answered(1), 2, "while True:\n    pass"),
        "stubborn.ipynb": with_cell(answered(1), 2, STUBBORN),
    }
    slow_folder = tmp_path_factory.mktemp("submissions that never finish")
    for target, batch in ((folder, submissions), (slow_folder, never_finish)):
        for name, notebook in batch.items():
            write(target, name, notebook)
    mp = pytest.MonkeyPatch()
    mp.setenv("ANTHROPIC_API_KEY", INSTRUCTORS_KEY)
    mp.setenv("MY_SECRET_TOKEN", INSTRUCTORS_KEY)
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            rest = pool.submit(grade_folder, folder, expected="01", limits=LIMITS, jobs=2)
            slow = pool.submit(grade_folder, slow_folder, expected="01", limits=SHORT_LIMITS, jobs=2)
            rows = rest.result() + slow.result()
    finally:
        mp.undo()
    return {row.notebook: row for row in rows}


def passes(row: Row) -> list[int]:
    return [verdict.exercise for verdict in row.verdicts if verdict.passed]


def test_every_notebook_gets_one_row_and_checkpoints_are_skipped(graded):
    assert ".ipynb_checkpoints/correct-checkpoint.ipynb" not in graded
    assert len(graded) == 20


def test_the_worked_answers_pass_every_exercise(graded):
    row = graded["correct.ipynb"]
    assert row.graded and row.note == "" and passes(row) == [1, 2, 3]


def test_a_half_done_notebook_passes_only_what_it_did_with_the_checks_hint_for_the_rest(graded):
    row = graded["half/done.ipynb"]
    assert passes(row) == [1]
    assert all(verdict.hint for verdict in row.verdicts if not verdict.passed)


def test_wrong_answers_fail_each_with_its_own_hint(graded):
    row = graded["wrong.ipynb"]
    assert passes(row) == []
    hints = [verdict.hint for verdict in row.verdicts]
    assert "max_tokens" in hints[0] and len(set(hints)) == 3


def test_a_raising_cell_is_noted_and_the_rest_still_runs_and_is_graded(graded):
    row = graded["raising.ipynb"]
    assert "raised RuntimeError: my mistake" in row.note
    assert passes(row) == [1, 2, 3]


def test_a_loop_that_never_ends_is_stopped_at_the_limit_and_what_came_before_is_graded(graded):
    row = graded["looping.ipynb"]
    assert f"ran past its {SHORT_LIMITS.notebook:g} s limit" in row.note
    # Stopped, not hung: the note says the limit stopped it, and the checks after it still ran.
    assert passes(row) == [1]
    assert len(row.verdicts) == len(LESSON.exercises)


@pytest.mark.parametrize("name", ["reordered.ipynb", "checks deleted.ipynb", "no metadata.ipynb"])
def test_reordered_cells_deleted_check_calls_and_lost_metadata_do_not_change_the_grade(graded, name):
    assert passes(graded[name]) == [1, 2, 3], graded[name].verdicts


def test_a_renamed_answer_fails_its_exercise_naming_what_the_check_looked_for(graded):
    row = graded["renamed.ipynb"]
    assert passes(row) == [2, 3]
    assert "my_request" in row.verdicts[0].hint


@pytest.mark.parametrize("name", ["forged.ipynb", "forged inside.ipynb"])
def test_a_verdict_the_notebook_displays_itself_is_not_taken_for_the_grade(graded, name):
    assert passes(graded[name]) == []


def test_code_that_will_not_stop_when_interrupted_leaves_every_check_unrun_and_says_so(graded):
    row = graded["stubborn.ipynb"]
    assert f"ran past its {SHORT_LIMITS.notebook:g} s limit" in row.note
    assert passes(row) == []
    assert all("would not stop" in verdict.hint for verdict in row.verdicts)


def test_students_code_never_sees_the_instructors_key_or_env_file(graded):
    row = graded["peeks at keys.ipynb"]
    assert row.note == "", row.note
    assert passes(row) == [1, 2, 3]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("corrupt.ipynb", "not a notebook that can be read"),
        ("malformed.ipynb", "not graded"),
        ("not a notebook.ipynb", "not a notebook that can be read"),
        ("unknown.ipynb", "cannot tell which lesson"),
        ("lesson 02.ipynb", "this is lesson 02"),
        ("solutions.ipynb", "instructor edition"),
    ],
)
def test_what_cannot_be_graded_gets_a_row_that_says_why(graded, name, words):
    row = graded[name]
    assert not row.graded and not row.verdicts
    assert words in row.note


def test_the_csv_has_a_row_per_notebook_and_a_column_per_exercise(graded, tmp_path):
    rows = list(graded.values())
    with write_csv(rows, tmp_path / "grades.csv").open(newline="", encoding="utf-8") as file:
        table = list(csv.DictReader(file))
    assert [line["notebook"] for line in table] == [row.notebook for row in rows]
    by_name = {line["notebook"]: line for line in table}
    assert [by_name["half/done.ipynb"][f"01.{e.number} {e.title}"] for e in LESSON.exercises] == [
        "pass",
        "fail",
        "fail",
    ]
    assert by_name["corrupt.ipynb"]["01.1 Build a request"] == ""
    assert by_name["correct.ipynb"]["passed"] == "3"


def test_the_html_escapes_what_students_wrote_and_lists_the_ungraded_last(graded, tmp_path):
    page = write_html(list(graded.values()), tmp_path / "grades.html").read_text(encoding="utf-8")
    assert page.index('id="lesson-01"') < page.index('id="not-graded"')
    assert "raised RuntimeError: <script>" in graded["<b>escaped</b>.ipynb"].note
    assert "<script" not in page and "<b>escaped" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;escaped&lt;/b&gt;.ipynb" in page
    assert page.count('<tr><th scope="row">') == len(graded)


def test_the_summary_has_one_line_for_the_lesson_and_one_for_the_rest(graded):
    lines = summary_lines(list(graded.values()))
    assert len(lines) == 2
    assert lines[0].startswith("lesson 01 · ") and "14 notebooks" in lines[0]
    assert lines[1] == "not graded: 6 notebooks (each row says why)"


@pytest.mark.parametrize(
    ("arguments", "words"),
    [
        (["no such folder"], "is not a folder"),
        (["."], "No notebooks"),
        ([".", "--lesson", "three"], "two-digit number"),
    ],
)
def test_the_command_fails_in_one_line_that_says_what_to_do(tmp_path, arguments, words):
    (tmp_path / "empty").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "instructor.grading", *arguments], cwd=tmp_path / "empty", capture_output=True, text=True
    )
    assert done.returncode != 0
    assert words in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_feedback_gives_each_submission_its_own_page_and_a_csv_a_gradebook_imports(graded, tmp_path):
    rows = list(graded.values())
    pages, table = write_feedback(rows, tmp_path)
    assert len(pages) == len(rows) == len({page.name for page in pages})
    with table.open(newline="", encoding="utf-8") as file:
        lines = list(csv.DictReader(file))
    exercises = [f"01.{e.number} {e.title}" for e in LESSON.exercises]
    assert list(lines[0]) == ["file", "notebook", "student", "lesson", *exercises, "total"]
    by_name = {line["notebook"]: line for line in lines}
    assert [by_name["half/done.ipynb"][name] for name in exercises] == ["1", "0", "0"]
    assert by_name["half/done.ipynb"]["student"] == "half" and by_name["correct.ipynb"]["student"] == "correct"
    assert by_name["correct.ipynb"]["total"] == "3" and by_name["corrupt.ipynb"]["total"] == ""
    assert all((tmp_path / line["file"]).is_file() for line in lines)
    texts = {row.notebook: (tmp_path / by_name[row.notebook]["file"]).read_text(encoding="utf-8") for row in rows}
    # The raising notebook's own code shows on its page as where it stopped, and on no other page.
    assert "Where your code stopped" in texts["raising.ipynb"] and "my mistake" in texts["raising.ipynb"]
    assert [name for name, text in texts.items() if "my mistake" in text] == ["raising.ipynb"]
    assert "<script" not in texts["<b>escaped</b>.ipynb"]
    assert "Where your code stopped" not in texts["correct.ipynb"] and "Check it again yourself" in texts["wrong.ipynb"]
