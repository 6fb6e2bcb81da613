"""Build the reading edition: a static site of the student edition, with its stored outputs.

    python3 workbook.py site [--out DIR]     (default: dist/site)

One HTML page per lesson and `index.html`, the contents page, as the front page; every page links
to the lessons before and after it and to the contents, as in JupyterLab. The notebooks are the
student pack's (instructor/pack.py): built from source/, with the outputs the committed notebooks/
store, no pointer to solutions/ (the site has none). Each page says how to run it. An exercise's
code cells are framed and labelled as the exercise. A "Going further" section is folded, as in
JupyterLab, into a `<details>` element that opens with a click. Plots are stored in the pages (data: URIs),
so the folder can be copied anywhere, opened from disk, or uploaded to a course site as it is.

Why nbconvert, with a small template (instructor/site_template/): it comes with JupyterLab
already (jupyter_server needs it), renders the very outputs the notebooks store, and needs no
extra install; Jupyter Book 2 / MyST or Sphinx with myst-nb would add a Node or Sphinx tool chain
and a configuration of their own for nine pages. The same sources always give the same bytes.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from html import escape
from pathlib import Path

import nbformat
from nbconvert import HTMLExporter
from pygments.formatters import HtmlFormatter

from helpers.checks.verdicts import VERDICT_MIME
from instructor.pack import PackError, packed_notebooks
from tools.build_notebooks import COLLAPSED, CONTENTS_NAME, GOING_FURTHER_NOTE, all_lessons, is_side_topic

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "dist" / "site"
TEMPLATE_DIR = Path(__file__).resolve().parent / "site_template"
FRONT_PAGE = "index.html"

EXERCISE_HEADING = re.compile(r"^### (Exercise \d+ · .+)$", re.MULTILINE)
ANY_HEADING = re.compile(r"^#{1,6} ", re.MULTILINE)
NOTEBOOK_LINK = re.compile(r"\]\(([\w.-]+)\.ipynb(#[^)\s]*)?\)")

STYLE = """
body { font-family: system-ui, sans-serif; line-height: 1.5; color: #1f2328; margin: 0; background: #fafafa; }
main.page { max-width: 58rem; margin: 0 auto; padding: 1rem 2rem 3rem; background: #fff; }
.run-note { background: #eef4fb; border-left: 4px solid #3b6fb6; padding: 0.6rem 1rem; margin: 1rem 0; }
.cell { margin: 0.8rem 0; }
.input_area { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 4px; padding: 0.2rem 0.8rem; }
.input_area pre, .output pre { margin: 0.4rem 0; overflow-x: auto; white-space: pre-wrap; }
.output { padding: 0.2rem 0.8rem; }
.prompt { display: none; }
.output_stderr pre { background: #fff5f5; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; margin: 0.8rem 0; }
th, td { border: 1px solid #d0d7de; padding: 0.3rem 0.6rem; vertical-align: top; text-align: left; }
a.anchor-link { visibility: hidden; text-decoration: none; margin-left: 0.3rem; }
h1:hover a.anchor-link, h2:hover a.anchor-link, h3:hover a.anchor-link { visibility: visible; }
details.going-further { border-left: 4px solid #8c959f; background: #f6f8fa; padding: 0.2rem 0.8rem; margin: 1rem 0; }
details.going-further > summary { cursor: pointer; font-weight: bold; font-size: 1.1rem; padding: 0.4rem 0; }
section.exercise { border-left: 4px solid #d4a72c; background: #fffbea; padding: 0.2rem 0.8rem; margin: 1rem 0; }
.exercise-label { font-weight: bold; color: #7a5a00; margin: 0.4rem 0; }
"""


def page_name(notebook_name: str) -> str:
    return FRONT_PAGE if notebook_name == CONTENTS_NAME else f"{Path(notebook_name).stem}.html"


def run_note(notebook_name: str) -> str:
    """The line on each lesson's page that says how to run it."""
    return (
        "<strong>Reading edition.</strong> The outputs here were stored when the lesson was built, replaying "
        "the workbook's recordings. To run it yourself, with no key needed: get the workbook (your course's "
        "student pack, or the repository), run <code>python3 workbook.py lab</code>, open "
        f"<code>notebooks/{escape(notebook_name)}</code> and choose <strong>Run ▸ Run All Cells</strong>."
    )


def site_links(markdown: str) -> str:
    """Links between notebooks, as links between the site's pages."""
    return NOTEBOOK_LINK.sub(lambda m: f"]({page_name(m.group(1) + '.ipynb')}{m.group(2) or ''})", markdown)


def exercise_cells(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """The code cells of each exercise (under its `### Exercise N · Title`, up to the next heading), by cell id."""
    exercises, current = {}, None
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = EXERCISE_HEADING.search(cell.source)
            if match:
                current = match.group(1).strip()
            elif ANY_HEADING.search(cell.source):
                current = None
        elif current:
            exercises[cell.id] = current
    return exercises


def folds(notebook: nbformat.NotebookNode) -> tuple[dict[str, str], set[str]]:
    """The going-further sections, for a `<details>` each: the first cell's id with its heading's text
    (taken out of the cell, with the note meant for JupyterLab), and the ids of their last cells."""
    starts: dict[str, str] = {}
    ends: set[str] = set()
    for index, cell in enumerate(notebook.cells):
        if not is_side_topic(cell):
            continue
        if cell.metadata.get(COLLAPSED):
            heading, _, rest = cell.source.partition("\n")
            starts[cell.id] = re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(heading.lstrip("#").strip()))
            cell.source = rest.replace(GOING_FURTHER_NOTE, "").strip("\n")
        following = notebook.cells[index + 1] if index + 1 < len(notebook.cells) else None
        if following is None or not is_side_topic(following) or following.metadata.get(COLLAPSED):
            ends.add(cell.id)
    return starts, ends


def render(exporter: HTMLExporter, name: str, notebook: nbformat.NotebookNode) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            cell.source = site_links(cell.source)
        else:  # a check's verdict is for the grader; JupyterLab does not show it either
            cell.outputs = [output for output in cell.outputs if VERDICT_MIME not in output.get("data", {})]
    title = next(
        (m.group(1) for c in notebook.cells for m in [re.search(r"^# (.+)$", c.source, re.MULTILINE)] if m), name
    )
    fold_starts, fold_ends = folds(notebook)
    workbook = {
        "title": title,
        "fold_starts": fold_starts,
        "fold_ends": fold_ends,
        "run_note": "" if name == CONTENTS_NAME else run_note(name),
        "exercises": exercise_cells(notebook),
    }
    body, _ = exporter.from_notebook_node(notebook, resources={"workbook": workbook})
    return body


def build_site(out: Path) -> list[str]:
    """Write the site into `out` (replacing what is there); the pages' names, in order."""
    packed = packed_notebooks(all_lessons())
    notebooks = {name: nbformat.reads(data.decode("utf-8"), as_version=4) for name, data in packed.items()}
    exporter = HTMLExporter(template_name="basic", template_file=str(TEMPLATE_DIR / "page.html.j2"))
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    pages = {page_name(name): render(exporter, name, notebook) for name, notebook in sorted(notebooks.items())}
    pages = {name: re.sub(r"[ \t]+$", "", html, flags=re.MULTILINE) for name, html in pages.items()}
    style = STYLE.lstrip() + HtmlFormatter(style="default").get_style_defs(".highlight") + "\n"
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / "style.css").write_text(style, encoding="utf-8", newline="\n")
    for name, html in pages.items():
        (out / name).write_text(html, encoding="utf-8", newline="\n")
    return sorted(pages)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python3 workbook.py site", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the folder to write (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if out.exists() and not out.is_dir():
        sys.exit(f"--out {args.out} is a file: give a folder for the site.")
    if out.exists() and any(out.iterdir()) and not (out / FRONT_PAGE).exists():
        sys.exit(f"--out {args.out} holds other files: give an empty folder, or one an earlier `site` wrote.")
    try:
        pages = build_site(out)
    except PackError as err:
        sys.exit(f"The site was not built: {err}")
    print(f"Wrote {len(pages)} pages to {args.out}; open {args.out / FRONT_PAGE} in a browser.")


if __name__ == "__main__":
    main()
