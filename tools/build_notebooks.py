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
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import jupytext
import nbformat
from nbclient import NotebookClient

from helpers.grading import METADATA_KEY, SOLUTION, STUDENT
from tools import readme_tables
from tools.editions import contents_solutions_note, solution_label, student_label

ROOT = Path(__file__).resolve().parent.parent
SOURCE_DIR = ROOT / "source"
EDITIONS = {STUDENT: ROOT / "notebooks", SOLUTION: ROOT / "solutions"}
CONTENTS_NAME = "contents.ipynb"

BEGIN, END, STUDENT = "### BEGIN SOLUTION", "### END SOLUTION", "# STUDENT"
NAV_TAG = "navigation"

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
        if line.rstrip().endswith(STUDENT):
            if edition == "student":
                lines.append(line.rstrip()[: -len(STUDENT)].rstrip())
            continue
        if inside and edition == "student":
            continue
        lines.append(line)
    if inside:
        raise ValueError(f"a {BEGIN} has no {END}")
    return "\n".join(lines)


def _markdown(text: str, cell_id: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_markdown_cell(text, id=cell_id)
    cell.metadata["tags"] = [NAV_TAG]
    return cell


def navigation(lessons: list[Lesson], index: int, edition: str) -> tuple[str, str]:
    """The header and footer markdown of lessons[index] in one edition."""
    lesson = lessons[index]
    contents = f"../notebooks/{CONTENTS_NAME}" if edition == "solution" else CONTENTS_NAME
    previous = f"[← {lessons[index - 1].title}]({lessons[index - 1].filename})" if index > 0 else ""
    following = f"[{lessons[index + 1].title} →]({lessons[index + 1].filename})" if index + 1 < len(lessons) else ""
    links = " · ".join(part for part in (previous, f"[Contents]({contents})", following) if part)
    label = solution_label(lesson.filename) if edition == SOLUTION else student_label(lesson.filename)
    header = f"{links}\n\n{label}"
    footer = f"---\n{links}" + ("" if following else "\n\nThis is the last lesson.")
    return header, footer


def build(lessons: list[Lesson], index: int, edition: str) -> nbformat.NotebookNode:
    """One edition of lessons[index], with navigation and stable cell ids, without outputs."""
    source = lessons[index].read()
    header, footer = navigation(lessons, index, edition)
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
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = notebook_metadata({"lesson": lessons[index].name, "edition": edition})
    return notebook


def notebook_metadata(workbook: dict[str, str] | None = None) -> dict[str, object]:
    """A generated notebook's whole metadata: only what the sources decide."""
    metadata: dict[str, object] = {"kernelspec": KERNELSPEC, "language_info": LANGUAGE_INFO}
    if workbook:
        metadata[METADATA_KEY] = workbook
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


# The lecture the workbook serves (working-with-llm-apis), point by point in the workbook's own
# words, with the lesson (by number) and the section heading that teach each point.
LECTURE_MAP: list[tuple[str, str, str]] = [
    (
        "A model runs on your own hardware (open weights) or at a provider that bills per token",
        "00",
        "Two places a model can run",
    ),
    (
        "Learn one provider's API well: messages, roles, tools and streaming look alike everywhere",
        "00",
        "Two places a model can run",
    ),
    ("A call sends a model, an output budget, a system prompt and the messages", "01", "What goes in"),
    ("The model ID picks one model version", "01", "Model IDs age"),
    ("Too small a budget cuts the reply short", "01", "A reply cut short"),
    ("The reply's content, stop reason and usage tell your code what to do next", "01", "What comes out"),
    ("Usage is what you pay for, and how close you are to the context window", "01", "What the call cost"),
    ("System frames the conversation, user asks, assistant is what the model said", "02", "Three roles"),
    ("A tool's result goes back to the model as a user message", "02", "user: not always a person"),
    (
        "Some APIs take the system prompt as a parameter, others as the first message",
        "02",
        "Where the system prompt lives",
    ),
    (
        "Every call is stateless: your code keeps the messages list and sends all of it",
        "03",
        "A conversation is a list your code keeps",
    ),
    (
        'Without the earlier turns, a follow-up such as "its population" means nothing',
        "03",
        'Without the history, "its" means nothing',
    ),
    (
        "Input tokens climb every turn, because the whole history is re-sent",
        "03",
        "Every turn re-sends everything before it",
    ),
    ("Agents grow their history fastest, so context management matters", "03", "An agent's history grows much faster"),
    ("Keeping a long history in bounds", "03", "Keeping a long conversation in bounds"),
    ("Streaming hands you the tokens as they are written; optional where nobody watches", "04", "Why stream"),
    ("Calls fail: rate limits (429), overload (529), timeouts", "05", "How calls fail"),
    ("Retry transient errors with exponential backoff; fail fast on permanent ones", "05", "The lecture's retry loop"),
    ("Validate what comes back: JSON that does not parse, text instead of a tool call", "05", "Malformed output"),
    (
        "tool_use is the signal to run the tool and go round the agent loop again",
        "06",
        "One action for every stop reason",
    ),
    ("Tool results go back to the model in a user turn", "06", "One turn, by hand"),
    (
        "Error handling belongs in an agent from the first day: retries, validation, failing clearly",
        "06",
        "The loop, with its guards",
    ),
    ("An agent's history is its context window, and has to be kept in bounds", "06", "Keeping the history in bounds"),
    ("The same patterns work with every provider's API", "06", "The same turn in another API's format"),
    ("Calls fail more often under load: respect the rate limits when sending many", "07", "Rate limits"),
]

# Where the workbook departs from the lecture: (topic, what the lecture says, what holds today and
# why, lesson number, section heading). Each lesson says the same where it happens.
DEPARTURES: list[tuple[str, str, str, str, str]] = [
    (
        "The model ID",
        "`claude-sonnet-4-6`",
        "the workbook's default model, a current one, because the lecture's model is now legacy",
        "01",
        "Model IDs age",
    ),
    (
        "What `content` holds",
        "text in most cases",
        "a reply usually starts with a `thinking` block, so pick blocks by type, never `content[0]`",
        "01",
        "What comes out",
    ),
    (
        "Sampling and prefill",
        "(not covered)",
        "the current models take no `temperature`, `top_p` or `top_k`, and refuse a final assistant turn",
        "01",
        "What the current models change",
    ),
    (
        "Why stream",
        "three reasons, announced but not listed",
        "the workbook gives its own three, and says that thinking delays the first text",
        "04",
        "Why stream",
    ),
    (
        "A high `max_tokens`",
        "makes you pay for capacity you don't use",
        "you pay only for the tokens written; a high ceiling lets a runaway reply, and the thinking, run longer",
        "01",
        "A reply cut short",
    ),
    (
        "Input tokens per turn",
        "32, then 50, then 93",
        "this run's own counts, shown beside the lecture's: other questions (Ottawa), another model and tokenizer, "
        "and sample replies with estimated counts",
        "03",
        "Beside the lecture's figures",
    ),
    (
        "The retry loop",
        "`call_with_retry` (and `retry_pattern.py`) belongs in every production agent",
        "the workbook runs a loop that behaves the same and shows what it misses (timeouts, a wasted last wait, a bare "
        "`Exception`, stacking on the SDK's retries); its own `retry_pattern.py` uses `call_with_retries`",
        "05",
        "The lecture's retry loop",
    ),
    (
        "A reply cut off at `max_tokens`",
        "raise the budget, or handle the truncation",
        "the current models refuse the half answer as a prefill, so the agent drops it and asks again with twice "
        "the room, up to a cap, then fails clearly",
        "06",
        "One action for every stop reason",
    ),
    (
        "Stop reasons",
        "`end_turn`, `max_tokens`, `tool_use`",
        "seven: also `stop_sequence`, `pause_turn`, `refusal` and `model_context_window_exceeded`, each with its "
        "own action in the agent loop",
        "06",
        "One action for every stop reason",
    ),
]


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


def contents_notebook(lessons: list[Lesson]) -> nbformat.NotebookNode:
    rows = [
        "# Working with LLM APIs: the workbook",
        "",
        "Each lesson runs top to bottom with no API key, replaying recorded replies (today they are "
        "hand-written samples, and each lesson says so). With a key in `.env`, anything you change goes "
        "to the API: see lesson 00 and `README.md`. Open a lesson, then use **Run ▸ Run All Cells**.",
        "",
        contents_solutions_note(),
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
        *(f"| {point} | {section_link(lessons, number, heading)} |" for point, number, heading in LECTURE_MAP),
        "",
        "## Where the workbook departs from the lecture",
        "",
        "| | The lecture says | Today | Where |",
        "|---|---|---|---|",
        *(
            f"| {topic} | {said} | {today} | {section_link(lessons, number, heading)} |"
            for topic, said, today, number, heading in DEPARTURES
        ),
    ]
    cells = [_markdown("\n".join(rows), "contents"), _markdown("\n".join(lecture), "lecture-map")]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata = notebook_metadata()
    return notebook


def comparable(notebook: nbformat.NotebookNode) -> tuple[object, list[tuple[str, str, str, list[str]]]]:
    """What the source decides: the workbook's metadata, cell ids, types, text and tags (not outputs)."""
    return notebook.metadata.get(METADATA_KEY), [
        (cell.get("id", ""), cell.cell_type, cell.source, list(cell.metadata.get("tags", [])))
        for cell in notebook.cells
    ]


def stale_files(lessons: list[Lesson]) -> list[Path]:
    stale = []
    expected: list[tuple[Path, nbformat.NotebookNode]] = [
        (EDITIONS["student"] / CONTENTS_NAME, contents_notebook(lessons))
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
    sys.path.insert(0, str(ROOT))
    from workbook import TEST_ENVIRONMENT

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="prefixes of the lessons to build (default: all)")
    parser.add_argument("--check", action="store_true", help="only report stale generated notebooks")
    parser.add_argument("--no-execute", action="store_true", help="write the notebooks without running them")
    args = parser.parse_args()

    lessons = all_lessons()
    problems = [problem for lesson in lessons for problem in exercise_problems(lesson)]
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
    nbformat.write(contents_notebook(lessons), EDITIONS["student"] / CONTENTS_NAME)
    for index, lesson in enumerate(lessons):
        if args.only and not any(lesson.name.startswith(prefix) for prefix in args.only):
            continue
        for edition, folder in EDITIONS.items():
            folder.mkdir(exist_ok=True)
            notebook = build(lessons, index, edition)
            if not args.no_execute:
                print(f"running {folder.name}/{lesson.filename} ...", flush=True)
                notebook = execute(notebook, folder)
            nbformat.write(notebook, folder / lesson.filename)


if __name__ == "__main__":
    main()
