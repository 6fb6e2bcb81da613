"""What an exercise check decided, in a form both a student and a program can read.

Every check prints one line for the student (✅ or ❌ with a hint). Inside a Jupyter kernel it also
publishes its verdict as a `display_data` output of its own MIME type, VERDICT_MIME. JupyterLab has
no renderer for that type, so the student sees nothing more; the saved notebook keeps it, and
`python3 workbook.py grade` reads it (instructor/grading.py). The verdicts of this session are kept
too, for the progress line at the end of each lesson.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from typing import Any

VERDICT_MIME = "application/vnd.llm-workbook.verdict+json"


@dataclass(frozen=True)
class Exercise:
    """One exercise of a lesson, as its check knows it."""

    lesson: str  # "01": the number the lesson's file name starts with
    number: int
    title: str
    check: str  # the name of its check function

    @property
    def label(self) -> str:
        return f"{self.number} · {self.title}"


@dataclass(frozen=True)
class Verdict:
    lesson: str
    exercise: int
    title: str
    passed: bool
    hint: str  # the line the student read, without its ✅ or ❌

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Verdict | None:
        """The verdict in a saved output, or None when it is not one (hand-made, damaged)."""
        types = {"lesson": str, "exercise": int, "title": str, "passed": bool, "hint": str}
        if not isinstance(data, dict) or set(data) != set(types):
            return None
        if not all(type(data[name]) is kind for name, kind in types.items()):
            return None
        return cls(**data)


# Filled as the checks modules are imported: lesson -> number -> Exercise.
EXERCISES: dict[str, dict[int, Exercise]] = {}
# The latest verdict of each exercise in this session (this kernel): (lesson, number) -> Verdict.
LATEST: dict[tuple[str, int], Verdict] = {}


def register(exercise: Exercise) -> None:
    known = EXERCISES.setdefault(exercise.lesson, {})
    if known.get(exercise.number, exercise) != exercise:
        raise ValueError(f"lesson {exercise.lesson} has two checks for exercise {exercise.number}")
    known[exercise.number] = exercise


def publish(verdict: Verdict) -> None:
    """Keep the verdict for the progress line, and, in a Jupyter kernel, put it in the cell's outputs."""
    LATEST[(verdict.lesson, verdict.exercise)] = verdict
    ipython = sys.modules.get("IPython")  # not imported: not in a kernel, and no reason to import it
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None and getattr(shell, "kernel", None) is not None:
        from IPython.display import display

        display({VERDICT_MIME: verdict.to_json()}, raw=True)


def _count(passing: int, total: int) -> str:
    return f"{passing} of {total} exercise{'s pass' if total != 1 else ' passes'}"


def progress_line(lesson: str) -> str:
    """How many of a lesson's exercises pass right now, by the latest run of each check in this session."""
    exercises = sorted(EXERCISES.get(lesson, {}).values(), key=lambda exercise: exercise.number)
    if not exercises:
        return f"Lesson {lesson} has no checked exercises."
    latest = [(exercise, LATEST.get((lesson, exercise.number))) for exercise in exercises]
    passing = [exercise.label for exercise, verdict in latest if verdict is not None and verdict.passed]
    failing = [exercise.label for exercise, verdict in latest if verdict is not None and not verdict.passed]
    unchecked = [exercise.label for exercise, verdict in latest if verdict is None]
    parts = [_count(len(passing), len(exercises)) + (f": {', '.join(passing)}" if passing else "") + "."]
    if failing:
        parts.append(f"Not yet: {', '.join(failing)}.")
    if unchecked:
        parts.append(f"Not checked in this session (run its cell): {', '.join(unchecked)}.")
    return " ".join(parts)
