"""Checks that read nbval's one execution of each notebook, instead of running it again.

nbval runs every cell of every notebook once per test run and compares its outputs with the stored
ones (sanitized text; it skips images). Right after a cell has run, and before the next one, this
plugin reads the same outputs (`IPyNbCell.test_outputs`) for what a text comparison cannot see:

- a cell that draws a plot shows a real image, not an empty or missing one;
- every exercise check publishes its verdict, and in the instructor edition every verdict passes,
  in the student edition none does (the exercise cells are empty there);
- by the end of a lesson, each of its exercises has been checked exactly once.

A failure is reported on the cell it is about, in one line. Loaded by the root conftest.py, so it
sees the notebooks in notebooks/ and solutions/ as well as the tests.
"""

from __future__ import annotations

import base64
import importlib
import re
import struct
from collections import Counter
from typing import Any

import pytest
from nbval.plugin import IPyNbCell

from helpers.checks.verdicts import EXERCISES, VERDICT_MIME
from workbook_base.editions import METADATA_KEY

DRAWS_A_PLOT = re.compile(r"^figure = plot_\w+\(", re.MULTILINE)
SMALLEST_PLOT_WIDTH = 300  # pixels: anything narrower is a failed or empty drawing, not a readable plot
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# The last cell of each notebook, filled at collection: where the whole-notebook checks run.
LAST_CELLS = pytest.StashKey[set[str]]()
# Verdicts seen so far, per notebook (its node id): exercise number -> how many times.
VERDICTS_SEEN: dict[str, Counter[int]] = {}


def png_width(data: str) -> int | None:
    """The width in pixels of a base64 PNG, read from its header; None if it is not a PNG."""
    raw = base64.b64decode(data)
    if not raw.startswith(PNG_SIGNATURE) or raw[12:16] != b"IHDR":
        return None
    return struct.unpack(">I", raw[16:20])[0]


def workbook_metadata(cell: IPyNbCell) -> dict[str, str]:
    """The lesson and edition the build wrote into the notebook (empty for the contents page)."""
    return dict(cell.parent.nb.metadata.get(METADATA_KEY, {}))


def plot_problem(cell: IPyNbCell, outputs: list[Any]) -> str | None:
    if not DRAWS_A_PLOT.search(cell.cell.source):
        return None
    widths = [png_width(output["data"]["image/png"]) for output in outputs if "image/png" in output.get("data", {})]
    if not widths:
        return "the cell draws a plot but shows no image"
    if max(width or 0 for width in widths) < SMALLEST_PLOT_WIDTH:
        return f"the cell's plot is {widths} px wide: it did not render"
    return None


def verdict_problems(cell: IPyNbCell, outputs: list[Any], edition: str) -> list[str]:
    problems = []
    seen = VERDICTS_SEEN.setdefault(cell.parent.nodeid, Counter())
    for output in outputs:
        verdict = output.get("data", {}).get(VERDICT_MIME)
        if verdict is None:
            continue
        seen[verdict["exercise"]] += 1
        should_pass = edition == "solution"
        if verdict["passed"] is not should_pass:
            state = "fails" if should_pass else "passes"
            number, hint = verdict["exercise"], verdict["hint"]
            problems.append(f"exercise {number}'s check {state} in the {edition} edition: {hint}")
    return problems


def exercises_checked_once(cell: IPyNbCell, lesson: str) -> list[str]:
    importlib.import_module(f"helpers.checks.lesson{lesson}")
    expected = set(EXERCISES.get(lesson, {}))
    seen = VERDICTS_SEEN.pop(cell.parent.nodeid, Counter())
    problems = [f"exercise {number} was never checked" for number in sorted(expected - set(seen))]
    problems += [f"exercise {number} was checked {count} times" for number, count in sorted(seen.items()) if count > 1]
    return problems


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    last: dict[object, str] = {}
    for item in items:
        if isinstance(item, IPyNbCell):
            last[item.parent] = item.nodeid
    config.stash[LAST_CELLS] = set(last.values())


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    result = yield  # nbval ran the cell and compared its outputs; a failure there stops here
    if not isinstance(item, IPyNbCell) or item.test_outputs is None:
        return result
    metadata = workbook_metadata(item)
    problems = [plot_problem(item, item.test_outputs)]
    if metadata:
        problems += verdict_problems(item, item.test_outputs, metadata["edition"])
        if item.nodeid in item.config.stash.get(LAST_CELLS, set()):
            problems += exercises_checked_once(item, metadata["lesson"][:2])
    problems = [problem for problem in problems if problem]
    if problems:
        raise AssertionError("; ".join(problems))
    return result
