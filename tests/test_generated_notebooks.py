"""The notebooks in notebooks/ and solutions/ are generated from source/: prove they are fresh."""

from __future__ import annotations

import nbformat

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
