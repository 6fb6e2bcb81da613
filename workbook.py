#!/usr/bin/env python3
"""Set up the workbook and use it, with nothing but Python 3.11+ installed.

    python3 workbook.py lab    # set up, then open the workbook in JupyterLab
    python3 workbook.py lab --local   # the same, with a small model running on this machine beside it
    python3 workbook.py local [--port N] [--write-env] [--live] [--reinstall]   # run that model alone
    python3 workbook.py test   # set up, then run the tests (offline, no key needed): the fast tier
    python3 workbook.py test --release   # the release tier: re-record, rebuild, any model, the browser
    python3 workbook.py test --local   # the real-model tier: every lesson and script on the local model
    python3 workbook.py forget [LESSON ...]   # drop what auto mode recorded in class
    python3 workbook.py check-server   # what the server in .env can do, and which lessons lose what
    python3 workbook.py grade DIR [--out DIR] [--lesson NN] [--feedback]   # grade students' notebooks
    python3 workbook.py pack [--out FILE.zip] [--with-site]   # the student pack, to upload to a course site
    python3 workbook.py slides NN   # present lesson NN as slides (RISE) in JupyterLab, its cells live
    python3 workbook.py site [--out DIR]   # the reading edition: a static site of the lessons and outputs

Setting up means: create .venv/ beside this file and install into it what the command
needs: requirements.txt (what the lessons use) for lab, forget and grade, and
requirements-dev.txt too (tests, builds, the browser) for test and pack, plus the
workbook's own packages (helpers, workbook_base, and instructor where it exists). Each
of the two keeps its own stamp, so it is skipped when nothing changed. Only `local`,
`lab --local` and `test --local` install requirements-local.txt as well (llama.cpp's
server, compiled once, and the model file): see workbook_base/local_model.py.
"""

from __future__ import annotations

import contextlib
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

from workbook_base import local_model
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
# The lessons' requirements plus the slides extension (jupyterlab-rise, too big for every student).
SLIDES = Install(
    "requirements-slides.txt",
    ("requirements.txt", "requirements-slides.txt", "pyproject.toml"),
    VENV / "workbook-installed-slides.txt",
)
# The lessons' requirements plus the tests, the notebook builds and the browser test (and the slides).
DEVELOPMENT = Install(
    "requirements-dev.txt",
    ("requirements.txt", "requirements-dev.txt", "requirements-slides.txt", "pyproject.toml"),
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
        SLIDES.stamp.write_text(SLIDES.wanted() + "\n")
    if install is SLIDES:
        LESSONS.stamp.write_text(LESSONS.wanted() + "\n")


def lab_options(root: Path = ROOT, first_url: str = f"/lab/tree/{FIRST_PAGE}") -> list[str]:
    """How JupyterLab is started for the workbook; the browser test starts it the same way."""
    options = [f"--ServerApp.root_dir={root}", f"--LabApp.default_url={first_url}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        options.append("--allow-root")  # containers and CI machines often run as root
    return options


def lab(extra: list[str]) -> None:
    if "--local" not in extra:
        run(BIN / "jupyter", "lab", *lab_options(), *extra)
        return
    extra = [argument for argument in extra if argument != "--local"]
    with running_local_model(extra) as (server, settings):
        print("JupyterLab's kernels get these settings; Ctrl-C stops JupyterLab, then the local model.")
        server.watch(lambda line: print(line, file=sys.stderr, flush=True))
        returncode = call(BIN / "jupyter", "lab", *lab_options(), *extra, env={**os.environ, **settings})
    sys.exit(returncode)


# --- the local model (workbook_base/local_model.py) --------------------------------------

LOCAL_STAMP = local_model.stamp_path(VENV)
LOCAL_LOGS = VENV / "local-model"


def local_install(reinstall: bool = False) -> local_model.Installed:
    """The local model's server and file, installed into .venv/ the first time (or when asked again)."""
    installed = None if reinstall else local_model.read_stamp(LOCAL_STAMP, ROOT)
    if installed is None:
        try:
            installed = local_model.install(PYTHON, ROOT, LOCAL_LOGS / "install.log", reinstall=reinstall)
        except local_model.LocalModelError as problem:
            sys.exit(str(problem))
        LOCAL_STAMP.write_text(installed.to_json(local_model.requirements_digest(ROOT)))
    return installed


def _option(extra: list[str], name: str) -> str | None:
    """The value after `name` in `extra` (both removed from it), or None."""
    if name not in extra:
        return None
    at = extra.index(name)
    if at + 1 >= len(extra):
        sys.exit(f"{name} needs a value, e.g. {name} 8091")
    value = extra[at + 1]
    del extra[at : at + 2]
    return value


@contextlib.contextmanager
def running_local_model(extra: list[str]):
    """Install if needed, start llama-server and wait for it; yield it with the settings that point the
    workbook at it, and stop it on the way out, however the block ends. Takes its options out of `extra`."""
    reinstall, live, write = (flag in extra for flag in ("--reinstall", "--live", "--write-env"))
    extra[:] = [argument for argument in extra if argument not in ("--reinstall", "--live", "--write-env")]
    port = _option(extra, "--port")
    if port is not None and not port.isdigit():
        sys.exit(f"--port {port}: a port is a whole number, e.g. --port 8091")
    installed = local_install(reinstall)
    server = local_model.LocalServer(installed, LOCAL_LOGS / "server.log", int(port) if port else None)
    started = time.monotonic()
    try:
        server.start()
    except local_model.LocalModelError as problem:
        sys.exit(str(problem))
    except KeyboardInterrupt:
        sys.exit("Stopped before the local model was ready.")
    try:
        settings = (local_model.live_settings if live else local_model.explore_settings)(server.url)
        print(
            f"The local model is ready in {took(time.monotonic() - started)}: {local_model.LOCAL_MODEL}, a "
            f"{local_model.LOCAL_MODEL_SIZE} model, served by {server.build_info()} at {server.url} "
            f"(context {local_model.CONTEXT_TOKENS} tokens; its log: {server.log})."
        )
        if live:
            print("Every request of the workbook goes to it, and nothing is saved, with these settings:")
        else:
            print(
                "With no API key, the recorded replies still replay, and a request never recorded goes to it, "
                "with these settings (`--live` prints the ones that send every request to it):"
            )
        for name, value in settings.items():
            print(f"    {name}={value}")
        if write:
            local_model.write_env(ROOT / ".env", settings)
            print("Written to .env (restart any running kernel to read them).")
        yield server, settings
    finally:
        server.stop()


def local(extra: list[str]) -> None:
    """Run the local model until Ctrl-C (or a SIGTERM, as from `kill`: the server stops with it either way)."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with running_local_model(extra) as (server, _settings):
        print("Ctrl-C stops it.", flush=True)
        try:
            while server.process.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            print("\nStopping the local model ...")
            return
        print(server.why_it_stopped(), file=sys.stderr)
    sys.exit(1)


def slides_url(lesson: str, root: Path = ROOT) -> str:
    """Where RISE (jupyterlab-rise) shows lesson `lesson` (its two digits) of the student edition as slides."""
    found = sorted((root / "notebooks").glob(f"{lesson}_*.ipynb")) if lesson.isdigit() and len(lesson) == 2 else []
    if not found:
        known = ", ".join(sorted(path.name[:2] for path in (root / "notebooks").glob("[0-9][0-9]_*.ipynb")))
        sys.exit(f"No lesson {lesson!r}: give a lesson's two-digit number ({known}).")
    return f"/rise/notebooks/{found[0].name}"


def slides(extra: list[str]) -> None:
    """Open a lesson as slides in JupyterLab: Space moves on, Ctrl+Enter runs the cell on the slide."""
    if not extra or extra[0].startswith("-"):
        sys.exit("Which lesson? python3 workbook.py slides NN (for example 03)")
    run(BIN / "jupyter", "lab", *lab_options(first_url=slides_url(extra[0])), *extra[1:])


def site(extra: list[str]) -> None:
    """Write the reading edition: a static site of the student edition with its stored outputs."""
    run(PYTHON, "-m", "instructor.site", *extra)


# Notebooks are spread over one worker per core; each notebook stays whole on one worker.
PARALLEL = ["-n", "auto", "--dist", "loadfile"]
# The fast tier is everything a change can break, each notebook run once (by nbval); the release tier
# is what runs something again another way: the end-to-end re-record, the byte-for-byte rebuild,
# every lesson on a plain-text model and every lesson in the browser (pytest's `release` marker).
FAST_TIER = ["-m", "not release and not local"]
RELEASE_TIER = ["-m", "release", "tests"]
# Every lesson and script, live on the real local model (llama-server): `python3 workbook.py test --local`.
LOCAL_TIER = ["-m", "local", "tests"]
FAST_TIER_BUDGET_S = 240  # what the fast tier should take on a quiet 2-core machine


def took(seconds: float) -> str:
    minutes, seconds = divmod(round(seconds), 60)
    return f"{minutes} min {seconds:02d} s" if minutes else f"{seconds} s"


def test(extra: list[str]) -> None:
    release, local_tier = "--release" in extra, "--local" in extra
    extra = [argument for argument in extra if argument not in ("--release", "--local")]
    env = with_test_environment()
    if local_tier:
        installed_at = time.monotonic()
        local_install()
        print(f"The local model's install took {took(time.monotonic() - installed_at)}.")
    tier = RELEASE_TIER if release else LOCAL_TIER if local_tier else FAST_TIER
    started = time.monotonic()
    # The local tier's tests share one server and the machine's cores: they run one at a time.
    parallel = [] if local_tier else PARALLEL
    returncode = call(PYTHON, "-m", "pytest", *parallel, *tier, *extra, env=env)
    elapsed = time.monotonic() - started
    if release:
        print(f"The release tier took {took(elapsed)}.")
    elif local_tier:
        print(f"The local tier took {took(elapsed)}.")
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
    "local": (local, LESSONS),
    "test": (test, DEVELOPMENT),
    "forget": (forget, LESSONS),
    "check-server": (check_server, LESSONS),
    "grade": (grade, LESSONS),
    "pack": (pack, DEVELOPMENT),  # it builds the pack's notebooks from source/ (jupytext)
    "slides": (slides, SLIDES),
    "site": (site, DEVELOPMENT),  # it builds from source/, as the pack does
}
# The student pack (`pack`) leaves these out, and with them the commands that need them.
ONLY_IN_THE_FULL_WORKBOOK = {
    "test": "tests",
    "grade": "instructor/grading.py",
    "pack": "instructor/pack.py",
    "site": "instructor/site.py",
    "slides": "requirements-slides.txt",  # instructors present; students read and run
}


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
