"""Slides: the build marks every lesson's cells for RISE, from the lesson's own shape, in both editions."""

from __future__ import annotations

import re

import nbformat
import pytest

from tools import slides
from tools.build_notebooks import EDITIONS, NAV_TAG, all_lessons
from workbook import slides_url

LESSONS = all_lessons()


def slide_types(notebook: nbformat.NotebookNode) -> list[str]:
    return [cell.metadata.get("slideshow", {}).get("slide_type") for cell in notebook.cells]


@pytest.mark.parametrize("edition", sorted(EDITIONS))
@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.name for lesson in LESSONS])
def test_each_committed_lesson_has_a_title_slide_a_slide_per_section_and_skips_its_navigation(lesson, edition):
    notebook = nbformat.read(EDITIONS[edition] / lesson.filename, as_version=4)
    types = slide_types(notebook)
    assert None not in types, f"{edition}/{lesson.filename}: a cell has no slide type (rebuild the notebooks)"
    navigation = [NAV_TAG in cell.metadata.get("tags", []) for cell in notebook.cells]
    assert [kind for kind, nav in zip(types, navigation, strict=True) if nav] == [slides.SKIP, slides.SKIP]
    first = navigation.index(False)
    assert types[first] == slides.SLIDE and notebook.cells[first].source.startswith("# "), "no title slide"
    for cell, kind in zip(notebook.cells, types, strict=True):
        if cell.cell_type == "markdown" and re.match(r"## ", cell.source):
            assert kind == slides.SLIDE, f"section {cell.source.splitlines()[0]!r} does not start a slide"
    assert notebook.metadata.get("rise") == slides.RISE_SETTINGS


def test_long_cells_are_fragments_and_going_further_notes_go_to_the_speaker_notes():
    long_code = "\n".join(f"x{n} = {n}" for n in range(slides.LONG_CELL_LINES + 1))
    cells = [
        nbformat.v4.new_markdown_cell("nav", metadata={"tags": [NAV_TAG]}),
        nbformat.v4.new_markdown_cell("# Title\n\ngoals"),
        nbformat.v4.new_code_cell("short = 1"),
        nbformat.v4.new_code_cell(long_code),
        nbformat.v4.new_markdown_cell("<details>\n<summary>Going further: caching</summary>\n\nmore\n</details>"),
        nbformat.v4.new_markdown_cell("Some words", metadata={"tags": [slides.GOING_FURTHER_TAG]}),
        nbformat.v4.new_markdown_cell("### Going further: retries\n\nmore"),
        nbformat.v4.new_markdown_cell("### Exercise 1 · Something"),
        nbformat.v4.new_markdown_cell("## A section"),
    ]
    slides.mark(cells, NAV_TAG)
    assert [cell.metadata.slideshow.slide_type for cell in cells] == [
        slides.SKIP,
        slides.SLIDE,
        slides.CONTINUE,
        slides.FRAGMENT,
        slides.NOTES,
        slides.NOTES,
        slides.NOTES,
        slides.SUBSLIDE,
        slides.SLIDE,
    ]


def test_slides_open_a_lesson_by_its_number_and_an_unknown_one_says_which_exist():
    lesson = next(lesson for lesson in LESSONS if lesson.name.startswith("02"))
    assert slides_url("02") == f"/rise/notebooks/{lesson.filename}"
    with pytest.raises(SystemExit, match="two-digit number"):
        slides_url("99")
