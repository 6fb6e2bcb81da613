#!/usr/bin/env python3
"""Set up the workbook and use it, with nothing but Python 3.11+ installed.

    python3 workbook.py lab    # set up, then open the workbook in JupyterLab
    python3 workbook.py test   # set up, then run every test (offline, no key needed)
    python3 workbook.py forget [LESSON ...]   # drop what auto mode recorded in class

Setting up means: create .venv/ beside this file, install requirements.txt and the
helpers package into it. It is skipped when nothing changed since the last time.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / "workbook-installed.txt"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
FIRST_PAGE = "notebooks/contents.ipynb"

# What the tests run with, whatever is in your shell or .env: recordings only,
# no key, the default model and endpoint, streams replayed instantly.
TEST_ENVIRONMENT = {
    "WORKBOOK_MODE": "replay",
    "ANTHROPIC_API_KEY": "",
    "ANTHROPIC_BASE_URL": "",
    "WORKBOOK_MODEL": "",
    "WORKBOOK_STREAM_SPEED": "0",
    "WORKBOOK_RECORDINGS_DIR": "",
    # Streamed replies printed as text rather than shown in a widget, so stored outputs are readable text.
    "WORKBOOK_LIVE_DISPLAY": "plain",
    # Keeps temporary file paths out of warnings, so stored outputs compare equal.
    "IPYKERNEL_CELL_NAME": "<IPY-INPUT>",
    # The same random numbers (retry jitter) on every run, so a rebuild changes no byte.
    "WORKBOOK_SEED": "2026",
}


def run(*command: str | Path, env: dict[str, str] | None = None) -> None:
    completed = subprocess.run([str(part) for part in command], cwd=ROOT, env=env)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def set_up() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must run on old Pythons to say so
        sys.exit(f"The workbook needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    wanted = hashlib.sha256(
        b"".join((ROOT / name).read_bytes() for name in ("requirements.txt", "pyproject.toml"))
    ).hexdigest()
    if STAMP.exists() and STAMP.read_text().strip() == wanted:
        return
    if not PYTHON.exists():
        print(f"Creating a virtual environment in {VENV.name}/ ...", flush=True)
        venv.create(VENV, with_pip=True)
    print("Installing the workbook's packages (first time: a few minutes) ...", flush=True)
    run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", "requirements.txt")
    run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "-e", ".")
    STAMP.write_text(wanted + "\n")


def lab_options(root: Path = ROOT) -> list[str]:
    """How JupyterLab is started for the workbook; the browser test starts it the same way."""
    options = [f"--ServerApp.root_dir={root}", f"--LabApp.default_url=/lab/tree/{FIRST_PAGE}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        options.append("--allow-root")  # containers and CI machines often run as root
    return options


def lab(extra: list[str]) -> None:
    run(BIN / "jupyter", "lab", *lab_options(), *extra)


# Notebooks are spread over one worker per core; each notebook stays whole on one worker.
PARALLEL = ["-n", "auto", "--dist", "loadfile"]


def test(extra: list[str]) -> None:
    env = {**os.environ, **TEST_ENVIRONMENT}
    run(PYTHON, "-m", "pytest", *PARALLEL, *extra, env=env)


def forget(extra: list[str]) -> None:
    """Drop what auto mode recorded in class (recordings/improvised/), for some lessons or all."""
    run(PYTHON, "-m", "helpers", "forget", *extra)


COMMANDS = {"lab": lab, "test": test, "forget": forget}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    set_up()
    COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    main()
