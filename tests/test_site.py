"""`workbook.py site`: the reading edition folds its side topics, and is the same, byte for byte, every time
it is built from the same files.

(The browser test, tests/test_browser.py, opens the site from disk and follows every link.)
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import nbformat
import pytest
from nbconvert import HTMLExporter

from instructor.pack import FOLDER, write_pack
from instructor.site import TEMPLATE_DIR, build_site, render
from tools.build_notebooks import GOING_FURTHER_NOTE, mark_going_further

ROOT = Path(__file__).resolve().parent.parent


def files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_a_going_further_section_is_folded_in_a_details_element_of_its_own():
    cells = [
        nbformat.v4.new_markdown_cell("## Basics"),
        nbformat.v4.new_markdown_cell("### Going further: the `extra` part\nMore words."),
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_markdown_cell("## Next"),
    ]
    mark_going_further(cells)
    exporter = HTMLExporter(template_name="basic", template_file=str(TEMPLATE_DIR / "page.html.j2"))
    html = render(exporter, "99_test.ipynb", nbformat.v4.new_notebook(cells=cells))
    assert '<details class="going-further">' in html, "no fold for the going-further section"
    start, end = html.index('<details class="going-further">'), html.index("</details>")
    folded = html[start:end]
    assert "<summary>Going further: the <code>extra</code> part</summary>" in folded, folded
    assert "More words." in folded and '<span class="n">x</span>' in folded, (
        "the section's cells are not inside the fold"
    )
    assert "Next" not in folded and "Next" in html[end:], "the fold does not end where the section does"
    assert GOING_FURTHER_NOTE not in html, "the note about JupyterLab's fold shows on the site"
    assert html.count("<details") == 1


# Whole builds again, after the browser test's: the release tier's, beside the other byte-for-byte rebuilds.
@pytest.mark.release
def test_the_same_sources_build_the_same_site_byte_for_byte(tmp_path):
    first, second = build_site(tmp_path / "one"), build_site(tmp_path / "two")
    assert first == second and "index.html" in first
    one, two = files(tmp_path / "one"), files(tmp_path / "two")
    differ = [name for name in one if one[name] != two.get(name)]
    assert one.keys() == two.keys() and not differ, f"pages that differ between two builds: {differ}"


@pytest.mark.release
def test_the_student_pack_can_carry_the_site(tmp_path):
    write_pack(tmp_path / "pack.zip", with_site=True)
    with zipfile.ZipFile(tmp_path / "pack.zip") as archive:
        names = archive.namelist()
        front = archive.read(f"{FOLDER}/site/index.html").decode()
    pages = {name.removeprefix(f"{FOLDER}/site/") for name in names if name.startswith(f"{FOLDER}/site/")}
    lessons = {f"{path.stem}.html" for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert lessons | {"index.html", "style.css"} == pages
    assert all(page in front for page in lessons), "the site's front page does not link to every lesson"
