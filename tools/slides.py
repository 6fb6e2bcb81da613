"""Slide metadata for a lesson, so it presents as slides (RISE) with no hand editing.

RISE reads each cell's `metadata.slideshow.slide_type`. The build (tools/build_notebooks.py) marks
every cell of both editions from the lesson's own shape:

- the lesson's first cell (its `# Title` and goals) is the title slide;
- each `## Section` heading starts a slide, and each `### Subsection` (an exercise, say) a sub-slide;
- a cell longer than LONG_CELL_LINES lines is a fragment: it appears on the next click, so a slide
  does not open on a wall of text;
- a "going further" note (a collapsed `<details>` note, a cell whose first line says "going further",
  or a cell tagged `going-further`) goes to the speaker notes, out of the projected slide;
- the navigation header and footer are skipped: the slides have their own.

Everything else continues the slide before it.
"""

from __future__ import annotations

import re

import nbformat

SLIDE, SUBSLIDE, FRAGMENT, CONTINUE, SKIP, NOTES = "slide", "subslide", "fragment", "-", "skip", "notes"
LONG_CELL_LINES = 15
GOING_FURTHER_TAG = "going-further"
# How RISE shows every lesson: a long cell scrolls inside its slide rather than run off it.
RISE_SETTINGS = {"scroll": True}


def is_going_further(cell: nbformat.NotebookNode) -> bool:
    tags = cell.metadata.get("tags", [])
    if GOING_FURTHER_TAG in tags:
        return True
    if cell.cell_type != "markdown":
        return False
    first_line = cell.source.strip().split("\n", 1)[0]
    return first_line.startswith("<details") or "going further" in first_line.lower()


def slide_type(cell: nbformat.NotebookNode, *, first: bool, navigation: bool) -> str:
    if navigation:
        return SKIP
    if first:
        return SLIDE
    if is_going_further(cell):
        return NOTES
    if cell.cell_type == "markdown":
        if re.match(r"##(?!#) ", cell.source):
            return SLIDE
        if re.match(r"### ", cell.source):
            return SUBSLIDE
    if len(cell.source.splitlines()) > LONG_CELL_LINES:
        return FRAGMENT
    return CONTINUE


def mark(cells: list[nbformat.NotebookNode], navigation_tag: str) -> None:
    """Give every cell of a built lesson its slide type; the first cell not for navigation is the title."""
    first = True
    for cell in cells:
        navigation = navigation_tag in cell.metadata.get("tags", [])
        cell.metadata["slideshow"] = {"slide_type": slide_type(cell, first=first, navigation=navigation)}
        if not navigation:
            first = False
