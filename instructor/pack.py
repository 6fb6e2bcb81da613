"""Write the student pack: a zip an instructor can upload to a course site.

    python3 workbook.py pack [--out FILE.zip] [--with-site]    (default: dist/llm-api-workbook-student.zip)

It holds what a student needs to run every lesson, with or without a key: the student edition of
the notebooks, helpers/, workbook_base/, recordings/, scripts/, workbook.py, requirements.txt (the
lessons' packages only), requirements-local.txt (`workbook.py local`'s), pyproject.toml (what pip
needs of it), .env.example, and a README made of the parts of README.md between
`<!-- student-pack -->` and `<!-- /student-pack -->`. It leaves out solutions/, source/, tools/,
instructor/, tests/, benchmarks/ and the development requirements.
Inside, `python3 workbook.py lab` sets up and opens JupyterLab, as in the full workbook. With
`--with-site` it also holds the reading edition (instructor/site.py) in site/, to read with no install.

The student edition's header says where the worked solutions are; in the pack, which has none, it
says the instructor has them. So the pack's notebooks are a build target of their own: the build
(tools/build_notebooks.py) makes the pack's flavour of the student edition and its contents page, and
the stored outputs come from the committed student notebooks, which must be up to date (no kernel
runs). The zip is the same, byte for byte, every time it is made from the same files.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import nbformat

from tools.build_notebooks import (
    CONTENTS_NAME,
    EDITIONS,
    Lesson,
    all_lessons,
    build,
    contents_notebook,
    notebook_bytes,
    stale_files,
)
from workbook_base.editions import STUDENT

ROOT = Path(__file__).resolve().parent.parent
FOLDER = "llm-api-workbook"  # the one folder at the top of the zip
DEFAULT_OUT = ROOT / "dist" / "llm-api-workbook-student.zip"

FILES = ("workbook.py", "requirements.txt", "requirements-local.txt", "pyproject.toml", ".env.example", ".gitignore")
FOLDERS = ("helpers", "workbook_base", "recordings", "scripts", "notebooks")
# Never packed: caches, JupyterLab's checkpoints, what auto mode recorded in class, lock files.
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints", "improvised"}
SKIPPED_SUFFIXES = (".pyc", ".lock", ".tmp")
# A fixed time for every entry, so the same files always make the same zip.
ZIP_TIME = (2026, 1, 1, 0, 0, 0)

STUDENT_PART_BEGIN, STUDENT_PART_END = "<!-- student-pack -->", "<!-- /student-pack -->"
GENERATED_MARKER = re.compile(r"^<!-- /?[a-z-]+ -->\n", flags=re.MULTILINE)
PACK_INTRO = (
    "This is the **student pack** of the workbook: every lesson, its helpers and its recordings. "
    "It has no solutions and no tests; your instructor has those.\n"
)


class PackError(Exception):
    """Something in the workbook stops the pack from being made as it should."""


def files_to_pack() -> Iterator[Path]:
    for name in FILES:
        yield ROOT / name
    for folder in FOLDERS:
        for path in sorted((ROOT / folder).rglob("*")):
            parts = path.relative_to(ROOT).parts
            hidden = any(part.startswith(".") for part in parts)  # .DS_Store, .virtual_documents/ ...
            skipped = SKIPPED_PARTS.intersection(parts) or path.name.endswith(SKIPPED_SUFFIXES)
            if path.is_file() and not hidden and not skipped:
                yield path


def student_readme(readme: str) -> str:
    """The parts of README.md marked for students, under one line that says what the pack is."""
    marked = re.escape(STUDENT_PART_BEGIN) + r"\n(.*?)" + re.escape(STUDENT_PART_END)
    parts = re.findall(marked, readme, flags=re.DOTALL)
    if not parts:
        raise PackError(
            f"README.md marks no part for the student pack (between {STUDENT_PART_BEGIN} and {STUDENT_PART_END})"
        )
    # The markers of a generated part inside (tools/readme_tables.py) are for the build, not for readers.
    parts = [GENERATED_MARKER.sub("", part) for part in parts]
    title, _, rest = parts[0].partition("\n")
    return "\n".join([title, "", PACK_INTRO, rest.lstrip("\n"), *parts[1:]]).rstrip() + "\n"


def with_stored_outputs(notebook: nbformat.NotebookNode, executed: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """`notebook` with the outputs that `executed` stores for the same code cells (by id)."""
    stored = {cell.id: cell for cell in executed.cells if cell.cell_type == "code"}
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = stored[cell.id].outputs, stored[cell.id].execution_count
    return notebook


def packed_notebooks(lessons: list[Lesson]) -> dict[str, bytes]:
    """The pack's notebooks, by file name: the contents page and every lesson, built without pointers to
    solutions/, each lesson with the outputs its committed student notebook stores."""
    folder = EDITIONS[STUDENT]
    stale = [path for path in stale_files(lessons) if path.parent == folder]
    if stale:
        names = ", ".join(f"notebooks/{path.name}" for path in stale)
        raise PackError(
            f"{names} not what source/ builds (stale, or not a lesson): rebuild with "
            "`.venv/bin/python -m tools.build_notebooks`, or move what is not a lesson out of notebooks/"
        )
    notebooks = {CONTENTS_NAME: contents_notebook(lessons, solutions_ship=False)}
    for index, lesson in enumerate(lessons):
        committed = nbformat.read(folder / lesson.filename, as_version=4)
        notebooks[lesson.filename] = with_stored_outputs(
            build(lessons, index, STUDENT, solutions_ship=False), committed
        )
    packed = {name: notebook_bytes(notebook) for name, notebook in notebooks.items()}
    for name, data in packed.items():
        if b"solutions/" in data:
            raise PackError(f"{name} still points to solutions/, which the pack does not have")
    return packed


# What pip needs from pyproject.toml to install the helpers; the rest configures the tests and ruff.
PYPROJECT_TABLES = ("build-system", "project", "tool.setuptools.packages.find")


def installable_pyproject(text: str) -> str:
    """pyproject.toml with only the tables pip reads, so the pack carries no test or lint settings."""
    kept, keep = [], False
    for line in text.splitlines():
        header = re.match(r"^\[([^\[\]]+)\]\s*$", line)
        if header:
            keep = header.group(1).strip() in PYPROJECT_TABLES
        if keep:
            kept.append(line)
    return "\n".join(kept).strip() + "\n"


def contents(path: Path, notebooks: dict[str, bytes]) -> bytes:
    relative = path.relative_to(ROOT)
    if relative.parts[0] == "notebooks" and path.suffix == ".ipynb":
        return notebooks[path.name]
    if relative.as_posix() == "pyproject.toml":
        return installable_pyproject(path.read_text()).encode()
    return path.read_bytes()


def site_entries() -> list[tuple[str, bytes]]:
    """The reading edition's files, as the pack's site/ holds them."""
    from instructor.site import build_site  # it builds on this module's notebooks

    with tempfile.TemporaryDirectory(prefix="pack-site-") as folder:
        site = Path(folder) / "site"
        build_site(site)
        return [(f"{FOLDER}/site/{path.name}", path.read_bytes()) for path in sorted(site.iterdir())]


def write_pack(out: Path, *, with_site: bool = False) -> list[str]:
    """Write the zip (with the reading edition in site/ if `with_site`); the names inside it, in order."""
    notebooks = packed_notebooks(all_lessons())
    entries = [(f"{FOLDER}/README.md", student_readme((ROOT / "README.md").read_text()).encode())]
    entries += [
        (f"{FOLDER}/{path.relative_to(ROOT).as_posix()}", contents(path, notebooks)) for path in files_to_pack()
    ]
    if with_site:
        entries += site_entries()
    entries.sort()
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".tmp")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as pack:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if name.endswith(("workbook.py",)) or name.startswith(f"{FOLDER}/scripts/") else 0o644
            info.external_attr = (0o100000 | mode) << 16  # a regular file, with its permissions
            pack.writestr(info, data)
    partial.replace(out)  # never a half-written zip where the finished one should be
    return [name for name, _ in entries]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python3 workbook.py pack", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"the zip to write (default: {DEFAULT_OUT})")
    parser.add_argument("--with-site", action="store_true", help="also pack the reading edition, in site/")
    args = parser.parse_args(argv)
    try:
        names = write_pack(args.out.resolve(), with_site=args.with_site)
    except PackError as err:
        sys.exit(f"The student pack was not made: {err}")
    size = args.out.stat().st_size
    print(f"Wrote {args.out} ({len(names)} files, {size / 1e6:.1f} MB). Inside it: python3 workbook.py lab")


if __name__ == "__main__":
    main()
