"""The notebooks in notebooks/ and solutions/ are generated from source/: prove they are fresh."""

from __future__ import annotations

import nbformat
import pytest

from tools import build_notebooks
from tools.build_notebooks import BEGIN, END, LECTURE_MAP_NAME, STUDENT_MARKER, edition_source
from workbook_base.editions import SOLUTION, STUDENT


def test_generated_notebooks_match_their_sources():
    stale = build_notebooks.stale_files(build_notebooks.all_lessons())
    names = ", ".join(str(path.relative_to(build_notebooks.ROOT)) for path in stale)
    assert not stale, f"stale: {names}. Run: .venv/bin/python -m tools.build_notebooks"


def test_a_changed_source_is_reported_stale(tmp_path, monkeypatch):
    lessons = build_notebooks.all_lessons()
    changed = tmp_path / lessons[0].source.name
    changed.write_text(lessons[0].source.read_text() + "\n# %%\nprint('a new cell')\n")
    monkeypatch.setattr(build_notebooks, "SOURCE_DIR", tmp_path)
    for path in [lesson.source for lesson in lessons[1:]] + [lessons[0].source.parent / LECTURE_MAP_NAME]:
        (tmp_path / path.name).write_text(path.read_text())
    stale = build_notebooks.stale_files(build_notebooks.all_lessons())
    assert any(path.name == lessons[0].filename for path in stale)


def test_solutions_are_only_in_the_instructor_edition():
    code = f"x = ...  {STUDENT_MARKER}\n{BEGIN}\nx = 42\n{END}\ncheck(x)"
    assert edition_source(code, STUDENT) == "x = ...\ncheck(x)"
    assert edition_source(code, SOLUTION) == "x = 42\ncheck(x)"


def test_no_solution_leaks_into_a_student_notebook():
    for path in build_notebooks.EDITIONS[STUDENT].glob("*.ipynb"):
        text = path.read_text()
        assert BEGIN not in text and STUDENT_MARKER not in text, path.name


def test_every_lesson_has_goals_takeaways_exercises_and_navigation():
    lessons = build_notebooks.all_lessons()
    for lesson in lessons:
        assert lesson.goals, f"{lesson.name}: no 'Learning goals' bullets in the first cell"
        notebook = nbformat.read(build_notebooks.EDITIONS[STUDENT] / lesson.filename, as_version=4)
        text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
        for heading in ("Key takeaways", "Exercise"):
            assert heading in text, f"{lesson.name}: no '{heading}' section"
        footer = notebook.cells[-1].source
        following = lessons[lessons.index(lesson) + 1].filename if lesson is not lessons[-1] else "last lesson"
        assert "Contents" in footer and following in footer, f"{lesson.name}: no link to what comes next"


def test_the_model_id_is_named_only_in_helpers():
    from helpers import DEFAULT_MODEL

    for folder in ("source", "scripts"):
        for path in (build_notebooks.ROOT / folder).glob("*.py"):
            assert DEFAULT_MODEL not in path.read_text(), f"{path.name} types the model ID; use helpers.MODEL"


def test_lessons_stay_small_with_no_embedded_animations():
    import base64

    for folder in build_notebooks.EDITIONS.values():
        for path in folder.glob("*.ipynb"):
            assert path.stat().st_size < 400_000, f"{path.name} is {path.stat().st_size // 1000} kB; keep lessons small"
            notebook = nbformat.read(path, as_version=4)
            for cell in notebook.cells:
                assert "image/gif" not in str(cell.get("attachments", {})), f"{path.name}: an embedded GIF"
                for output in cell.get("outputs", []):
                    data = output.get("data", {})
                    assert "image/gif" not in data, f"{path.name}: a GIF in an output"
                    if "image/png" in data:
                        size = len(base64.b64decode(data["image/png"]))
                        assert size < 120_000, f"{path.name}: a {size // 1000} kB plot; lower its dpi or size"


def test_the_readme_lists_every_lesson_and_script():
    readme = (build_notebooks.ROOT / "README.md").read_text()
    for lesson in build_notebooks.all_lessons():
        assert f"(notebooks/{lesson.filename})" in readme, f"README's lesson table has no row for {lesson.filename}"
    for script in (build_notebooks.ROOT / "scripts").glob("*.py"):
        assert f"scripts/{script.name}" in readme, f"README's script table has no row for {script.name}"


def test_every_cell_that_draws_a_plot_stores_its_image():
    """A notebook run with MPLBACKEND=Agg (as scripts are) keeps no plot: the stored outputs must have them."""
    import re

    draws = re.compile(r"^figure = plot_\w+\(", re.MULTILINE)
    for folder in build_notebooks.EDITIONS.values():
        for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
            for cell in nbformat.read(path, as_version=4).cells:
                if cell.cell_type == "code" and draws.search(cell.source):
                    kinds = [kind for output in cell.outputs for kind in output.get("data", {})]
                    assert "image/png" in kinds, f"{path.name} {cell.id}: the plot it draws is not stored; rebuild"


def cells_of(*sources: str) -> nbformat.NotebookNode:
    """Built cells from their texts: one starting with '#' (a heading) or '*' is markdown, any other code."""
    cells = [
        nbformat.v4.new_markdown_cell(text) if text.startswith(("#", "*")) else nbformat.v4.new_code_cell(text)
        for text in sources
    ]
    build_notebooks.mark_going_further(cells)
    return nbformat.v4.new_notebook(cells=cells)


def test_every_lesson_keeps_its_main_path_short_and_independent_of_its_side_topics():
    lessons = build_notebooks.all_lessons()
    problems = [
        problem
        for index, lesson in enumerate(lessons)
        for edition in build_notebooks.EDITIONS
        for problem in build_notebooks.weight_problems(
            build_notebooks.build(lessons, index, edition), f"{lesson.name} ({edition})"
        )
    ]
    assert not problems, "\n".join(problems)


def test_a_going_further_section_opens_folded_and_ends_at_the_next_heading_of_its_level():
    notebook = cells_of("## Basics", "x = 1", "### Going further: more", "y = x", "#### Detail", "## Next", "x")
    assert not build_notebooks.is_side_topic(cells_of("## Going further: a section").cells[0]), "only ### folds"
    side = [build_notebooks.is_side_topic(cell) for cell in notebook.cells]
    assert side == [False, False, True, True, True, False, False]
    assert notebook.cells[2].metadata[build_notebooks.COLLAPSED] is True
    assert build_notebooks.COLLAPSED not in notebook.cells[0].metadata


def test_a_lesson_too_long_on_its_main_path_is_refused():
    limit = build_notebooks.MAIN_PATH_CELLS
    too_long = cells_of(*["*prose*"] * (limit + 1))
    assert "on the main path" in " ".join(build_notebooks.weight_problems(too_long, "long"))
    folded = cells_of(*["*prose*"] * (limit - 1), "### Going further: extra", "*more*", "*and more*")
    assert build_notebooks.weight_problems(folded, "folded") == []


def test_a_main_path_cell_that_needs_a_side_topics_name_is_refused():
    needs_it = cells_of("## Basics", "### Going further: setup", "import json\nhelper = 1", "## Next", "print(helper)")
    problems = build_notebooks.weight_problems(needs_it, "lesson")
    assert len(problems) == 1 and "'helper'" in problems[0], problems
    rebinds = cells_of("### Going further: setup", "helper = 1", "## Next", "helper = 2\nprint(helper)")
    assert build_notebooks.weight_problems(rebinds, "lesson") == []
    its_own = cells_of("### Going further: setup", "helper = 1", "## Next", "def check(helper):\n    return helper")
    assert build_notebooks.weight_problems(its_own, "lesson") == [], "a parameter is the function's own name"


@pytest.mark.parametrize("change", ["{0}.append('extra')", "{0}[0] = 'extra'", "del {0}[0]", "{0}.body['n'] = 2"])
def test_a_main_path_cell_that_reads_what_a_side_topic_changed_in_place_is_refused(change):
    changes_it = cells_of(
        "## Basics", "history = make()", "### Going further: more", change.format("history"), "## Next", "send(history)"
    )
    problems = build_notebooks.weight_problems(changes_it, "lesson")
    assert len(problems) == 1 and "changes in place" in problems[0], problems
    copies = cells_of(
        "## Basics",
        "history = make()",
        "### Going further: more",
        "mine = copy.deepcopy(history)\n" + change.format("mine"),
        "## Next",
        "send(history)",
    )
    assert build_notebooks.weight_problems(copies, "lesson") == [], "a folded cell may change its own copy"
    again = cells_of(
        "## Basics",
        "history = make()",
        "### Going further: more",
        change.format("history"),
        "## Next",
        "history = make()\nsend(history)",
    )
    assert build_notebooks.weight_problems(again, "lesson") == [], "the main path set it again first"


def test_a_going_further_heading_tells_the_reader_the_section_is_optional():
    notebook = cells_of("### Going further: more\nSome words.", "x = 1")
    heading = notebook.cells[0].source.splitlines()
    assert heading[0] == "### Going further: more" and build_notebooks.GOING_FURTHER_NOTE in heading
    assert heading[-1] == "Some words."
