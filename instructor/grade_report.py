"""The grader's table, for a spreadsheet (grades.csv) and for reading (grades.html).

One row per notebook, one column per exercise. In the HTML each lesson has a table of its own, with
✅ or ❌ in each cell, the check's hint on hover, and the totals underneath; notebooks that were not
graded are listed last, each with the reason.
"""

from __future__ import annotations

import csv
from html import escape
from pathlib import Path

from helpers.checks.verdicts import Exercise

from .grades import Lesson, Row


def _exercise_column(lesson: Lesson, exercise: Exercise) -> str:
    return f"{lesson.number}.{exercise.number} {exercise.title}"


def _lessons(rows: list[Row]) -> list[Lesson]:
    found = {row.lesson.number: row.lesson for row in rows if row.graded and row.lesson is not None}
    return [found[number] for number in sorted(found)]


def write_csv(rows: list[Row], path: Path) -> Path:
    """notebook, lesson, passed, exercises, note, seconds, then per exercise "pass"/"fail" and its hint."""
    columns = [(lesson, exercise) for lesson in _lessons(rows) for exercise in lesson.exercises]
    header = ["notebook", "lesson", "passed", "exercises", "note", "seconds"]
    for lesson, exercise in columns:
        name = _exercise_column(lesson, exercise)
        header += [name, f"{name} (hint)"]
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        for row in rows:
            graded = row.graded and row.lesson is not None
            line = [
                row.notebook,
                row.lesson.number if row.lesson else "",
                row.passed if graded else "",
                len(row.verdicts) if graded else "",
                row.note,
                f"{row.seconds:.1f}" if graded else "",
            ]
            by_exercise = {(v.lesson, v.exercise): v for v in row.verdicts}
            for lesson, exercise in columns:
                verdict = by_exercise.get((lesson.number, exercise.number))
                line += ["pass" if verdict.passed else "fail", verdict.hint] if verdict else ["", ""]
            writer.writerow(line)
    return path


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin-bottom: 2rem; }
th, td { border: 1px solid #ccc; padding: 0.35rem 0.6rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.verdict { text-align: center; cursor: help; }
td.passes { background: #e6f4e6; }
td.not-yet { background: #fbe9e7; }
td.note { color: #8a4b00; max-width: 32rem; }
tfoot td { font-weight: bold; background: #fafafa; }
"""


def _lesson_table(lesson: Lesson, rows: list[Row]) -> str:
    head = "".join(f'<th scope="col">{escape(exercise.label)}</th>' for exercise in lesson.exercises)
    body = []
    for row in rows:
        cells = []
        for verdict in row.verdicts:
            mark, word = ("✅", "passes") if verdict.passed else ("❌", "not-yet")
            cells.append(f'<td class="verdict {word}" title="{escape(verdict.hint)}" aria-label="{word}">{mark}</td>')
        body.append(
            f'<tr><th scope="row">{escape(row.notebook)}</th>{"".join(cells)}'
            f"<td>{row.passed} of {len(lesson.exercises)}</td>"
            f'<td class="note">{escape(row.note)}</td></tr>'
        )
    totals = "".join(
        f"<td>{sum(row.verdicts[i].passed for row in rows)} of {len(rows)}</td>" for i in range(len(lesson.exercises))
    )
    complete = sum(row.passed == len(lesson.exercises) for row in rows)
    return (
        f'<h2 id="lesson-{lesson.number}">Lesson {escape(lesson.title)}</h2>\n'
        f'<table class="grades" data-lesson="{lesson.number}">\n'
        f'<thead><tr><th scope="col">Notebook</th>{head}'
        '<th scope="col">Passed</th><th scope="col">Note</th></tr></thead>\n'
        f"<tbody>\n" + "\n".join(body) + "\n</tbody>\n"
        f"<tfoot><tr><td>Total</td>{totals}<td>{complete} of {len(rows)} complete</td><td></td></tr></tfoot>\n"
        "</table>"
    )


def write_html(rows: list[Row], path: Path) -> Path:
    sections = []
    for lesson in _lessons(rows):
        these = [row for row in rows if row.graded and row.lesson is not None and row.lesson.number == lesson.number]
        sections.append(_lesson_table(lesson, these))
    skipped = [row for row in rows if not row.graded]
    if skipped:
        items = "\n".join(
            f'<tr><th scope="row">{escape(row.notebook)}</th><td class="note">{escape(row.note)}</td></tr>'
            for row in skipped
        )
        sections.append(
            '<h2 id="not-graded">Not graded</h2>\n<table class="not-graded">\n'
            '<thead><tr><th scope="col">Notebook</th><th scope="col">Why</th></tr></thead>\n'
            f"<tbody>\n{items}\n</tbody>\n</table>"
        )
    page = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Grades</title>\n'
        f"<style>{STYLE}</style>\n</head>\n<body>\n<h1>Grades</h1>\n"
        "<p>Each notebook ran offline from the workbook's recordings, with no key; then the grader ran every "
        "exercise's check. Hover over a mark for the check's message.</p>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )
    path.write_text(page, encoding="utf-8")
    return path
