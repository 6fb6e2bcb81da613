"""What grading produces, shared by the grader (grading.py) and its table (grade_report.py): a lesson as
it is graded, and one notebook's row."""

from __future__ import annotations

from dataclasses import dataclass, field

from helpers.checks.verdicts import Exercise, Verdict


@dataclass(frozen=True)
class Lesson:
    """A lesson as the workbook ships it: what to compare a submission with, and how to check it."""

    number: str  # "01"
    title: str
    exercises: tuple[Exercise, ...]
    check_code: dict[int, str]  # exercise number -> the code the grader runs to check it


@dataclass(frozen=True)
class Stop:
    """Where a student's code stopped: which code cell (counting from 1), what it held, and why."""

    cell: int
    source: str
    reason: str  # "raised NameError: ...", "ran past its 180 s limit"


@dataclass
class Row:
    """One notebook's grade."""

    notebook: str  # its path under the graded folder
    lesson: Lesson | None = None
    note: str = ""  # what went wrong, or why it was not graded; "" when it ran cleanly
    graded: bool = False
    verdicts: list[Verdict] = field(default_factory=list)  # one per exercise of its lesson, in order
    seconds: float = 0.0  # how long grading it took, kernel start included
    stopped: Stop | None = None  # the first code cell that raised or ran out of time, if one did

    @property
    def passed(self) -> int:
        return sum(verdict.passed for verdict in self.verdicts)
