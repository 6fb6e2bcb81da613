"""A failed call in a notebook shows the scripts' one line (helpers.cli), the full traceback folded below it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tools.standin.http import StandinServer

ROOT = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")
FAILING_CALL = """\
from helpers import MODEL, get_client
client = get_client("lesson", max_retries=0, quiet=True)
client.messages.create(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "Hello"}])
"""


def test_a_failed_call_is_one_line_with_the_traceback_folded_below_and_kept_for_tb(tmp_path):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(FAILING_CALL), nbformat.v4.new_code_cell("%tb")]
    with StandinServer(always="529") as server:
        env = {
            **os.environ,
            "WORKBOOK_MODE": "live",
            "ANTHROPIC_API_KEY": "test-key",
            "ANTHROPIC_BASE_URL": server.url,
            "WORKBOOK_RECORDINGS_DIR": str(tmp_path),
            "PYTHONPATH": str(ROOT),
        }
        NotebookClient(notebook, timeout=60, kernel_name="python3", allow_errors=True).execute(env=env)
    failed, shown_by_tb = (cell.outputs for cell in notebook.cells)
    errors = [output for output in failed if output.output_type == "error"]
    assert len(errors) == 1, f"one error output, got {[output.output_type for output in failed]}"
    lines = ANSI.sub("", "\n".join(errors[0].traceback)).splitlines()
    assert len(lines) <= 3, "a failed call shows at most 3 lines:\n" + "\n".join(lines)
    assert "error: the service is overloaded" in lines[0] and "Try again later" in lines[0], lines
    folded = [output for output in failed if output.output_type == "display_data"]
    assert folded and "<details>" in folded[0].data["text/html"], "the full traceback is folded below the line"
    assert "Traceback (most recent call last)" in folded[0].data["text/html"]
    whole = ANSI.sub("", "\n".join(line for output in shown_by_tb for line in output.get("traceback", [])))
    assert "OverloadedError" in whole and len(whole.splitlines()) > 3, "%tb shows the whole traceback afterwards"
