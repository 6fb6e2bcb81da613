"""`workbook.py site`: the reading edition is the same, byte for byte, every time it is built from the same files.

(The browser test, tests/test_browser.py, opens the site from disk and follows every link.)
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from instructor.pack import FOLDER, write_pack
from instructor.site import build_site

ROOT = Path(__file__).resolve().parent.parent

# Whole builds again, after the browser test's: the release tier's, beside the other byte-for-byte rebuilds.
pytestmark = pytest.mark.release


def files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_the_same_sources_build_the_same_site_byte_for_byte(tmp_path):
    first, second = build_site(tmp_path / "one"), build_site(tmp_path / "two")
    assert first == second and "index.html" in first
    one, two = files(tmp_path / "one"), files(tmp_path / "two")
    differ = [name for name in one if one[name] != two.get(name)]
    assert one.keys() == two.keys() and not differ, f"pages that differ between two builds: {differ}"


def test_the_student_pack_can_carry_the_site(tmp_path):
    write_pack(tmp_path / "pack.zip", with_site=True)
    with zipfile.ZipFile(tmp_path / "pack.zip") as archive:
        names = archive.namelist()
        front = archive.read(f"{FOLDER}/site/index.html").decode()
    pages = {name.removeprefix(f"{FOLDER}/site/") for name in names if name.startswith(f"{FOLDER}/site/")}
    lessons = {f"{path.stem}.html" for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert lessons | {"index.html", "style.css"} == pages
    assert all(page in front for page in lessons), "the site's front page does not link to every lesson"
