"""Feedback for each student: one small HTML page per graded submission, and feedback.csv.

    python3 workbook.py grade DIR --out OUT --feedback

writes OUT/feedback/<submission>.html for every notebook graded: each exercise with ✅ or ❌ and its
check's hint, the code cell where the student's code stopped (if it did) with what went wrong, and
how to run the checks again themselves. A page is made from its own submission's row only, so nothing
of one student's work appears in another's. OUT/feedback.csv has a row per submission: the page, the
notebook, the student, the lesson, a column per exercise (1 or 0) and the total, the shape a course
site's gradebook imports. The student is the submission's first folder (alice/01.ipynb: alice), or
its file name without .ipynb when it sits at the top of DIR.
"""

from __future__ import annotations

import csv
import re
from html import escape
from pathlib import Path, PurePosixPath

from .grades import Row

FOLDER = "feedback"
TABLE = "feedback.csv"

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 48rem; color: #222; line-height: 1.5; }
li.exercise { margin: 0.6rem 0; list-style: none; }
.mark { font-size: 1.2rem; margin-right: 0.4rem; }
.hint { margin: 0.2rem 0 0 2rem; color: #444; }
.stopped { background: #fbe9e7; border-left: 4px solid #c0392b; padding: 0.4rem 1rem; }
pre { background: #f6f8fa; border: 1px solid #d0d7de; padding: 0.6rem; overflow-x: auto; white-space: pre-wrap; }
.rerun { background: #eef4fb; border-left: 4px solid #3b6fb6; padding: 0.4rem 1rem; }
"""


def student_of(notebook: str) -> str:
    """Who a submission is from: its first folder, else its file name without .ipynb."""
    parts = PurePosixPath(notebook).parts
    return parts[0] if len(parts) > 1 else PurePosixPath(notebook).stem


def page_names(rows: list[Row]) -> list[str]:
    """One file name per row, from its path, safe on any system, and never the same twice."""
    names, taken = [], set()
    for row in rows:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "_", row.notebook.removesuffix(".ipynb").replace("/", "__")).strip("._")
        name, count = f"{stem or 'submission'}.html", 1
        while name.lower() in taken:
            count += 1
            name = f"{stem}-{count}.html"
        taken.add(name.lower())
        names.append(name)
    return names


def _exercises(row: Row) -> str:
    items = []
    for verdict in row.verdicts:
        mark, word = ("✅", "passes") if verdict.passed else ("❌", "not yet")
        items.append(
            f'<li class="exercise {word.replace(" ", "-")}" data-exercise="{verdict.exercise}">'
            f'<span class="mark" aria-label="{word}">{mark}</span>'
            f"<strong>Exercise {verdict.exercise} · {escape(verdict.title)}</strong>"
            f'<p class="hint">{escape(verdict.hint)}</p></li>'
        )
    return '<ul class="exercises">\n' + "\n".join(items) + "\n</ul>"


def _stopped(row: Row) -> str:
    if row.stopped is None:
        return ""
    return (
        '<section class="stopped">\n<h2>Where your code stopped</h2>\n'
        f"<p>Code cell {row.stopped.cell} (counting code cells from the top) {escape(row.stopped.reason)}. "
        "Run All stops there too; fix it, and the cells after it run again.</p>\n"
        f"<pre>{escape(row.stopped.source)}</pre>\n</section>"
    )


def _rerun(row: Row) -> str:
    assert row.lesson is not None
    calls = "\n\n".join(row.lesson.check_code[verdict.exercise] for verdict in row.verdicts)
    return (
        '<section class="rerun">\n<h2>Check it again yourself</h2>\n'
        f"<p>Open your notebook (<code>{escape(PurePosixPath(row.notebook).name)}</code>) in the workbook: run "
        "<code>python3 workbook.py lab</code>, then <strong>Run ▸ Run All Cells</strong>. Each exercise's check "
        "cell prints the same verdict as here, offline and with no key. To run one check on its own, put its "
        "lines in a cell at the end of the notebook:</p>\n"
        f"<pre>{escape(calls)}</pre>\n</section>"
    )


def page(row: Row) -> str:
    """One submission's feedback page, made from its row only."""
    title = f"Feedback: {row.notebook}"
    if row.graded and row.lesson is not None:
        summary = f"<p>Lesson {escape(row.lesson.title)}: {row.passed} of {len(row.verdicts)} exercises pass.</p>"
        body = "\n".join(part for part in (summary, _exercises(row), _stopped(row), _rerun(row)) if part)
    else:
        reason = row.note.removeprefix("not graded: ")
        body = f'<p class="not-graded">This notebook was not graded: {escape(reason)}.</p>'
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{escape(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<h1>{escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def write_feedback(rows: list[Row], out: Path) -> tuple[list[Path], Path]:
    """Write out/feedback/*.html and out/feedback.csv; the pages written, and the table."""
    folder = out / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    names = page_names(rows)
    pages = []
    for row, name in zip(rows, names, strict=True):
        path = folder / name
        path.write_text(page(row), encoding="utf-8")
        pages.append(path)
    exercises = sorted(
        {(v.lesson, v.exercise): f"{v.lesson}.{v.exercise} {v.title}" for row in rows for v in row.verdicts}.items()
    )
    table = out / TABLE
    with table.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(["file", "notebook", "student", "lesson", *(label for _, label in exercises), "total"])
        for row, name in zip(rows, names, strict=True):
            scores = {(v.lesson, v.exercise): int(v.passed) for v in row.verdicts}
            graded = row.graded and row.lesson is not None
            writer.writerow(
                [
                    f"{FOLDER}/{name}",
                    row.notebook,
                    student_of(row.notebook),
                    row.lesson.number if row.lesson else "",
                    *(scores.get(key, "") for key, _ in exercises),
                    row.passed if graded else "",
                ]
            )
    return pages, table
