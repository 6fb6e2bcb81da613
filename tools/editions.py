"""What tells the editions apart on the page, and in a notebook's metadata.

The notebook builds (tools/build_notebooks.py) write these lines; the student pack (tools/pack.py)
swaps the ones that point to solutions/ for ones that do not, as the pack has no solutions. (Which
lesson and edition a notebook is goes in its metadata, whose home is helpers/grading.py.)
Kept free of the build's own dependencies (jupytext), so the pack needs only the lessons' install.
"""

from __future__ import annotations


def student_label(filename: str, *, solutions_ship: bool = True) -> str:
    """The line under a student edition's navigation."""
    if solutions_ship:
        where = f"worked solutions are in [solutions/{filename}](../solutions/{filename})"
    else:
        where = "your instructor has the worked solutions"
    return f"**Student edition.** Try the exercises yourself first; {where}."


def solution_label(filename: str) -> str:
    """The line under an instructor edition's navigation."""
    return (
        f"**Instructor edition, with solutions.** For the student edition: "
        f"[notebooks/{filename}](../notebooks/{filename})."
    )


def contents_solutions_note(*, solutions_ship: bool = True) -> str:
    """What the contents page says about solutions."""
    if solutions_ship:
        return "Each lesson has an instructor edition with worked solutions in `solutions/`; its header links to it."
    return "Try every exercise yourself: its check tells you at once whether your answer works."
