"""Grade students' notebooks: run each offline, check every exercise, write a table.

    python3 workbook.py grade DIR [--out DIR] [--lesson NN] [--time-limit S] [--check-limit S] [--jobs N] [--feedback]

Every notebook under DIR (any name, any subfolder) is read, and its lesson worked out from the
notebook itself: the workbook's metadata, else the lesson checks it imports, else its title. Then it
runs as Run All would, in a fresh kernel, in replay mode, in an empty scratch folder, with no key and
no .env in reach, and a time limit for the whole notebook. After the student's cells, the grader runs
each exercise's check itself, as the lesson calls it, each with a time limit of its own; those verdicts,
not any the notebook already shows, are the grade. A notebook that cannot be read, belongs to another
lesson or is the instructor edition gets a row that says so, and grading goes on.

This keeps keys away from students' code; it is not a sandbox. Code that means harm can still read
files on the machine: grade untrusted work in a container or a throwaway account.
"""

from __future__ import annotations

import argparse
import ast
import logging
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from helpers.checks.verdicts import EXERCISES, VERDICT_MIME, Exercise, Verdict
from helpers.settings import IGNORE_DOTENV, REPO_ROOT
from workbook_base.editions import METADATA_KEY, SOLUTION, SOLUTION_LABEL_START
from workbook_base.environment import with_test_environment

from .grade_report import write_csv, write_html
from .grades import Lesson, Row, Stop

TIME_LIMIT = 180.0  # seconds for a whole notebook; the slowest lesson replays in well under a minute
CHECK_LIMIT = 60.0  # seconds for one exercise's check

# What the kernel inherits from the grader's environment: enough to run Python, nothing secret.
PASSED_THROUGH = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "SYSTEMROOT", "TZ")

# nbclient's notes ("Timeout waiting for execute reply", "Interrupting kernel") and nbformat's ("Notebook
# JSON is invalid") would land among the grader's lines without naming the notebook: each row says it.
QUIET = logging.getLogger("instructor.grading.quiet")


def quiet_library_logs() -> None:
    """Drop those notes, for the command (main); a program that grades through grade_folder keeps its own logging."""
    for name in (QUIET.name, "nbformat", "traitlets"):
        logging.getLogger(name).addHandler(logging.NullHandler())
        logging.getLogger(name).propagate = False


@dataclass(frozen=True)
class TimeLimits:
    """Seconds for a whole notebook, and for one exercise's check."""

    notebook: float = TIME_LIMIT
    check: float = CHECK_LIMIT


# --- the lessons, from the shipped student edition ----------------------------------------------


def _title(notebook: nbformat.NotebookNode) -> str | None:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            match = re.search(r"^# (.+)$", cell.source, re.MULTILINE)
            if match:
                return match.group(1).strip()
    return None


def parsed_code_cells(notebook: nbformat.NotebookNode) -> Iterator[tuple[str, ast.Module]]:
    """Each code cell's source and syntax tree, skipping cells that are not valid Python (magics, typos)."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        try:
            yield cell.source, ast.parse(cell.source)
        except SyntaxError:
            continue


def _check_calls(notebook: nbformat.NotebookNode) -> dict[str, str]:
    """The statements that call a check (check_x("name")), by the check's name, from the code cells."""
    calls = {}
    for source, tree in parsed_code_cells(notebook):
        for node in tree.body:
            call = node.value if isinstance(node, ast.Expr) else None
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id.startswith("check_"):
                calls[call.func.id] = ast.get_source_segment(source, node) or ""
    return calls


def shipped_lessons(folder: Path = REPO_ROOT / "notebooks") -> dict[str, Lesson]:
    """Every lesson with checked exercises, by number, read from the student edition in `folder`."""
    import importlib

    lessons = {}
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        notebook = nbformat.read(path, as_version=4)
        number = path.stem[:2]
        try:
            importlib.import_module(f"helpers.checks.lesson{number}")
        except ModuleNotFoundError as err:
            if err.name != f"helpers.checks.lesson{number}":
                raise  # the lesson's checks exist but need something missing: the workbook's bug, not a skip
            continue
        exercises = tuple(sorted(EXERCISES.get(number, {}).values(), key=lambda exercise: exercise.number))
        calls = _check_calls(notebook)
        check_code = {}
        for exercise in exercises:
            if exercise.check not in calls:
                raise RuntimeError(f"{path.name} never calls {exercise.check}, the check of exercise {exercise.number}")
            module = f"helpers.checks.lesson{number}"
            check_code[exercise.number] = f"from {module} import {exercise.check}\n{calls[exercise.check]}"
        lessons[number] = Lesson(number, _title(notebook) or path.stem, exercises, check_code)
    return lessons


# --- which lesson a submission is ----------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    lesson: str | None
    edition: str | None  # "student", "solution", or None when the notebook does not say


def identify(notebook: nbformat.NotebookNode, lessons: dict[str, Lesson]) -> Identity:
    """The lesson a notebook is, from the notebook itself: metadata, else imported checks, else title."""
    workbook = notebook.metadata.get(METADATA_KEY)
    if isinstance(workbook, dict) and isinstance(workbook.get("lesson"), str):
        edition = workbook.get("edition") if isinstance(workbook.get("edition"), str) else None
        return Identity(workbook["lesson"][:2], edition)
    code = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "code")
    imported = set(re.findall(r"helpers\.checks\.lesson(\d\d)", code))
    markdown = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    edition = SOLUTION if SOLUTION_LABEL_START in markdown else None
    if len(imported) == 1:
        return Identity(imported.pop(), edition)
    title = _title(notebook)
    by_title = [lesson.number for lesson in lessons.values() if lesson.title == title]
    return Identity(by_title[0] if len(by_title) == 1 else None, edition)


# --- running one notebook ---------------------------------------------------------------------------


# What a notebook's kernel gets of the workbook: a fresh copy, so nothing it changes on disk outlasts
# it, and `helpers.settings.REPO_ROOT` there is a folder without the instructor's .env.
WORKBOOK_COPY = ("helpers", "workbook_base", "recordings", "requirements.txt")


def base_environment() -> dict[str, str]:
    """What every student's kernel runs with: replay only, no key (not even the name), .env never read,
    none of the grader's secrets."""
    passed_through = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    return with_test_environment(passed_through, ANTHROPIC_API_KEY=None, PYTHONNOUSERSITE="1", **{IGNORE_DOTENV: "1"})


@dataclass(frozen=True)
class Scratch:
    """One notebook's own folders: a copy of the workbook, a home, and the folder its code runs in."""

    root: Path

    @property
    def workbook(self) -> Path:
        return self.root / "workbook"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def work(self) -> Path:
        return self.root / "work"

    def prepare(self) -> None:
        ignored = shutil.ignore_patterns("__pycache__", "improvised", "*.lock", "*.tmp")
        for name in WORKBOOK_COPY:
            source = REPO_ROOT / name
            if source.is_dir():
                shutil.copytree(source, self.workbook / name, ignore=ignored)
            else:
                self.workbook.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, self.workbook / name)
        self.home.mkdir()
        self.work.mkdir()

    def environment(self, base: dict[str, str], matplotlib_cache: Path) -> dict[str, str]:
        return {
            **base,
            "HOME": str(self.home),  # no dotfiles of the instructor's
            "MPLCONFIGDIR": str(matplotlib_cache),  # one font cache for every notebook graded
            "PYTHONPATH": str(self.workbook),  # its own copy of helpers, ahead of the installed one
        }


def kernel_manager() -> AsyncKernelManager:
    """A manager for the Python kernel of this very environment, whatever kernels the user has installed
    (a `python3` kernelspec of Anaconda's in ~/.local would otherwise win)."""
    return AsyncKernelManager(kernel_name="python3", kernel_spec_manager=KernelSpecManager(kernel_dirs=[]))


def _verdict_in(outputs: list[Any], lesson: Lesson, exercise: Exercise) -> Verdict | None:
    """The one verdict a check cell published; None when there is none or more than one."""
    found = [
        Verdict.from_json(output["data"][VERDICT_MIME])
        for output in outputs
        if output.get("output_type") == "display_data" and VERDICT_MIME in output.get("data", {})
    ]
    if len(found) != 1 or found[0] is None:
        return None
    verdict = found[0]
    return verdict if (verdict.lesson, verdict.exercise) == (lesson.number, exercise.number) else None


def _error_in(outputs: list[Any]) -> str | None:
    for output in outputs:
        if output.get("output_type") == "error":
            value = str(output.get("evalue", "")).strip().splitlines()
            return f"{output.get('ename', 'an error')}" + (f": {value[0][:120]}" if value else "")
    return None


def _failed(lesson: Lesson, exercise: Exercise, hint: str) -> Verdict:
    return Verdict(lesson.number, exercise.number, exercise.title, False, hint)


class KernelWouldNotStopError(Exception):
    """A cell ran out of time and the kernel did not answer after the interrupt: nothing more can run."""


TIMEOUT_NAME = "WorkbookGraderTimeout"  # the error nbclient reports for a cell that ran out of time
SETTLE_SECONDS = 10  # how long an interrupted kernel gets to become idle again


class Runner:
    """One notebook's kernel, running cells one at a time, each within a budget."""

    def __init__(self, notebook: nbformat.NotebookNode, scratch: Scratch) -> None:
        self.timed_out: set[int] = set()
        self.budgets: dict[int, float] = {}
        self.manager = kernel_manager()
        self.client = NotebookClient(
            notebook,
            km=self.manager,
            allow_errors=True,
            interrupt_on_timeout=True,
            # On a timeout, stop waiting at once (the kernel is interrupted), rather than wait again.
            error_on_timeout={"ename": TIMEOUT_NAME, "evalue": "the cell ran out of time", "traceback": []},
            timeout_func=lambda cell: max(1, math.ceil(self.budgets[id(cell)])),
            on_cell_executed=self._note_timeout,
            record_timing=False,
            shutdown_kernel="immediate",
            resources={"metadata": {"path": str(scratch.work)}},
            log=QUIET,
        )

    def _note_timeout(self, cell: nbformat.NotebookNode, cell_index: int, execute_reply: dict[str, Any]) -> None:
        if execute_reply.get("content", {}).get("ename") == TIMEOUT_NAME:
            self.timed_out.add(id(cell))

    def run(self, index: int, cell: nbformat.NotebookNode, budget: float) -> bool:
        """Run one cell; True when it finished within its budget."""
        self.budgets[id(cell)] = budget
        self.client.execute_cell(cell, index)
        return id(cell) not in self.timed_out

    def settles(self, index: int) -> bool:
        """After an interrupt: whether the kernel answers again (a cell that swallows the interrupt never does)."""
        return self.run(index, nbformat.v4.new_code_cell("pass"), SETTLE_SECONDS)


def run_submission(
    notebook: nbformat.NotebookNode, lesson: Lesson, limits: TimeLimits, base: dict[str, str], matplotlib_cache: Path
) -> tuple[str, list[Verdict], Stop | None]:
    """Run a student's code cells, then the lesson's checks, in a fresh kernel: (note, verdicts, where the
    student's code stopped, if it did)."""
    code_cells = [nbformat.v4.new_code_cell(cell.source) for cell in notebook.cells if cell.cell_type == "code"]
    check_cells = {n: nbformat.v4.new_code_cell(code) for n, code in lesson.check_code.items()}
    runnable = nbformat.v4.new_notebook(cells=[*code_cells, *check_cells.values()])
    notes: list[str] = []
    stopped: Stop | None = None
    verdicts: dict[int, Verdict] = {}
    missing = "not checked: the notebook stopped before its checks could run"
    with tempfile.TemporaryDirectory(prefix="grading-", ignore_cleanup_errors=True) as folder:
        scratch = Scratch(Path(folder))
        scratch.prepare()
        runner = Runner(runnable, scratch)
        deadline = time.monotonic() + limits.notebook
        try:
            # The kernel's own start-up warnings would fill the grader's output: its stderr is dropped.
            environment = scratch.environment(base, matplotlib_cache)
            with runner.client.setup_kernel(env=environment, stderr=subprocess.DEVNULL, cleanup_kc=True):
                for index, cell in enumerate(code_cells):
                    if not runner.run(index, cell, deadline - time.monotonic()):
                        notes.append(f"ran past its {limits.notebook:g} s limit in code cell {index + 1}")
                        stopped = stopped or Stop(index + 1, cell.source, f"ran past its {limits.notebook:g} s limit")
                        if not runner.settles(index):
                            missing = "not checked: the notebook's code would not stop when interrupted"
                            raise KernelWouldNotStopError
                        break
                    error = _error_in(cell.outputs)
                    if error and not any(note.startswith("code cell") for note in notes):
                        notes.append(f"code cell {index + 1} raised {error}")
                        stopped = Stop(index + 1, cell.source, f"raised {error}")
                for offset, (number, cell) in enumerate(check_cells.items()):
                    exercise = next(exercise for exercise in lesson.exercises if exercise.number == number)
                    if not runner.run(len(code_cells) + offset, cell, limits.check):
                        hint = f"its check ran past {limits.check:g} s (a loop that never ends?)"
                        verdicts[number] = _failed(lesson, exercise, hint)
                        if not runner.settles(len(code_cells) + offset):
                            missing = "not checked: an earlier check's code would not stop when interrupted"
                            raise KernelWouldNotStopError
                        continue
                    verdict = _verdict_in(cell.outputs, lesson, exercise)
                    error = _error_in(cell.outputs)
                    verdicts[number] = verdict or _failed(
                        lesson, exercise, f"its check could not run ({error or 'not one verdict'})"
                    )
        except KernelWouldNotStopError:
            pass
        except DeadKernelError:
            notes.append("the kernel died (did the notebook call exit(), or run out of memory?)")
        except Exception as err:  # a kernel that would not start, a broken connection: say so, grade the rest
            notes.append(f"could not be run: {type(err).__name__}: {err}")
    verdict_list = [verdicts.get(e.number) or _failed(lesson, e, missing) for e in lesson.exercises]
    return "; ".join(notes), verdict_list, stopped


# --- grading a folder -------------------------------------------------------------------------------


def find_notebooks(folder: Path) -> list[Path]:
    """Every notebook under `folder`, in order, without JupyterLab's checkpoints or hidden folders."""
    return sorted(
        path
        for path in folder.rglob("*.ipynb")
        if not any(part.startswith(".") for part in path.relative_to(folder).parts)
    )


@dataclass(frozen=True)
class GradingRun:
    """What every notebook of one grading run shares."""

    lessons: dict[str, Lesson]
    expected: str | None
    limits: TimeLimits
    environment: dict[str, str]
    matplotlib_cache: Path


def grade_one(path: Path, folder: Path, run: GradingRun) -> Row:
    """One notebook's row; whatever the notebook holds, a row that says what happened."""
    row = Row(path.relative_to(folder).as_posix())
    try:
        return _grade(path, row, run)
    except Exception as err:  # a notebook shaped in a way nothing above foresaw: say so, grade the rest
        row.note = f"not graded: the grader could not handle it ({type(err).__name__}: {err})"
        row.graded, row.verdicts = False, []
        return row


def _grade(path: Path, row: Row, run: GradingRun) -> Row:
    lessons, expected = run.lessons, run.expected
    try:
        notebook = nbformat.read(path, as_version=4)
        if not isinstance(notebook.get("cells"), list):
            raise ValueError("it has no list of cells")
    except Exception as err:  # not JSON, not a notebook, unreadable: say which, go on
        reason = str(err).strip().splitlines()[0][:120] if str(err).strip() else type(err).__name__
        row.note = f"not graded: not a notebook that can be read ({reason})"
        return row
    identity = identify(notebook, lessons)
    if identity.lesson is None or identity.lesson not in lessons:
        row.note = "not graded: cannot tell which lesson this is (no workbook metadata, no checks, no lesson title)"
        return row
    row.lesson = lessons[identity.lesson]
    if expected is not None and identity.lesson != expected:
        row.note = f"not graded: this is lesson {row.lesson.title}, not lesson {expected}"
        return row
    if identity.edition == SOLUTION:
        row.note = "not graded: this is the instructor edition, with the worked solutions"
        return row
    started = time.monotonic()
    row.note, row.verdicts, row.stopped = run_submission(
        notebook, row.lesson, run.limits, run.environment, run.matplotlib_cache
    )
    row.seconds = time.monotonic() - started
    row.graded = True
    return row


def grade_folder(
    folder: Path,
    *,
    expected: str | None = None,
    limits: TimeLimits = TimeLimits(),
    jobs: int = 1,
    on_row: Callable[[Row], None] = lambda row: None,
) -> list[Row]:
    paths = find_notebooks(folder)
    shown = threading.Lock()
    with tempfile.TemporaryDirectory(prefix="grading-matplotlib-", ignore_cleanup_errors=True) as cache:
        run = GradingRun(shipped_lessons(), expected, limits, base_environment(), Path(cache))

        def grade(path: Path) -> Row:
            row = grade_one(path, folder, run)
            with shown:
                on_row(row)
            return row

        pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        try:
            return list(pool.map(grade, paths))
        finally:
            pool.shutdown(cancel_futures=True)  # on Ctrl-C, no notebook still waiting starts


def kernel_problem() -> str | None:
    """None when a kernel starts and imports the helpers as a student's will; else what went wrong."""
    with tempfile.TemporaryDirectory(prefix="grading-check-", ignore_cleanup_errors=True) as folder:
        scratch = Scratch(Path(folder))
        scratch.prepare()
        probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import helpers")])
        runner = Runner(probe, scratch)
        log = Path(folder) / "kernel.log"
        try:
            with (
                log.open("w") as stderr,
                runner.client.setup_kernel(
                    env=scratch.environment(base_environment(), Path(folder)), stderr=stderr, cleanup_kc=True
                ),
            ):
                runner.run(0, probe.cells[0], CHECK_LIMIT)
        except Exception as err:
            tail = " ".join(log.read_text(errors="replace").strip().splitlines()[-3:]) if log.exists() else ""
            return f"{type(err).__name__}: {err} {tail}".strip()
        return _error_in(probe.cells[0].outputs)


def key_warning() -> str | None:
    """A line for the instructor when a key is within reach of this machine's files or environment."""
    places = [name for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN") if os.environ.get(name)]
    dotenv = REPO_ROOT / ".env"
    if dotenv.exists() and re.search(r"^\s*ANTHROPIC_(API_KEY|AUTH_TOKEN)\s*=\s*\S", dotenv.read_text(), re.MULTILINE):
        places.append(str(dotenv))
    if not places:
        return None
    return (
        f"Note: a key is on this machine ({', '.join(places)}). Students' kernels never get it in their "
        "environment, but code written to do harm could read files: grade work you do not trust in a container."
    )


def _notebooks(count: int) -> str:
    return f"{count} notebook{'s' if count != 1 else ''}"


def summary_lines(rows: list[Row]) -> list[str]:
    """One line per lesson graded, and one for the notebooks that were not."""
    lines = []
    graded = [row for row in rows if row.graded and row.lesson is not None]
    for number in sorted({row.lesson.number for row in graded if row.lesson}):
        these = [row for row in graded if row.lesson and row.lesson.number == number]
        lesson = these[0].lesson
        assert lesson is not None
        counts = ", ".join(
            f"{exercise.number} · {exercise.title} {sum(row.verdicts[i].passed for row in these)}/{len(these)}"
            for i, exercise in enumerate(lesson.exercises)
        )
        trouble = sum(bool(row.note) for row in these)
        extra = f"; {trouble} with a note" if trouble else ""
        complete = sum(row.passed == len(lesson.exercises) for row in these)
        lines.append(
            f"lesson {lesson.title}: {_notebooks(len(these))}, {complete} with every exercise passing; {counts}{extra}"
        )
    skipped = [row for row in rows if not row.graded]
    if skipped:
        lines.append(f"not graded: {_notebooks(len(skipped))} (each row says why)")
    return lines


def main(argv: list[str] | None = None) -> None:
    quiet_library_logs()
    parser = argparse.ArgumentParser(
        prog="python3 workbook.py grade", description="Grade students' notebooks offline, with no key."
    )
    parser.add_argument("folder", type=Path, help="the folder of notebooks to grade (subfolders too)")
    parser.add_argument("--out", type=Path, default=Path("."), help="where to write grades.csv and grades.html")
    parser.add_argument("--lesson", help="the lesson being graded (e.g. 03): notebooks of other lessons are flagged")
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT, help="seconds for each whole notebook")
    parser.add_argument("--check-limit", type=float, default=CHECK_LIMIT, help="seconds for each exercise's check")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded at once (each in its own kernel)")
    parser.add_argument(
        "--feedback", action="store_true", help="also write a page per submission (feedback/) and feedback.csv"
    )
    args = parser.parse_args(argv)
    if min(args.time_limit, args.check_limit) <= 0 or args.jobs < 1:
        sys.exit("--time-limit and --check-limit must be more than 0 seconds, and --jobs at least 1.")
    if args.out.exists() and not args.out.is_dir():
        sys.exit(f"--out {args.out} is a file: give a folder for grades.csv and grades.html.")
    if not args.folder.is_dir():
        sys.exit(f"{args.folder} is not a folder: give the folder that holds the students' notebooks.")
    if args.lesson is not None and not re.fullmatch(r"\d\d", args.lesson):
        sys.exit(f"--lesson {args.lesson!r}: give the lesson's two-digit number, such as 03.")
    if not find_notebooks(args.folder):
        sys.exit(f"No notebooks (.ipynb) under {args.folder}.")
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        sys.exit(f"Cannot write to --out {args.out}: {err.strerror}.")
    problem = kernel_problem()
    if problem:
        sys.exit(f"A Python kernel would not start for grading ({problem}): rerun `python3 workbook.py lab` to repair.")
    warning = key_warning()
    if warning:
        print(warning, flush=True)
    total = len(find_notebooks(args.folder))
    done = 0

    def show(row: Row) -> None:
        nonlocal done
        done += 1
        if row.graded and row.lesson:
            line = f"{row.passed} of {len(row.lesson.exercises)} pass" + (f" ({row.note})" if row.note else "")
        else:
            line = row.note
        print(f"[{done}/{total}] {row.notebook}: {line}", flush=True)

    limits = TimeLimits(args.time_limit, args.check_limit)
    try:
        rows = grade_folder(args.folder, expected=args.lesson, limits=limits, jobs=args.jobs, on_row=show)
    except KeyboardInterrupt:
        sys.exit("Stopped: nothing was written.")
    try:
        csv_path, html_path = write_csv(rows, args.out / "grades.csv"), write_html(rows, args.out / "grades.html")
    except OSError as err:
        sys.exit(f"Could not write the grades in {args.out} ({err.strerror}: is grades.csv open elsewhere?).")
    for line in summary_lines(rows):
        print(line)
    print(f"Wrote {csv_path} and {html_path}.")
    if args.feedback:
        from .feedback import write_feedback

        try:
            pages, table = write_feedback(rows, args.out)
        except OSError as err:
            sys.exit(f"Could not write the feedback in {args.out} ({err.strerror}).")
        print(f"Wrote {len(pages)} feedback pages in {args.out / 'feedback'} and {table}.")


if __name__ == "__main__":
    main()
