"""`workbook.py pack`: the student pack holds what students need, nothing of the instructor's, and runs.

Its notebooks are the student edition, byte for byte, but for the one line that says where the solutions
are; so the notebooks' own tests stand for them, and here one run from the unzipped pack proves that
its helpers are the ones imported.
"""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from instructor.pack import FOLDER, student_readme, write_pack
from workbook import ONLY_IN_THE_FULL_WORKBOOK
from workbook_base.editions import contents_solutions_note, student_label
from workbook_base.environment import with_test_environment

ROOT = Path(__file__).resolve().parent.parent
LESSONS = sorted(path.name for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture(scope="module")
def pack(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pack") / "student.zip"


@pytest.fixture(scope="module")
def names(pack: Path) -> list[str]:
    write_pack(pack)
    with zipfile.ZipFile(pack) as archive:
        return [name.removeprefix(f"{FOLDER}/") for name in archive.namelist()]


@pytest.fixture(scope="module")
def unpacked(pack: Path, names: list[str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(pack) as archive:
        archive.extractall(folder)
    return folder / FOLDER


def test_the_pack_has_the_student_edition_helpers_recordings_scripts_and_the_setup(names):
    for needed in ["workbook.py", "requirements.txt", "pyproject.toml", ".env.example", "README.md"]:
        assert needed in names
    assert {f"notebooks/{name}" for name in [*LESSONS, "contents.ipynb"]} <= set(names)
    assert {"helpers/__init__.py", "helpers/checks/verdicts.py", "scripts/hello_api.py"} <= set(names)
    assert {"workbook_base/__init__.py", "workbook_base/environment.py", "workbook_base/editions.py"} <= set(names)
    recordings = {path.name for path in (ROOT / "recordings").glob("*.json")}
    assert {f"recordings/{name}" for name in recordings} <= set(names)


def test_the_pack_leaves_out_solutions_tools_the_instructors_code_tests_and_development_requirements(names):
    left_out = ("solutions/", "source/", "tools/", "instructor/", "tests/", "benchmarks/", ".ci/")
    left_out += ("recordings/improvised/",)
    assert not [name for name in names if name.startswith(left_out)]
    assert "requirements-dev.txt" not in names and "conftest.py" not in names
    assert not [name for name in names if name.endswith((".lock", ".pyc", ".tmp"))]


def test_nothing_in_the_pack_points_to_the_solutions_it_does_not_have(unpacked):
    for path in [*unpacked.joinpath("notebooks").glob("*.ipynb"), unpacked / "README.md"]:
        assert "solutions/" not in path.read_text(), f"{path.name} points to solutions/"
    assert "workbook.py test" not in (unpacked / "README.md").read_text()


def test_the_pack_is_the_same_byte_for_byte_when_made_again(pack, names, tmp_path):
    again = tmp_path / "again.zip"
    write_pack(again)
    assert again.read_bytes() == pack.read_bytes()


def test_the_student_readme_is_the_marked_parts_of_the_readme():
    readme = student_readme((ROOT / "README.md").read_text())
    assert readme.startswith("# Working with LLM APIs")
    assert "python3 workbook.py lab" in readme and "<!--" not in readme


@pytest.mark.parametrize("command", sorted(ONLY_IN_THE_FULL_WORKBOOK))
def test_in_the_pack_the_commands_it_cannot_run_say_so_in_one_line_without_installing(unpacked, command):
    done = subprocess.run([sys.executable, "workbook.py", command], cwd=unpacked, capture_output=True, text=True)
    assert done.returncode != 0
    assert "student pack" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (unpacked / ".venv").exists()


def lines_that_differ(first: bytes, second: bytes) -> list[tuple[str, str]]:
    first_lines, second_lines = first.decode().splitlines(), second.decode().splitlines()
    assert len(first_lines) == len(second_lines), "the two notebooks differ in more than a line"
    return [(one, other) for one, other in zip(first_lines, second_lines, strict=True) if one != other]


@pytest.mark.parametrize("name", [*LESSONS, "contents.ipynb"])
def test_each_notebook_is_the_student_edition_but_for_its_line_about_solutions(unpacked, name):
    """Cells, outputs and metadata as committed in notebooks/; only the solutions line is the pack's own."""
    if name == "contents.ipynb":
        shipped, packed = contents_solutions_note(), contents_solutions_note(solutions_ship=False)
    else:
        shipped, packed = student_label(name), student_label(name, solutions_ship=False)
    differ = lines_that_differ((ROOT / "notebooks" / name).read_bytes(), (unpacked / "notebooks" / name).read_bytes())
    assert len(differ) == 1, f"{name}: {len(differ)} lines differ from the student edition, not 1"
    student_line, pack_line = differ[0]
    assert shipped in student_line and student_line.replace(shipped, packed) == pack_line, f"{name}: {pack_line}"


def test_the_packs_notebooks_import_its_own_helpers(unpacked):
    """A kernel started in the pack's notebooks/ folder, with the pack on PYTHONPATH as a student's setup
    has it, imports the pack's helpers (every lesson's checks too) and its recordings, not the repository's."""
    modules = ["helpers", "workbook_base.environment"]
    modules += [f"helpers.checks.{path.stem}" for path in sorted((ROOT / "helpers" / "checks").glob("lesson*.py"))]
    probe = (
        f"import importlib, helpers.settings\nfor name in {modules!r}:\n"
        "    print(importlib.import_module(name).__file__)\nprint(helpers.settings.REPO_ROOT)"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=unpacked / "notebooks",
        env=with_test_environment(PYTHONPATH=str(unpacked)),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    places = [Path(line) for line in done.stdout.splitlines()]
    assert len(places) == len(modules) + 1, done.stdout
    assert all(place.is_relative_to(unpacked) for place in places), f"the repository's, not the pack's: {done.stdout}"
