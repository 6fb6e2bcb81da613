#!/usr/bin/env python3
"""Set up the workbook and use it, with nothing but Python 3.11+ installed.

    python3 workbook.py lab    # set up, then open the workbook in JupyterLab
    python3 workbook.py test   # set up, then run the tests (offline, no key needed): the fast tier
    python3 workbook.py test --release   # the release tier: re-record, rebuild, any model, the browser
    python3 workbook.py forget [LESSON ...]   # drop what auto mode recorded in class
    python3 workbook.py check-server   # what the server in .env can do, and which lessons lose what
    python3 workbook.py grade DIR [--out DIR] [--lesson NN]   # grade students' notebooks
    python3 workbook.py pack [--out FILE.zip]   # the student pack, to upload to a course site

Setting up means: create .venv/ beside this file and install into it what the command
needs: requirements.txt (what the lessons use) for lab, forget and grade, and
requirements-dev.txt too (tests, builds, the browser) for test and pack, plus the
workbook's own packages (helpers, workbook_base, and instructor where it exists). Each
of the two keeps its own stamp, so it is skipped when nothing changed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
import venv
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from workbook_base.environment import with_test_environment

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
FIRST_PAGE = "notebooks/contents.ipynb"


def call(*command: str | Path, env: dict[str, str] | None = None, cwd: Path = ROOT) -> int:
    """Run a command to its end and return its exit status (128 + the signal's number if one killed it)."""
    process = subprocess.Popen([str(part) for part in command], cwd=cwd, env=env)
    # Ctrl-C reaches the command itself (JupyterLab asks whether to shut down; the grader stops
    # cleanly); this process only waits for it, rather than kill it and print a traceback.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        returncode = process.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    return returncode if returncode >= 0 else 128 - returncode


def run(*command: str | Path, env: dict[str, str] | None = None, cwd: Path = ROOT) -> None:
    """Run a command; if it fails, exit with its status."""
    returncode = call(*command, env=env, cwd=cwd)
    if returncode != 0:
        sys.exit(returncode)


@dataclass(frozen=True)
class Install:
    """One set of requirements, and the stamp that says it is installed as the files now ask."""

    requirements: str
    covers: tuple[str, ...]  # every file whose change means installing again
    stamp: Path

    def wanted(self) -> str:
        return hashlib.sha256(b"".join((ROOT / name).read_bytes() for name in self.covers)).hexdigest()

    def is_current(self) -> bool:
        return self.stamp.exists() and self.stamp.read_text().strip() == self.wanted()


# What the lessons import, and nothing else: what a student installs.
LESSONS = Install("requirements.txt", ("requirements.txt", "pyproject.toml"), VENV / "workbook-installed-lessons.txt")
# The lessons' requirements plus the tests, the notebook builds and the browser test.
DEVELOPMENT = Install(
    "requirements-dev.txt",
    ("requirements.txt", "requirements-dev.txt", "pyproject.toml"),
    VENV / "workbook-installed-dev.txt",
)


def set_up(install: Install) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - this file must run on old Pythons to say so
        sys.exit(f"The workbook needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if install.is_current():
        return
    if not PYTHON.exists():
        print(f"Creating a virtual environment in {VENV.name}/ ...", flush=True)
        try:
            venv.create(VENV, with_pip=True)
        except (OSError, subprocess.CalledProcessError) as err:
            shutil.rmtree(VENV, ignore_errors=True)  # half made, it would fail every later run
            version = f"{sys.version_info.major}.{sys.version_info.minor}"
            sys.exit(
                f"Could not create {VENV.name}/ ({err}). On Debian or Ubuntu, install python{version}-venv "
                "(sudo apt install python3-venv), then run this again."
            )
    print(f"Installing the packages in {install.requirements} (first time: a few minutes) ...", flush=True)
    run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", install.requirements)
    run(PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-deps", "-e", ".")
    install.stamp.write_text(install.wanted() + "\n")
    if install is DEVELOPMENT:  # it installed the lessons' requirements too
        LESSONS.stamp.write_text(LESSONS.wanted() + "\n")


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
# The fast tier is everything a change can break, each notebook run once (by nbval); the release tier
# is what runs something again another way: the end-to-end re-record, the byte-for-byte rebuild,
# every lesson on a plain-text model and every lesson in the browser (pytest's `release` marker).
FAST_TIER = ["-m", "not release"]
RELEASE_TIER = ["-m", "release", "tests"]
FAST_TIER_BUDGET_S = 240  # what the fast tier should take on a quiet 2-core machine


def took(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def test(extra: list[str]) -> None:
    release = "--release" in extra
    extra = [argument for argument in extra if argument != "--release"]
    env = with_test_environment()
    started = time.monotonic()
    returncode = call(PYTHON, "-m", "pytest", *PARALLEL, *(RELEASE_TIER if release else FAST_TIER), *extra, env=env)
    elapsed = time.monotonic() - started
    if release:
        print(f"The release tier took {took(elapsed)}.")
    else:
        print(f"The fast tier took {took(elapsed)} (its budget: {took(FAST_TIER_BUDGET_S)} on a quiet 2-core machine).")
    if returncode != 0:
        sys.exit(returncode)


def forget(extra: list[str]) -> None:
    """Drop what auto mode recorded in class (recordings/improvised/), for some lessons or all."""
    run(PYTHON, "-m", "helpers", "forget", *extra)


def check_server(extra: list[str]) -> None:
    """Probe the configured server (ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY) once for each feature the lessons use."""
    run(PYTHON, "-m", "helpers.server_check", *extra)


def grade(extra: list[str]) -> None:
    """Run students' notebooks offline, each in a fresh kernel with no key, and collect their checks' verdicts."""
    # Run where the user is, so DIR and --out are their paths; -P keeps a helpers/ folder there (a
    # student's unpacked pack, say) from standing in for the workbook's own.
    run(PYTHON, "-P", "-m", "instructor.grading", *extra, cwd=Path.cwd())


def pack(extra: list[str]) -> None:
    """Write the student pack: a zip of what students need, without solutions, tools or tests."""
    run(PYTHON, "-m", "instructor.pack", *extra)


COMMANDS: dict[str, tuple[Callable[[list[str]], None], Install]] = {
    "lab": (lab, LESSONS),
    "test": (test, DEVELOPMENT),
    "forget": (forget, LESSONS),
    "check-server": (check_server, LESSONS),
    "grade": (grade, LESSONS),
    "pack": (pack, DEVELOPMENT),  # it builds the pack's notebooks from source/ (jupytext)
}
# The student pack (`pack`) leaves these out, and with them the commands that need them.
ONLY_IN_THE_FULL_WORKBOOK = {"test": "tests", "grade": "instructor/grading.py", "pack": "instructor/pack.py"}


def main() -> None:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    name = sys.argv[1]
    needed = ONLY_IN_THE_FULL_WORKBOOK.get(name)
    if needed and not (ROOT / needed).exists():
        sys.exit(f"`{name}` is not in the student pack, which holds only the lessons: `python3 workbook.py lab`.")
    command, install = COMMANDS[name]
    set_up(install)
    command(sys.argv[2:])


if __name__ == "__main__":
    main()
