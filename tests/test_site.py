"""`workbook.py site`: the reading edition is the same, byte for byte, every time it is built from the same files.

(The browser test, tests/test_browser.py, opens the site from disk and follows every link.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from instructor.site import build_site

# Two whole builds: the release tier's, beside the other byte-for-byte rebuilds.
pytestmark = pytest.mark.release


def files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def test_the_same_sources_build_the_same_site_byte_for_byte(tmp_path):
    first, second = build_site(tmp_path / "one"), build_site(tmp_path / "two")
    assert first == second and "index.html" in first
    one, two = files(tmp_path / "one"), files(tmp_path / "two")
    differ = [name for name in one if one[name] != two.get(name)]
    assert one.keys() == two.keys() and not differ, f"pages that differ between two builds: {differ}"
