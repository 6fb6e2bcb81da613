"""Each companion script once as a real process, as a user runs it: `python scripts/NAME.py` from the
workbook's folder, offline with no key. Everything else about the scripts runs their main() in-process
(run_script_in_process), which is what this proves equal to a real run: the `__main__` block, the
imports from a fresh interpreter, and the exit status."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, run_script_process

SCRIPTS = sorted(path.name for path in (ROOT / "scripts").glob("*.py"))


@pytest.mark.parametrize("name", SCRIPTS, ids=lambda name: Path(name).stem)
def test_the_script_runs_offline_with_no_key_and_exits_0(name):
    result = run_script_process(name)
    assert result.returncode == 0, f"scripts/{name} exited {result.returncode}: {result.stderr[-600:]}"
    assert result.stdout.strip(), f"scripts/{name} printed nothing"
    assert "Traceback" not in result.stderr, f"scripts/{name} wrote a traceback: {result.stderr[-600:]}"


def test_every_script_is_run_here():
    assert len(SCRIPTS) >= 5, f"only {SCRIPTS} found under scripts/"
