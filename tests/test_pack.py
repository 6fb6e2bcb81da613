"""`workbook.py pack`: the student pack holds what students need, nothing of the instructor's, and runs."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tools.pack import FOLDER, student_readme, write_pack
from workbook import TEST_ENVIRONMENT

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
    recordings = {path.name for path in (ROOT / "recordings").glob("*.json")}
    assert {f"recordings/{name}" for name in recordings} <= set(names)


def test_the_pack_leaves_out_solutions_tools_tests_and_development_requirements(names):
    left_out = ("solutions/", "source/", "tools/", "tests/", "benchmarks/", ".ci/", "recordings/improvised/")
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


@pytest.mark.parametrize("command", ["test", "pack"])
def test_in_the_pack_the_commands_it_cannot_run_say_so_in_one_line_without_installing(unpacked, command):
    done = subprocess.run([sys.executable, "workbook.py", command], cwd=unpacked, capture_output=True, text=True)
    assert done.returncode != 0
    assert "student pack" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (unpacked / ".venv").exists()


def test_the_packs_notebooks_run_with_its_own_helpers_and_recordings_and_show_what_they_store(unpacked):
    """Every notebook of the pack, under nbval with outputs compared, importing helpers from the pack."""
    environment = {**os.environ, **TEST_ENVIRONMENT, "PYTHONPATH": str(unpacked)}
    where = subprocess.run(
        [sys.executable, "-c", "import helpers; print(helpers.__file__)"],
        cwd=unpacked / "notebooks",
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert Path(where.stdout.strip()).is_relative_to(unpacked), "the pack's notebooks would import the repo's helpers"
    notebooks = sorted(str(path) for path in unpacked.joinpath("notebooks").glob("*.ipynb"))
    nbval = ["--nbval", "--nbval-current-env", f"--nbval-sanitize-with={ROOT / 'tests' / 'sanitize.cfg'}"]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist", *nbval, *notebooks],
        cwd=unpacked,
        env=environment,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout[-3000:]
