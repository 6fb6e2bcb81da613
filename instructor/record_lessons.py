"""Re-record the lessons' and scripts' replies, and refresh the notebooks' stored outputs: safe to run and re-run.

    .venv/bin/python -m instructor.record_lessons              # every lesson and script; needs ANTHROPIC_API_KEY
    .venv/bin/python -m instructor.record_lessons 01 hello     # only those whose name starts with 01 or hello
    .venv/bin/python -m instructor.record_lessons --standin    # the hand-written samples, offline

With a key (in .env or the shell, and ANTHROPIC_BASE_URL for another Anthropic-compatible server),
each lesson's solution edition runs in record mode, so every request it makes is sent and saved, and
each companion script runs the same way, always with the workbook's default model. Each one records
into a temporary folder of its own and is then replayed from it (both editions of a lesson, to store
their outputs; a script, to see it run offline). Only when all of that worked are
recordings/<name>.json and, for a lesson, its two notebooks replaced: together, by renames that
Ctrl-C does not split. A lesson or script that fails is one line (where, and the error's last line)
and keeps its old files; the others go on, and the exit status is 1. A recording that comes back the
same as the one shipped (timings and request ids aside) is left as it is. The summary at the end
says, for each one, how many requests it made, how many replies changed, their tokens and cost.

First it probes the server (helpers/server_check.py) and says what the lessons will lose there. Each
reply stores where it came from (helpers/provenance.py), and the summary says so: "recorded from the
API" is said only of Anthropic's own. A lesson whose replies lost its point (no tool call, flat usage,
a stream answered as JSON) gets a WARNING line and the result `degraded`.

Each run happens in a process of its own, which this one ends on Ctrl-C before it stops.

--standin records from the stand-in server (tools/standin/) instead: that is how the sample recordings
this repository ships were made, and they are labelled `sample`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tools import build_notebooks
from workbook_base.editions import SOLUTION
from workbook_base.environment import TEST_ENVIRONMENT
from workbook_base.processes import stop_process

if TYPE_CHECKING:  # the parent's imports are made where used, so a lesson's own process starts quickly
    import nbformat
    from anthropic.types import Usage
    from nbclient.exceptions import CellExecutionError

ROOT = build_notebooks.ROOT
RECORDINGS = ROOT / "recordings"

# Each companion script, run with its default arguments, records into recordings/<name>.json.
SCRIPTS: dict[str, list[str]] = {
    "hello_api": ["scripts/hello_api.py"],
    "conversation": ["scripts/conversation.py"],
    "retry_pattern": ["scripts/retry_pattern.py"],
    "agent": ["scripts/agent.py"],
    "batch_run": ["scripts/batch_run.py"],
    "batch_run_batch": ["scripts/batch_run.py", "--batch"],  # the --batch way records apart
}
RUN_TIMEOUT = 1800  # seconds for one run of a lesson (recording, or replaying both editions) or of a script
STOP_TIMEOUT = 10  # seconds a run has to end after Ctrl-C before it is killed
MAX_ERROR = 240  # the most of an error's last line a failure line quotes
FAILURE_FILE = "failure.txt"  # where a lesson's process leaves its one line

Json = dict[str, Any]
Environment = dict[str, str]


def base_environment() -> Environment:
    """What the tests run with (replay, no key, the default model): the base of every run here."""
    return dict(TEST_ENVIRONMENT)


class RunError(Exception):
    """A lesson or script did not run to its end; the message is one line that says where and why."""


def one_line(text: str, limit: int = MAX_ERROR) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


# --- one job: record it, replay it, then replace its files ---------------------------------------


@dataclass
class Job:
    """One lesson or script to re-record.

    record(environment) runs it in record mode (the environment names the temporary recordings
    folder); replay(environment) runs it again from that folder in replay mode and returns the other
    files to replace with the recording (a lesson's two notebooks, as bytes). Either raises RunError.
    """

    name: str
    record: Callable[[Environment], None]
    replay: Callable[[Environment], dict[Path, bytes]]


@dataclass
class Outcome:
    name: str
    before: list[Json]  # the interactions shipped until now
    after: list[Json]  # what this run recorded (also when it failed: those requests were sent, and billed)
    failure: str | None = None
    replaced: list[Path] = field(default_factory=list)

    @property
    def result(self) -> str:
        if self.failure is not None:
            return "FAILED"
        if self.replaced:
            return "degraded" if self.lost_points() else "updated"
        return "unchanged"

    def lost_points(self) -> list[str]:
        """What this run's replies lost of the lesson's point (see lost_points)."""
        return lost_points(self.after, self.before)

    def changed(self) -> int:
        """How many requests are new or got another reply (timings and request ids aside: they always differ)."""
        old = {_request(item): content(item["responses"]) for item in self.before}
        return sum(1 for item in self.after if old.get(_request(item)) != content(item["responses"]))

    def usage(self) -> tuple[int, int, float | None]:
        """Input tokens (cache writes and reads included), output tokens, and dollars of every reply
        recorded; dollars is None when a reply's model has no price in helpers/models.py."""
        from helpers.costs import cost_usd

        tokens_in = tokens_out = 0
        dollars: float | None = 0.0
        for item in self.after:
            for usage, model, batch in billed(item):
                tokens_in += usage.input_tokens + (usage.cache_creation_input_tokens or 0)
                tokens_in += usage.cache_read_input_tokens or 0
                tokens_out += usage.output_tokens
                cost = cost_usd(usage, model, batch=batch)
                dollars = None if cost is None or dollars is None else dollars + cost
        return tokens_in, tokens_out, dollars


def _request(item: Json) -> str:
    return json.dumps(item["request"], sort_keys=True)


# What a reply's headers say that differs on every run however alike the replies: its request id,
# when it was sent, and where the rate limits stood (what remained, and when it is full again).
VOLATILE_HEADERS = ("request-id", "date")
VOLATILE_RATE_LIMIT_PARTS = ("-remaining", "-reset")
# A Message Batch's times (and where its results are: a stand-in's port differs on every run).
VOLATILE_BATCH_FIELDS = ("created_at", "expires_at", "ended_at", "cancel_initiated_at", "archived_at")


def volatile_header(name: str) -> bool:
    from helpers.wire import RATE_LIMIT_PREFIX

    rate_limit = name.startswith(RATE_LIMIT_PREFIX) and name.endswith(VOLATILE_RATE_LIMIT_PARTS)
    return name in VOLATILE_HEADERS or rate_limit


def _steady_body(body: Json) -> Json:
    """A JSON body without what differs on every run: an error's request id, a batch's times and results host."""
    body = {key: value for key, value in body.items() if key != "request_id"}  # an error's body names its request
    if body.get("type") == "message_batch":
        body = {key: value for key, value in body.items() if key not in VOLATILE_BATCH_FIELDS}
        if isinstance(body.get("results_url"), str):
            body["results_url"] = urlsplit(body["results_url"]).path
    if isinstance(body.get("data"), list):  # a page of batches
        body["data"] = [_steady_body(item) if isinstance(item, dict) else item for item in body["data"]]
    return body


def content(responses: list[Json]) -> list[Json]:
    """Responses without what differs on every run however alike the replies: timings, request ids,
    dates, where the rate limits stood (see VOLATILE_HEADERS), a batch's times and results host."""
    stripped = []
    for response in responses:
        response = {key: value for key, value in response.items() if key != "elapsed"}
        if "headers" in response:
            response["headers"] = {k: v for k, v in response["headers"].items() if not volatile_header(k)}
        if isinstance(response.get("body"), dict):
            response["body"] = _steady_body(response["body"])
        if "events" in response:
            response["events"] = [{k: v for k, v in event.items() if k != "at"} for event in response["events"]]
        stripped.append(response)
    return stripped


def same_replies(before: list[Json], after: list[Json]) -> bool:
    """Whether two recordings hold the same requests and replies, labelled the same (see `content`), dates aside."""

    def essence(items: list[Json]) -> list[Any]:
        return [
            (_request(item), content(item["responses"]), item.get("provenance"), item.get("model")) for item in items
        ]

    return essence(before) == essence(after)


def billed(item: Json) -> Iterator[tuple[Usage, str, bool]]:
    """The usage of each reply an interaction was billed for, with its model and whether at the batch
    price: every Message it got; for a Message Batch's results, each succeeded request's, once however
    often the results were read."""
    if item["request"]["path"].rstrip("/").endswith("/results"):
        from anthropic.types.messages import MessageBatchIndividualResponse

        read = next((response for response in item["responses"] if response.get("status") == 200), {})
        # JSON Lines are stored as text; a single line, a JSON object, is stored as a body.
        text = read["text"] if "text" in read else json.dumps(read["body"]) if "body" in read else ""
        for line in text.splitlines():
            entry = MessageBatchIndividualResponse.model_validate_json(line) if line.strip() else None
            if entry is not None and entry.result.type == "succeeded":
                yield entry.result.message.usage, entry.result.message.model, True
        return
    for response in item["responses"]:
        usage = usage_of(response)
        if usage is not None:
            yield usage, item.get("model") or "", False


def usage_of(response: Json) -> Usage | None:
    """The usage of one recorded reply, or None for a failure."""
    from helpers.recordings import recorded_message

    message = recorded_message(response)
    return message.usage if message is not None else None


def called_a_tool(interactions: list[Json]) -> bool:
    from helpers.recordings import is_success, recorded_message

    messages = (recorded_message(r) for item in interactions for r in item["responses"] if is_success(r))
    return any(block.type == "tool_use" for message in messages if message is not None for block in message.content)


def lost_points(interactions: list[Json], before: list[Json] | None = None) -> list[str]:
    """One line for each way the replies recorded lost what the requests were there to show: tools
    offered and never called (in a lesson whose shipped replies called one, or a new one), input tokens
    that do not grow as the conversation does, a stream request answered with plain JSON. A server
    that lacks a feature still answers 200, so only the replies tell."""
    from helpers.recordings import is_success, recorded_message

    offered_tools = called_tool = False
    sent_tokens: list[tuple[list[Any], int]] = []  # the messages sent, and the input tokens reported for them
    streams_as_json = 0
    for item in interactions:
        body = item["request"].get("body")
        if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            continue
        offered_tools = offered_tools or bool(body.get("tools"))
        for response in item["responses"]:
            if not is_success(response):
                continue
            if body.get("stream") and "events" not in response:
                streams_as_json += 1
            message = recorded_message(response)
            if message is None:
                continue
            called_tool = called_tool or any(block.type == "tool_use" for block in message.content)
            usage = message.usage
            sent = usage.input_tokens + (usage.cache_read_input_tokens or 0) + (usage.cache_creation_input_tokens or 0)
            sent_tokens.append((body["messages"], sent))
    lost = []
    a_tool_lesson = not before or called_a_tool(before)  # a lesson may offer a tool the model rightly declines
    if offered_tools and not called_tool and a_tool_lesson:
        lost.append("tools were offered and no reply called one, so the tool calls the lesson shows never happened")
    # A conversation that went on (one request's messages begin with another's) sends more tokens.
    grown = [
        longer_tokens > tokens
        for messages, tokens in sent_tokens
        for longer, longer_tokens in sent_tokens
        if len(longer) > len(messages) and longer[: len(messages)] == messages
    ]
    if grown and not any(grown):
        lost.append("the input tokens never grew as the conversation did (the server reports flat usage)")
    if streams_as_json:
        lost.append(f"{streams_as_json} stream request(s) answered with plain JSON, so no events were streamed")
    return lost


def sources_in(outcomes: list[Outcome]) -> list[Json]:
    """Where the replies recorded in this run came from (helpers/provenance.py), each server once."""
    found: dict[str, Json] = {}
    for outcome in outcomes:
        for item in outcome.after:
            if isinstance(item.get("source"), dict):
                found.setdefault(json.dumps(item["source"], sort_keys=True), item["source"])
    return [found[key] for key in sorted(found)]


def interactions_in(path: Path) -> list[Json]:
    """What a recording file holds; nothing when it is missing or damaged."""
    from helpers.errors import CorruptRecordingError
    from helpers.recordings import RecordingFile

    try:
        return RecordingFile(path).data["interactions"]
    except CorruptRecordingError:
        return []


def rerecord(job: Job, folder: Path, record_environment: Environment, replay_environment: Environment) -> Outcome:
    """Record `job` into `folder` (empty, its own), replay it from there, and only if both worked replace
    the shipped recording and the job's other files. Ctrl-C (KeyboardInterrupt) passes through."""
    from helpers.errors import CorruptRecordingError
    from helpers.recordings import RecordingFile

    shipped = RECORDINGS / f"{job.name}.json"
    recorded = folder / f"{job.name}.json"
    outcome = Outcome(job.name, interactions_in(shipped), [])
    here = {"WORKBOOK_RECORDINGS_DIR": str(folder)}
    try:
        try:
            job.record({**record_environment, **here})
        finally:
            outcome.after = interactions_in(recorded)
        if not recorded.exists():
            raise RunError("it sent no request, so there is nothing to record")
        try:
            RecordingFile(recorded)
        except CorruptRecordingError as error:
            raise RunError(f"the new recording cannot be read: {error}") from None
        others = job.replay({**replay_environment, **here})
    except RunError as failure:
        outcome.failure = one_line(str(failure))
        return outcome
    except Exception as error:  # any other failure of the run: one line too
        outcome.failure = one_line(f"{type(error).__name__}: {error}")
        return outcome
    if shipped.exists() and same_replies(outcome.before, outcome.after):
        return outcome  # the same replies again: the shipped files stay as they are, byte for byte
    files = {shipped: recorded.read_bytes(), **others}
    replace_together(files)
    outcome.replaced = list(files)
    return outcome


# --- replacing files: old or new, never half ------------------------------------------------------


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Ctrl-C inside the block takes effect when the block is done."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _temporary_prefix(path: Path) -> str:
    return f".{path.name}."


def replace_together(files: dict[Path, bytes]) -> None:
    """Give each path its new content: written in full to a temporary file beside it first, then all renamed
    over their targets in one go that Ctrl-C does not split. Each file is always either old or new."""
    temporary: dict[Path, Path] = {}
    try:
        for path, data in files.items():
            for stale in path.parent.glob(f"{_temporary_prefix(path)}*.tmp"):  # left by a run that was killed
                stale.unlink(missing_ok=True)
            handle, name = tempfile.mkstemp(dir=path.parent, prefix=_temporary_prefix(path), suffix=".tmp")
            temporary[path] = Path(name)
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            os.chmod(name, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        with interrupts_deferred():
            for path, name in temporary.items():
                os.replace(name, path)
    finally:
        for name in temporary.values():
            name.unlink(missing_ok=True)


# --- running a lesson or a script in a process of its own --------------------------------------------


def run_process(command: list[str], environment: Environment, what: str) -> subprocess.CompletedProcess[str]:
    """Run `command` from the repository to its end. On Ctrl-C, end it too (it may hold a kernel), then
    let the KeyboardInterrupt go on; past RUN_TIMEOUT, end it and raise RunError."""
    process = subprocess.Popen(
        [sys.executable, *command],
        cwd=ROOT,
        env={**os.environ, "MPLBACKEND": "Agg", **environment},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=RUN_TIMEOUT)
    except subprocess.TimeoutExpired:
        stop(process)
        raise RunError(f"{what}: no end after {RUN_TIMEOUT} s") from None
    except BaseException:  # Ctrl-C
        stop(process)
        raise
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def stop(process: subprocess.Popen[str]) -> None:
    """End a run: politely (it shuts its kernel down), then for good."""
    stop_process(process, grace_s=STOP_TIMEOUT)


def last_line(completed: subprocess.CompletedProcess[str]) -> str:
    said = [line for line in (completed.stderr or completed.stdout or "").splitlines() if line.strip()]
    return said[-1] if said else "(it printed nothing)"


def lesson_job(lesson: build_notebooks.Lesson) -> Job:
    """A lesson, recorded and replayed by `python -m instructor.record_lessons --run` (see run_lesson)."""

    def run(phase: str, environment: Environment) -> Path:
        into = Path(environment["WORKBOOK_RECORDINGS_DIR"]) / f"{phase}-outputs"
        into.mkdir()
        command = ["-m", "instructor.record_lessons", "--run", str(lesson.source), phase, str(into)]
        completed = run_process(command, environment, f"{lesson.name} ({phase})")
        if completed.returncode != 0:
            failure = into / FAILURE_FILE
            raise RunError(failure.read_text() if failure.exists() else f"{phase}: {last_line(completed)}")
        return into

    def record(environment: Environment) -> None:
        run("record", environment)

    def replay(environment: Environment) -> dict[Path, bytes]:
        into = run("replay", environment)
        return {
            folder / lesson.filename: (into / folder.name / lesson.filename).read_bytes()
            for folder in build_notebooks.EDITIONS.values()
        }

    return Job(lesson.name, record, replay)


def script_job(name: str, command: list[str]) -> Job:
    def run(environment: Environment, what: str) -> None:
        completed = run_process(command, environment, f"{command[0]} ({what})")
        if completed.returncode != 0:
            raise RunError(f"{command[0]} ({what}) exited with {completed.returncode}: {last_line(completed)}")

    def record(environment: Environment) -> None:
        run(environment, "recording")

    def replay(environment: Environment) -> dict[Path, bytes]:
        run(environment, "replaying the new recording")
        return {}

    return Job(name, record, replay)


def all_jobs(only: list[str]) -> list[Job]:
    jobs = [lesson_job(lesson) for lesson in build_notebooks.all_lessons()]
    jobs += [script_job(name, command) for name, command in SCRIPTS.items()]
    return [job for job in jobs if not only or any(job.name.startswith(prefix) for prefix in only)]


# --- inside a lesson's process -------------------------------------------------------------------


def failed_cell(notebook: nbformat.NotebookNode, error: CellExecutionError) -> int | None:
    """The number (from 1, as the notebook lists its cells) of the cell `error` came from."""
    message = str(error)
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type == "code" and message.startswith(
            f"An error occurred while executing the following cell:\n------------------\n{cell.source}\n---"
        ):
            return number
    return None


def run_notebook(notebook: nbformat.NotebookNode, folder: Path, where: str) -> nbformat.NotebookNode:
    """Run `notebook` as the build does, in this process's environment; a failure becomes RunError naming the cell."""
    from nbclient.exceptions import CellExecutionError

    try:
        return build_notebooks.execute(notebook, folder, dict(os.environ))
    except CellExecutionError as error:
        number = failed_cell(notebook, error)
        cell = f"cell {number} of {where}" if number else where
        raise RunError(f"{cell}: {error.ename}: {error.evalue}") from None
    except Exception as error:  # a kernel that died or would not start, a cell that timed out
        raise RunError(f"{where}: {type(error).__name__}: {error}") from None


def run_lesson(source: Path, phase: str, into: Path) -> int:
    """One lesson, in the environment this process was given: "record" runs its solution edition;
    "replay" runs both editions and leaves their notebooks, outputs stored, in `into`/<edition folder>/.
    A failure leaves its one line in `into`/failure.txt. A lesson outside source/ is built on its own."""
    # A kernel started with MPLBACKEND=Agg (set for the scripts' runs) would draw no plot into the
    # notebook; the lessons' stored outputs are those of Jupyter's own inline backend.
    os.environ.pop("MPLBACKEND", None)
    lessons = build_notebooks.all_lessons()
    sources = [lesson.source for lesson in lessons]
    lessons, index = (lessons, sources.index(source)) if source in sources else ([build_notebooks.Lesson(source)], 0)
    lesson = lessons[index]
    editions = {SOLUTION: build_notebooks.EDITIONS[SOLUTION]} if phase == "record" else build_notebooks.EDITIONS
    try:
        for edition, folder in editions.items():
            doing = "recording" if phase == "record" else "replaying the new recording"
            where = f"{folder.name}/{lesson.filename} ({doing})"
            executed = run_notebook(build_notebooks.build(lessons, index, edition), folder, where)
            if phase == "replay":
                (into / folder.name).mkdir(exist_ok=True)
                build_notebooks.write_notebook(executed, into / folder.name / lesson.filename)
    except RunError as failure:
        (into / FAILURE_FILE).write_text(one_line(str(failure)))
        return 1
    return 0


# --- the run ----------------------------------------------------------------------------------------


def dollars_text(dollars: float | None) -> str:
    return "unknown" if dollars is None else f"${dollars:.4f}"


def print_summary(outcomes: list[Outcome]) -> None:
    print()
    print(
        f"{'recording':<22}{'result':>10}{'requests':>10}{'changed':>9}{'input tok':>11}{'output tok':>11}{'cost':>11}"
    )
    costs = []
    for outcome in outcomes:
        tokens_in, tokens_out, dollars = outcome.usage()
        costs.append(dollars)
        changed = "-" if outcome.failure is not None else str(outcome.changed())
        print(
            f"{outcome.name:<22}{outcome.result:>10}{len(outcome.after):>10}{changed:>9}{tokens_in:>11}"
            f"{tokens_out:>11}{dollars_text(dollars):>11}"
        )
    known = [dollars for dollars in costs if dollars is not None]
    if None not in costs:
        total = dollars_text(sum(known))
    else:
        total = f"{dollars_text(sum(known))} + unknown" if known else "unknown"
    print(f"{'total':<73}{total:>11}")
    if None in costs:
        print("A cost is unknown where the model's price is not in helpers/models.py.")
    from helpers.provenance import from_anthropic_only, source_text

    sources = sources_in(outcomes)
    if sources:
        # Two sources may read the same in words (the stand-in serving two models): each is said once.
        print("Replies from: " + "; ".join(dict.fromkeys(source_text(source) for source in sources)) + ".")
        if not from_anthropic_only(sources):
            print(
                "These replies are not recorded from the Anthropic API; the banners and the files say where they "
                "came from."
            )
    for outcome in outcomes:
        if outcome.failure is None and outcome.lost_points():
            print(f"degraded {outcome.name}: {'; '.join(outcome.lost_points())}.")


def run(jobs: list[Job], record_environment: Environment) -> int:
    """Re-record every job, print the summary, and return the exit status: 0, 1 if any failed, 130 on Ctrl-C."""
    replay_environment = base_environment()
    outcomes: list[Outcome] = []
    status = 0
    job = None
    with tempfile.TemporaryDirectory(prefix="workbook-rerecord-") as scratch:
        try:
            for job in jobs:
                print(f"recording {job.name} ...", flush=True)
                folder = Path(scratch) / job.name
                folder.mkdir()
                outcome = rerecord(job, folder, record_environment, replay_environment)
                outcomes.append(outcome)
                if outcome.failure is not None:
                    print(f"FAILED {job.name}: {outcome.failure}", flush=True)
                    status = 1
                for lost in outcome.lost_points():
                    print(f"WARNING {job.name}: {lost}", flush=True)
        except KeyboardInterrupt:
            where = f" while recording {job.name}" if job else ""
            print(f"\ninterrupted{where}: its files, and those of the ones after it, are unchanged", flush=True)
            status = 130
    print_summary(outcomes)
    failed = [outcome.name for outcome in outcomes if outcome.failure is not None]
    if failed:
        print(f"Failed, and left as they were: {', '.join(failed)} (one line each above).")
    if any(outcome.replaced for outcome in outcomes):
        print(
            "Review with `git diff --stat recordings/` and the notebooks, run `python3 workbook.py test`, then "
            "commit; `git checkout -- recordings notebooks solutions` undoes it all."
        )
    return status


def say_what_will_be_lost(base_url: str, api_key: str) -> None:
    """Probe the server first (helpers/server_check.py): what works, and what each lesson will lose."""
    from dataclasses import replace

    from helpers.models import DEFAULT_MODEL
    from helpers.server_check import check_server
    from helpers.settings import read_settings

    settings = replace(read_settings(), base_url=base_url, api_key=api_key or None, model=DEFAULT_MODEL)
    lines = check_server(settings)
    print("\n".join(lines))
    if any(line.startswith(("Missing", "Could not")) for line in lines):
        print("Recording from this server will lose what the Missing lines above say; the summary flags each lesson.")
    print(flush=True)


def recording_environment(base_url: str, api_key: str) -> Environment:
    """A run in record mode: the tests' environment (so the default model and the same settings), with a key."""
    return {
        **base_environment(),
        "WORKBOOK_MODE": "record",
        "ANTHROPIC_API_KEY": api_key,
        "ANTHROPIC_BASE_URL": base_url,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="prefixes of the lessons or scripts to record (default: all)")
    parser.add_argument("--standin", action="store_true", help="record the hand-written samples, offline")
    parser.add_argument("--run", nargs=3, metavar=("SOURCE", "PHASE", "INTO"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:  # inside a lesson's own process
        source, phase, into = args.run
        return run_lesson(Path(source), phase, Path(into))

    jobs = all_jobs(args.only)
    if not jobs:
        parser.error(f"no lesson or script starts with {' or '.join(args.only)}")
    if args.standin:
        from tools.standin.http import StandinServer

        # Paced like a real model, so replayed streams in lecture mode look like streams, and replies
        # without streaming take as long as they would have streamed (their recorded `elapsed`).
        with StandinServer(pace=0.04, first_token_delay=0.6, json_latency=True) as server:
            say_what_will_be_lost(server.url, "standin")
            return run(jobs, recording_environment(server.url, "standin"))

    from helpers.models import DEFAULT_MODEL
    from helpers.settings import read_settings, setting

    settings = read_settings()
    if not settings.has_key:
        raise SystemExit(
            "Recording needs ANTHROPIC_API_KEY (in .env or your shell). For a local "
            "Anthropic-compatible server, set ANTHROPIC_BASE_URL too; any non-empty key works."
        )
    if setting("WORKBOOK_MODEL"):
        print(f"Recording with the default model {DEFAULT_MODEL}, which the tests replay; WORKBOOK_MODEL is ignored.")
    say_what_will_be_lost(settings.base_url, settings.api_key or "")
    return run(jobs, recording_environment(settings.base_url, settings.api_key or ""))


if __name__ == "__main__":
    raise SystemExit(main())
