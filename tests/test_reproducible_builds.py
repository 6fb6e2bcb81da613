"""Building a lesson from unchanged sources changes no byte: so after a rebuild or a re-record,
`git diff` shows only what really changed (seeded jitter, simulated waits, no volatile metadata)."""

from __future__ import annotations

import pytest

from tools import build_notebooks

LESSONS = build_notebooks.all_lessons()

# Every lesson executed again, a second time after nbval's run: the release tier's.
pytestmark = pytest.mark.release


@pytest.mark.parametrize("index", range(len(LESSONS)), ids=[lesson.name for lesson in LESSONS])
def test_a_fresh_build_is_byte_for_byte_the_committed_notebook(index):
    lesson = LESSONS[index]
    for edition, folder in build_notebooks.EDITIONS.items():
        built = build_notebooks.execute(build_notebooks.build(LESSONS, index, edition), folder)
        committed = (folder / lesson.filename).read_bytes()
        assert build_notebooks.notebook_bytes(built) == committed, (
            f"{folder.name}/{lesson.filename} differs from a fresh build of source/{lesson.source.name}: "
            "something in it is not reproducible (or it is stale: run .venv/bin/python -m tools.build_notebooks)"
        )
