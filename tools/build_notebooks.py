"""Build both editions of every lesson from its one source, and run them.

    python -m tools.build_notebooks            # generate, then execute (replay) and store outputs
    python -m tools.build_notebooks --check    # exit 1 if a generated notebook is stale
    python -m tools.build_notebooks 03         # only lessons whose name starts with 03

Sources are Python files in jupytext's percent format, in source/. In a code cell,
lines between `### BEGIN SOLUTION` and `### END SOLUTION` go only into the
instructor edition (solutions/); a line ending in `# STUDENT` goes only into the
student edition (notebooks/), without that marker. Every lesson also gets the
same navigation header and footer, and notebooks/contents.ipynb lists them all. The build
rewrites the README's generated tables too (tools/readme_tables.py).

A markdown cell whose heading reads `### Going further: ...` opens a side topic inside its section:
it and every cell after it, up to the next heading of the same level or higher, are tagged
`going-further`, and the heading opens folded in JupyterLab (its own `jp-MarkdownHeadingCollapsed`).
Shift+Enter steps over a folded section, so the build refuses a lesson whose later cells need a name
that only a going-further cell defines, and one whose main path (the cells outside those sections)
is longer than MAIN_PATH_CELLS.
"""

from __future__ import annotations

import argparse
import ast
import copy
import os
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import jupytext
import nbformat
from nbclient import NotebookClient

from tools import readme_tables, slides
from workbook_base.editions import (
    METADATA_KEY,
    SOLUTION,
    STUDENT,
    contents_solutions_note,
    solution_label,
    student_label,
)
from workbook_base.environment import TEST_ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIR = ROOT / "source"
EDITIONS = {STUDENT: ROOT / "notebooks", SOLUTION: ROOT / "solutions"}
CONTENTS_NAME = "contents.ipynb"
LECTURE_MAP_NAME = "lecture_map.toml"  # beside the lessons; their glob ([0-9][0-9]_*.py) never takes it

# A code cell's lines between BEGIN and END are the solution; a line ending in STUDENT_MARKER is the student's.
BEGIN, END, STUDENT_MARKER = "### BEGIN SOLUTION", "### END SOLUTION", "# STUDENT"
NAV_TAG = "navigation"
GOING_FURTHER_HEADING = re.compile(r"^(###) Going further: \S")  # under a section, which is a slide
HEADING = re.compile(r"^(#{1,6}) \S")
COLLAPSED = "jp-MarkdownHeadingCollapsed"  # JupyterLab's cell metadata for a heading shown folded
# Under each going-further heading, so a reader knows what the fold is and that skipping it is safe.
GOING_FURTHER_NOTE = (
    '*A side topic, folded: open it with the arrow beside this heading, or its "cells hidden" button. '
    "Run All runs it too, and nothing after it needs it.*"
)
MAIN_PATH_CELLS = 45  # a lesson's cells outside its going-further sections, navigation included

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
LANGUAGE_INFO = {"name": "python", "pygments_lexer": "ipython3"}


@dataclass(frozen=True)
class Lesson:
    source: Path

    @property
    def name(self) -> str:
        return self.source.stem

    @property
    def filename(self) -> str:
        return f"{self.name}.ipynb"

    def read(self) -> nbformat.NotebookNode:
        return jupytext.read(self.source, fmt="py:percent")

    @property
    def title(self) -> str:
        first = self.read().cells[0].source
        match = re.search(r"^# (.+)$", first, re.MULTILINE)
        if not match:
            raise SystemExit(f"{self.source}: the first cell must start with a '# Title' line")
        return match.group(1).strip()

    @property
    def goals(self) -> list[str]:
        """The bullets under 'Learning goals' in the first cell."""
        first = self.read().cells[0].source
        _, _, after = first.partition("Learning goals")
        goals = []
        for line in after.splitlines()[1:]:
            if line.startswith("- "):
                goals.append(line[2:].strip())
            elif goals and not line.strip():
                break
        return goals


def all_lessons() -> list[Lesson]:
    return [Lesson(path) for path in sorted(SOURCE_DIR.glob("[0-9][0-9]_*.py"))]


def edition_source(code: str, edition: str) -> str:
    """A code cell's text in one edition, following the solution markers."""
    lines, inside = [], False
    for line in code.splitlines():
        stripped = line.strip()
        if stripped == BEGIN:
            inside = True
            continue
        if stripped == END:
            inside = False
            continue
        if line.rstrip().endswith(STUDENT_MARKER):
            if edition == STUDENT:
                lines.append(line.rstrip()[: -len(STUDENT_MARKER)].rstrip())
            continue
        if inside and edition == STUDENT:
            continue
        lines.append(line)
    if inside:
        raise ValueError(f"a {BEGIN} has no {END}")
    return "\n".join(lines)


def _markdown(text: str, cell_id: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(text, id=cell_id)
    cell.metadata["tags"] = [NAV_TAG]
    return cell


def navigation(lessons: list[Lesson], index: int, edition: str, *, solutions_ship: bool = True) -> tuple[str, str]:
    """The header and footer markdown of lessons[index] in one edition; `solutions_ship=False` is the
    student pack's, whose header says the instructor has the solutions."""
    lesson = lessons[index]
    contents = f"../notebooks/{CONTENTS_NAME}" if edition == SOLUTION else CONTENTS_NAME
    previous = f"[← {lessons[index - 1].title}]({lessons[index - 1].filename})" if index > 0 else ""
    following = f"[{lessons[index + 1].title} →]({lessons[index + 1].filename})" if index + 1 < len(lessons) else ""
    links = " · ".join(part for part in (previous, f"[Contents]({contents})", following) if part)
    if edition == SOLUTION:
        label = solution_label(lesson.filename)
    else:
        label = student_label(lesson.filename, solutions_ship=solutions_ship)
    header = f"{links}\n\n{label}"
    footer = f"---\n{links}" + ("" if following else "\n\nThis is the last lesson.")
    return header, footer


def build(lessons: list[Lesson], index: int, edition: str, *, solutions_ship: bool = True) -> nbformat.NotebookNode:
    """One edition of lessons[index], with navigation and stable cell ids, without outputs
    (`solutions_ship=False`: the student pack's, see navigation)."""
    source = lessons[index].read()
    header, footer = navigation(lessons, index, edition, solutions_ship=solutions_ship)
    cells = [_markdown(header, "nav-header")]
    for number, cell in enumerate(source.cells):
        tags = list(cell.metadata.get("tags", []))
        cell_id = f"cell-{number:03d}"
        if cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(cell.source, id=cell_id)
        else:
            new = nbformat.v4.new_code_cell(edition_source(cell.source, edition), id=cell_id)
        if tags:
            new.metadata["tags"] = tags
        cells.append(new)
    cells.append(_markdown(footer, "nav-footer"))
    mark_going_further(cells)
    slides.mark(cells, NAV_TAG)
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = notebook_metadata({"lesson": lessons[index].name, "edition": edition})
    return notebook


def heading_level(cell: nbformat.NotebookNode) -> int | None:
    """The level of the heading a markdown cell starts with (1 for `#`), or None."""
    match = HEADING.match(cell.source) if cell.cell_type == "markdown" else None
    return len(match.group(1)) if match else None


def mark_going_further(cells: list[nbformat.NotebookNode]) -> None:
    """Tag each going-further section's cells, and fold its heading (see the module's docstring)."""
    level = None  # the level of the going-further heading we are under, if any
    for cell in cells:
        this_level = heading_level(cell)
        if level is not None and this_level is not None and this_level <= level:
            level = None
        if level is None and cell.cell_type == "markdown" and (match := GOING_FURTHER_HEADING.match(cell.source)):
            level = len(match.group(1))
            cell.metadata[COLLAPSED] = True
            heading, _, rest = cell.source.partition("\n")
            cell.source = "\n\n".join(part for part in (heading, GOING_FURTHER_NOTE, rest.strip("\n")) if part)
        if level is not None:
            tags = cell.metadata.setdefault("tags", [])
            if slides.GOING_FURTHER_TAG not in tags:
                tags.append(slides.GOING_FURTHER_TAG)


def is_side_topic(cell: nbformat.NotebookNode) -> bool:
    return slides.GOING_FURTHER_TAG in cell.metadata.get("tags", [])


def parsed(code: str) -> ast.Module | None:
    """A code cell's syntax tree, with IPython's % and ! lines left out; None if it is not Python."""
    lines = [line for line in code.splitlines() if not line.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def names_in(code: str) -> tuple[set[str], set[str]]:
    """The names a code cell binds and the names it reads."""
    tree = parsed(code)
    if tree is None:
        return set(), set()
    bound, read = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):  # a parameter is the function's own name, not one the cell reads
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
    return bound, read


# The methods of list, dict and set that change the object they are called on.
CHANGING_METHODS = frozenset(
    {"append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse"}  # list
    | {"update", "setdefault", "popitem"}  # dict
    | {"add", "discard"}  # set
)


def changed_in(code: str) -> set[str]:
    """The names whose objects a code cell changes in place: `x[k] = v`, `x.a = v`, `del x[k]`, `x.append(v)`."""
    tree = parsed(code)
    if tree is None:
        return set()
    changed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript | ast.Attribute) and isinstance(node.ctx, ast.Store | ast.Del):
            target = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CHANGING_METHODS:
            target = node.func.value
        else:
            continue
        while isinstance(target, ast.Subscript | ast.Attribute):  # history[0]["content"] = ... changes history
            target = target.value
        if isinstance(target, ast.Name):
            changed.add(target.id)
    return changed


def weight_problems(notebook: nbformat.NotebookNode, name: str) -> list[str]:
    """Where a built lesson is too long on its main path, or its main path needs what only a side topic
    sets or changes in place."""
    main_path = [cell for cell in notebook.cells if not is_side_topic(cell)]
    problems = []
    if len(main_path) > MAIN_PATH_CELLS:
        problems.append(
            f"{name}: {len(main_path)} cells on the main path (at most {MAIN_PATH_CELLS}): "
            "move a side topic into a '### Going further: ...' section"
        )
    side_only: dict[str, int] = {}  # a name bound only in a going-further cell so far, and that cell's number
    side_changed: dict[str, int] = {}  # a main-path name a going-further cell changed in place since, and that cell
    for number, cell in enumerate(notebook.cells):
        if cell.cell_type != "code":
            continue
        bound, read = names_in(cell.source)
        if is_side_topic(cell):
            side_only.update({bound_name: number for bound_name in bound})
            side_changed.update({changed: number for changed in changed_in(cell.source) - bound})
            continue
        for needed in sorted(read & side_only.keys() - bound):
            problems.append(
                f"{name}: cell {number} uses {needed!r}, last set by going-further cell {side_only[needed]}; "
                "a reader who skips that folded section runs it without that"
            )
        for needed in sorted(read & side_changed.keys() - side_only.keys() - bound):
            problems.append(
                f"{name}: cell {number} uses {needed!r}, which going-further cell {side_changed[needed]} changes "
                "in place; a reader who skips that folded section gets a different one (change a copy there)"
            )
        for bound_name in bound:
            side_only.pop(bound_name, None)
            side_changed.pop(bound_name, None)
    return problems


def notebook_metadata(workbook: dict[str, str] | None = None) -> dict[str, object]:
    """A generated notebook's whole metadata: only what the sources decide."""
    metadata: dict[str, object] = {"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO}
    if workbook:
        metadata[METADATA_KEY] = workbook
        metadata["rise"] = slides.RISE_SETTINGS  # a lesson, which presents as slides
    return metadata


def exercise_problems(lesson: Lesson) -> list[str]:
    """Where the lesson's "### Exercise N · Title" headings and its checks (@exercise) disagree."""
    import importlib

    from helpers.checks.verdicts import EXERCISES

    number = lesson.name[:2]
    if (ROOT / "helpers" / "checks" / f"lesson{number}.py").exists():
        importlib.import_module(f"helpers.checks.lesson{number}")
    checked = {exercise.number: exercise.title for exercise in EXERCISES.get(number, {}).values()}
    headings = {
        int(match.group(1)): match.group(2).strip()
        for cell in lesson.read().cells
        if cell.cell_type == "markdown"
        for match in re.finditer(r"^### Exercise (\d+) · (.+)$", cell.source, re.MULTILINE)
        if not match.group(2).strip().endswith("(no check)")
    }
    return [
        f"{lesson.source.name}: exercise {n} is {headings.get(n)!r} in the lesson but {checked.get(n)!r} in its check"
        for n in sorted(set(checked) | set(headings))
        if checked.get(n) != headings.get(n)
    ]


@dataclass(frozen=True)
class LecturePoint:
    """A point of the lecture, and the lesson (by number) and section heading that teach it."""

    point: str
    lesson: str
    section: str


@dataclass(frozen=True)
class Departure:
    """Where the workbook departs from the lecture: what the lecture says, what holds today and why, and where."""

    topic: str
    lecture: str
    today: str
    lesson: str
    section: str


def lecture_map() -> tuple[list[LecturePoint], list[Departure]]:
    """The lecture's points and the departures from it, as source/lecture_map.toml lists them."""
    with (SOURCE_DIR / LECTURE_MAP_NAME).open("rb") as file:
        data = tomllib.load(file)
    return [LecturePoint(**point) for point in data["point"]], [Departure(**item) for item in data["departure"]]


def section_link(lessons: list[Lesson], number: str, heading: str) -> str:
    """A link to a section of a lesson, checked: the heading must be one of the lesson's headings."""
    lesson = next((lesson for lesson in lessons if lesson.name.startswith(number)), None)
    if lesson is None:
        raise SystemExit(f"the contents page names lesson {number}, which does not exist")
    headings = {
        match.group(1).strip()
        for cell in lesson.read().cells
        if cell.cell_type == "markdown"
        for match in re.finditer(r"^#{2,3} (.+)$", cell.source, re.MULTILINE)
    }
    if heading not in headings:
        raise SystemExit(f"the contents page links to a section {heading!r} that {lesson.source.name} does not have")
    anchor = quote(heading.replace("`", "").replace(" ", "-"), safe="-:,'.")  # JupyterLab's heading ids
    return f"[{number} · {heading}]({lesson.filename}#{anchor})"


def contents_notebook(lessons: list[Lesson], *, solutions_ship: bool = True) -> nbformat.NotebookNode:
    """notebooks/contents.ipynb: every lesson with its goals, the lecture map and the departures from it.
    `solutions_ship=False` is the student pack's page, which has no solutions/ to point to."""
    points, departures = lecture_map()
    rows = [
        "# Working with LLM APIs: the workbook",
        "",
        "Each lesson runs top to bottom with no API key, replaying recorded replies (today they are "
        "hand-written samples, and each lesson says so). With a key in `.env`, anything you change goes "
        "to the API: see lesson 00 and `README.md`. Open a lesson, then use **Run ▸ Run All Cells**. "
        "A section headed *Going further* opens folded: it is optional, Run All runs it too, and the "
        "cells after it never need it.",
        "",
        contents_solutions_note(solutions_ship=solutions_ship),
        "",
        "| Lesson | You will be able to |",
        "|---|---|",
    ]
    for lesson in lessons:
        goals = "<br>".join(lesson.goals)
        rows.append(f"| [{lesson.title}]({lesson.filename}) | {goals} |")
    lecture = [
        "## The lecture, point by point",
        "",
        "Where each point of the lecture *Working with LLM APIs* is taught:",
        "",
        "| The lecture's point | Taught in |",
        "|---|---|",
        *(f"| {item.point} | {section_link(lessons, item.lesson, item.section)} |" for item in points),
        "",
        "## Where the workbook departs from the lecture",
        "",
        "| | The lecture says | Today | Where |",
        "|---|---|---|---|",
        *(
            f"| {item.topic} | {item.lecture} | {item.today} | {section_link(lessons, item.lesson, item.section)} |"
            for item in departures
        ),
    ]
    cells = [_markdown("\n".join(rows), "contents"), _markdown("\n".join(lecture), "lecture-map")]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = notebook_metadata()
    return notebook


def comparable(notebook: nbformat.NotebookNode) -> tuple[object, list[tuple[object, ...]]]:
    """What the source decides: the workbook's metadata, cell ids, types, text, tags and slide types (not outputs)."""
    return notebook.metadata.get(METADATA_KEY), [
        (
            cell.get("id", ""),
            cell.cell_type,
            cell.source,
            list(cell.metadata.get("tags", [])),
            cell.metadata.get("slideshow"),
            cell.metadata.get(COLLAPSED),
        )
        for cell in notebook.cells
    ]


def stale_files(lessons: list[Lesson]) -> list[Path]:
    stale = []
    expected: list[tuple[Path, nbformat.NotebookNode]] = [
        (EDITIONS[STUDENT] / CONTENTS_NAME, contents_notebook(lessons))
    ]
    for index, lesson in enumerate(lessons):
        for edition, folder in EDITIONS.items():
            expected.append((folder / lesson.filename, build(lessons, index, edition)))
    for path, notebook in expected:
        if not path.exists() or comparable(nbformat.read(path, as_version=4)) != comparable(notebook):
            stale.append(path)
    known = {path for path, _ in expected}
    for folder in EDITIONS.values():
        stale.extend(path for path in folder.glob("*.ipynb") if path not in known)
    return stale


def execute(
    notebook: nbformat.NotebookNode, folder: Path, environment: dict[str, str] | None = None
) -> nbformat.NotebookNode:
    """Run a notebook in its folder; by default as the tests do (replay, no key), so stored outputs match."""
    os.environ.update(TEST_ENVIRONMENT if environment is None else environment)  # the kernel inherits it
    executed = copy.deepcopy(notebook)
    client = NotebookClient(
        executed,
        timeout=300,
        kernel_name="python3",
        record_timing=False,
        coalesce_streams=True,  # one stream output per cell, as a reader expects, not one per print
        resources={"metadata": {"path": str(folder)}},
    )
    client.execute()
    # Only what the sources decide, as nbdev's clean does: not the kernel's Python version, which
    # would change every file on a rebuild with another Python.
    executed.metadata = notebook_metadata(notebook.metadata.get(METADATA_KEY))
    return executed


def notebook_bytes(notebook: nbformat.NotebookNode) -> bytes:
    """A notebook as the workbook stores it: nbformat's JSON, ending in a newline (as nbformat.write does)."""
    return (nbformat.writes(notebook) + "\n").encode("utf-8")


def write_notebook(notebook: nbformat.NotebookNode, path: Path) -> None:
    path.write_bytes(notebook_bytes(notebook))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="prefixes of the lessons to build (default: all)")
    parser.add_argument("--check", action="store_true", help="only report stale generated notebooks")
    parser.add_argument("--no-execute", action="store_true", help="write the notebooks without running them")
    args = parser.parse_args()

    lessons = all_lessons()
    problems = [problem for lesson in lessons for problem in exercise_problems(lesson)]
    problems += [
        problem
        for index, lesson in enumerate(lessons)
        if args.check or not args.only or any(lesson.name.startswith(prefix) for prefix in args.only)
        for edition in EDITIONS
        for problem in weight_problems(build(lessons, index, edition), f"{lesson.name} ({edition})")
    ]
    if problems:
        raise SystemExit("\n".join(problems))
    if args.check:
        stale = stale_files(lessons) + ([readme_tables.README] if readme_tables.is_stale() else [])
        for path in stale:
            print(f"stale: {path.relative_to(ROOT)}")
        if stale:
            raise SystemExit("Rebuild with: .venv/bin/python -m tools.build_notebooks")
        print(f"all {len(lessons)} lessons are up to date in both editions")
        return

    readme_tables.write()
    write_notebook(contents_notebook(lessons), EDITIONS[STUDENT] / CONTENTS_NAME)
    for index, lesson in enumerate(lessons):
        if args.only and not any(lesson.name.startswith(prefix) for prefix in args.only):
            continue
        for edition, folder in EDITIONS.items():
            folder.mkdir(exist_ok=True)
            notebook = build(lessons, index, edition)
            if not args.no_execute:
                print(f"running {folder.name}/{lesson.filename} ...", flush=True)
                notebook = execute(notebook, folder)
            write_notebook(notebook, folder / lesson.filename)


if __name__ == "__main__":
    main()
