"""The one command that re-records every lesson, run end to end against a stand-in server.

It works on a copy of the repository, so the real recordings and notebooks are never touched.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import MODEL
from tests.conftest import FAKE_KEY
from tools.standin_server import StandinServer

ROOT = Path(__file__).resolve().parent.parent


def copy_of_repository(target: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in filter(None, listed.stdout.split("\0")):
        if (ROOT / name).exists():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    return target


def test_record_lessons_rerecords_refreshes_outputs_and_reports_the_cost(tmp_path):
    copy = copy_of_repository(tmp_path / "repo")
    recording = copy / "recordings" / "00_where_models_run.json"
    recording.unlink()
    with StandinServer(mark_as_sample=False) as server:  # plays a real, compatible server
        env = {
            **os.environ,
            "PYTHONPATH": str(copy),  # the copy's helpers, for this process and the kernels it starts
            "ANTHROPIC_API_KEY": FAKE_KEY,
            "ANTHROPIC_BASE_URL": server.url,
        }
        result = subprocess.run(
            [sys.executable, "-m", "tools.record_lessons", "00"],
            cwd=copy,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        assert server.state.requests, "nothing was sent to the server"

    data = json.loads(recording.read_text())
    assert data["provenance"] == "recorded"
    assert data["recorded_on"] == dt.date.today().isoformat() and data["models"] == [MODEL]
    summary = result.stdout.splitlines()
    assert any(line.startswith("00_where_models_run") and "$" in line for line in summary), result.stdout
    assert any(line.startswith("total") for line in summary)

    refreshed = json.loads((copy / "notebooks" / "00_where_models_run.ipynb").read_text())
    outputs = "".join(
        "".join(output.get("text", ""))
        for cell in refreshed["cells"]
        if cell["cell_type"] == "code"
        for output in cell.get("outputs", [])
    )
    assert "replies recorded from the API" in outputs, "stored outputs should show the new recordings"
    for path in copy.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".ipynb"):
            assert FAKE_KEY not in path.read_text(), f"the key leaked into {path.relative_to(copy)}"
