"""What tells the editions apart: their names, a notebook's metadata, and the lines on the page.

Every generated lesson notebook carries its lesson and edition in its metadata under METADATA_KEY
(the build writes it, the grader reads it). Under its navigation, each edition says where the other
one is; in the student pack, which has no solutions, the student edition says the instructor has them.
"""

from __future__ import annotations

STUDENT, SOLUTION = "student", "solution"
METADATA_KEY = "llm_workbook"

# How the instructor edition's header starts: the grader knows that edition by it when the metadata is gone.
SOLUTION_LABEL_START = "**Instructor edition, with solutions.**"


def student_label(filename: str, *, solutions_ship: bool = True) -> str:
    """The line under a student edition's navigation."""
    if solutions_ship:
        where = f"worked solutions are in [solutions/{filename}](../solutions/{filename})"
    else:
        where = "your instructor has the worked solutions"
    return f"**Student edition.** Try the exercises yourself first; {where}."


def solution_label(filename: str) -> str:
    """The line under an instructor edition's navigation."""
    return f"{SOLUTION_LABEL_START} For the student edition: [notebooks/{filename}](../notebooks/{filename})."


def contents_solutions_note(*, solutions_ship: bool = True) -> str:
    """What the contents page says about solutions."""
    if solutions_ship:
        return "Each lesson has an instructor edition with worked solutions in `solutions/`; its header links to it."
    return "Try every exercise yourself: its check tells you at once whether your answer works."
