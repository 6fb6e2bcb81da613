"""Write the student pack: a zip an instructor can upload to a course site.

    python3 workbook.py pack [--out FILE.zip]     (default: dist/llm-api-workbook-student.zip)

It holds what a student needs to run every lesson, with or without a key: the student edition of
the notebooks, helpers/, recordings/, scripts/, workbook.py, requirements.txt (the lessons' packages
only), pyproject.toml (what pip needs of it), .env.example, and a README made of the parts of README.md between
`<!-- student-pack -->` and `<!-- /student-pack -->`. It leaves out solutions/, source/, tools/,
tests/, benchmarks/ and the development requirements. Inside, `python3 workbook.py lab` sets up and
opens JupyterLab, as in the full workbook.

The student edition's header says where the worked solutions are; in the pack, which has none, it
says the instructor has them (tools/editions.py has both lines). The zip is the same, byte for byte,
every time it is made from the same files.
"""

from __future__ import annotations

import argparse
import re
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import nbformat

from helpers.grading import METADATA_KEY, STUDENT
from tools.editions import contents_solutions_note, student_label

ROOT = Path(__file__).resolve().parent.parent
FOLDER = "llm-api-workbook"  # the one folder at the top of the zip
DEFAULT_OUT = ROOT / "dist" / "llm-api-workbook-student.zip"

FILES = ("workbook.py", "requirements.txt", "pyproject.toml", ".env.example", ".gitignore")
FOLDERS = ("helpers", "recordings", "scripts", "notebooks")
# Never packed: caches, JupyterLab's checkpoints, what auto mode recorded in class, lock files.
SKIPPED_PARTS = {"__pycache__", ".ipynb_checkpoints", "improvised"}
SKIPPED_SUFFIXES = (".pyc", ".lock", ".tmp")
# A fixed time for every entry, so the same files always make the same zip.
ZIP_TIME = (2026, 1, 1, 0, 0, 0)

BEGIN, END = "<!-- student-pack -->", "<!-- /student-pack -->"
GENERATED_MARKER = re.compile(r"^<!-- /?[a-z-]+ -->\n", flags=re.MULTILINE)
PACK_INTRO = (
    "This is the **student pack** of the workbook: every lesson, its helpers and its recordings. "
    "It has no solutions and no tests; your instructor has those.\n"
)


class PackError(Exception):
    """Something in the workbook stops the pack from being made as it should."""


def files_to_pack(root: Path = ROOT) -> Iterator[Path]:
    for name in FILES:
        yield root / name
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*")):
            parts = path.relative_to(root).parts
            hidden = any(part.startswith(".") for part in parts)  # .DS_Store, .virtual_documents/ ...
            skipped = SKIPPED_PARTS.intersection(parts) or path.name.endswith(SKIPPED_SUFFIXES)
            if path.is_file() and not hidden and not skipped:
                yield path


def student_readme(readme: str) -> str:
    """The parts of README.md marked for students, under one line that says what the pack is."""
    parts = re.findall(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), readme, flags=re.DOTALL)
    if not parts:
        raise PackError(f"README.md marks no part for the student pack (between {BEGIN} and {END})")
    # The markers of a generated part inside (tools/readme_tables.py) are for the build, not for readers.
    parts = [GENERATED_MARKER.sub("", part) for part in parts]
    title, _, rest = parts[0].partition("\n")
    return "\n".join([title, "", PACK_INTRO, rest.lstrip("\n"), *parts[1:]]).rstrip() + "\n"


def without_solutions(path: Path) -> bytes:
    """A student-edition notebook, its pointers to solutions/ swapped for ones that say the instructor has them."""
    notebook = nbformat.read(path, as_version=4)
    if path.name == "contents.ipynb":
        old, new = contents_solutions_note(), contents_solutions_note(solutions_ship=False)
    elif notebook.metadata.get(METADATA_KEY, {}).get("edition") == STUDENT:
        old, new = student_label(path.name), student_label(path.name, solutions_ship=False)
    else:
        raise PackError(
            f"notebooks/{path.name} is not one of the lessons (no workbook metadata): move it out of notebooks/, "
            "or rebuild the lessons with `.venv/bin/python -m tools.build_notebooks`"
        )
    found = [cell for cell in notebook.cells if cell.cell_type == "markdown" and old in cell.source]
    if len(found) != 1:
        raise PackError(f"{path.name}: the line about solutions is not where the pack expects it: {old!r}")
    found[0].source = found[0].source.replace(old, new)
    text = nbformat.writes(notebook) + "\n"
    if "solutions/" in text:
        raise PackError(f"{path.name} still points to solutions/, which the pack does not have")
    return text.encode()


# What pip needs from pyproject.toml to install the helpers; the rest configures the tests and ruff.
PYPROJECT_TABLES = ("build-system", "project", "tool.setuptools")


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


def contents(path: Path, root: Path = ROOT) -> bytes:
    relative = path.relative_to(root)
    if relative.parts[0] == "notebooks" and path.suffix == ".ipynb":
        return without_solutions(path)
    if relative.as_posix() == "pyproject.toml":
        return installable_pyproject(path.read_text()).encode()
    return path.read_bytes()


def write_pack(out: Path, root: Path = ROOT) -> list[str]:
    """Write the zip; the names inside it, in order."""
    entries = [(f"{FOLDER}/README.md", student_readme((root / "README.md").read_text()).encode())]
    entries += [(f"{FOLDER}/{path.relative_to(root).as_posix()}", contents(path, root)) for path in files_to_pack(root)]
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
    args = parser.parse_args(argv)
    try:
        names = write_pack(args.out.resolve())
    except PackError as err:
        sys.exit(f"The student pack was not made: {err}")
    size = args.out.stat().st_size
    print(f"Wrote {args.out} ({len(names)} files, {size / 1e6:.1f} MB). Inside it: python3 workbook.py lab")


if __name__ == "__main__":
    main()
