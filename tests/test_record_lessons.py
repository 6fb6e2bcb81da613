"""instructor/record_lessons.py, the re-record command: safe to run and re-run.

Each lesson or script records into a folder of its own and replaces its shipped files only when it ran
to its end; a failure is one line and the others go on; Ctrl-C leaves every file old or new. These
tests drive the command with jobs that stand in for lessons (no kernel, no server), and two real
notebooks in a kernel: one whose cell fails, one that Ctrl-C interrupts. The whole command, end to
end, is tests/test_rerecord_end_to_end.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from helpers import MODEL
from helpers.checks import message_json
from helpers.recordings import RecordingFile
from instructor import record_lessons
from instructor.record_lessons import Job, Outcome, RunError
from tests.conftest import HANG_BOUND
from tools import build_notebooks

REQUEST = {"method": "POST", "path": "/v1/messages"}


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A recordings folder in place of recordings/, with one shipped recording for `first` and `second`."""
    folder = tmp_path / "recordings"
    folder.mkdir()
    monkeypatch.setattr(record_lessons, "RECORDINGS", folder)
    for name in ("first", "second"):
        save(folder, name, "the old reply")
    return folder


def body(question: str = "What is an API?") -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 100, "messages": [{"role": "user", "content": question}]}


def save(folder: Path, name: str, reply: str, *, model: str = MODEL, usage: dict[str, int] | None = None) -> None:
    response = {"status": 200, "headers": {}, "elapsed": 0.5, "body": message_json(reply, usage=usage, model=model)}
    RecordingFile(folder / f"{name}.json").save_interaction(
        {**REQUEST, "body": body()}, [response], provenance="recorded", model=model
    )


def folder_of(environment: dict[str, str]) -> Path:
    return Path(environment["WORKBOOK_RECORDINGS_DIR"])


def job(name: str, reply: str | None = "a new reply", *, fail: str | None = None, **options: Any) -> Job:
    """A job that records `reply` (or nothing), then fails with `fail` when given."""

    def record(environment: dict[str, str]) -> None:
        assert environment["WORKBOOK_MODE"] == "record"
        if reply is not None:
            save(folder_of(environment), name, reply, **options)
        if fail:
            raise RunError(fail)

    def replay(environment: dict[str, str]) -> dict[Path, bytes]:
        assert environment["WORKBOOK_MODE"] == "replay" and not environment["ANTHROPIC_API_KEY"]
        return {}

    return Job(name, record, replay)


def reply_in(folder: Path, name: str) -> str:
    data = json.loads((folder / f"{name}.json").read_text())
    content = data["interactions"][0]["responses"][0]["body"]["content"]
    return next(block["text"] for block in content if block["type"] == "text")  # after a thinking block, if any


RECORD_ENVIRONMENT = {"WORKBOOK_MODE": "record", "ANTHROPIC_API_KEY": "key"}


def test_a_failing_lesson_is_one_line_keeps_its_files_and_the_others_go_on(shipped, capsys):
    before = (shipped / "first.json").read_bytes()
    jobs = [job("first", fail="cell 14 of solutions/first.ipynb (recording): ValueError: no tool call"), job("second")]
    assert record_lessons.run(jobs, RECORD_ENVIRONMENT) == 1, "a failure makes the exit status non-zero"

    assert (shipped / "first.json").read_bytes() == before, "the failed lesson's recording was touched"
    assert reply_in(shipped, "second") == "a new reply", "the lesson after the failure was not recorded"
    out = capsys.readouterr().out
    failures = [line for line in out.splitlines() if "ValueError" in line]
    assert failures[0] == "FAILED first: cell 14 of solutions/first.ipynb (recording): ValueError: no tool call"
    assert "Traceback" not in out
    table = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith(("first", "second"))}
    assert table["first"][0] == "FAILED" and table["second"][0] == "updated", out


def test_any_error_of_a_run_is_one_line_too(shipped, capsys):
    def record(environment: dict[str, str]) -> None:
        raise RuntimeError("Kernel died before replying to kernel_info\nand a second line")

    outcome = record_lessons.rerecord(Job("first", record, lambda env: {}), shipped.parent / "new", {}, {})
    assert outcome.failure == "RuntimeError: Kernel died before replying to kernel_info and a second line"


def test_a_recording_that_does_not_replay_is_not_shipped(shipped, tmp_path):
    notebook = tmp_path / "first.ipynb"
    notebook.write_text("old outputs")

    def replay(environment: dict[str, str]) -> dict[Path, bytes]:
        raise RunError("cell 3 of notebooks/first.ipynb (replaying the new recording): MissingRecordingError: ...")

    recorder = job("first")
    folder = tmp_path / "new"
    folder.mkdir()
    outcome = record_lessons.rerecord(Job("first", recorder.record, replay), folder, RECORD_ENVIRONMENT, {})
    assert outcome.failure and outcome.failure.startswith("cell 3 of notebooks/first.ipynb")
    assert reply_in(shipped, "first") == "the old reply" and notebook.read_text() == "old outputs"
    assert outcome.after, "what was recorded (and billed) is still counted in the summary"


def test_a_lesson_that_sends_nothing_keeps_its_recording(shipped, capsys):
    assert record_lessons.run([job("first", reply=None)], RECORD_ENVIRONMENT) == 1
    assert reply_in(shipped, "first") == "the old reply"
    assert "FAILED first: it sent no request" in capsys.readouterr().out


def test_a_successful_lesson_replaces_its_recording_and_notebooks_together(shipped, tmp_path):
    notebooks = [tmp_path / "notebooks" / "first.ipynb", tmp_path / "solutions" / "first.ipynb"]
    for path in notebooks:
        path.parent.mkdir()
        path.write_text("old outputs")
        path.chmod(0o644)
    recorder = job("first")
    lesson = Job("first", recorder.record, lambda env: {path: b"new outputs" for path in notebooks})
    folder = tmp_path / "new"
    folder.mkdir()
    outcome = record_lessons.rerecord(lesson, folder, RECORD_ENVIRONMENT, {})
    assert outcome.result == "updated" and outcome.changed() == 1
    assert reply_in(shipped, "first") == "a new reply"
    assert [path.read_text() for path in notebooks] == ["new outputs", "new outputs"]
    assert all(path.stat().st_mode & 0o777 == 0o644 for path in notebooks), "a replaced file lost its permissions"
    assert not [path for path in tmp_path.rglob("*.tmp")], "a temporary file was left behind"


def test_running_it_again_with_the_same_replies_changes_no_byte(shipped, capsys):
    record_lessons.run([job("first")], RECORD_ENVIRONMENT)
    after_once = (shipped / "first.json").read_bytes()
    capsys.readouterr()
    assert record_lessons.run([job("first")], RECORD_ENVIRONMENT) == 0
    assert (shipped / "first.json").read_bytes() == after_once, "the same replies rewrote the file"
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("first"))
    assert row.split()[1:4] == ["unchanged", "1", "0"], row


def test_replies_that_differ_only_in_their_timings_and_request_ids_are_the_same_replies():
    ping = {"event": "ping", "data": {"type": "ping"}, "at": 0.1}
    reply = {"status": 200, "headers": {"request-id": "req_1"}, "events": [ping]}
    later = {**reply, "headers": {"request-id": "req_2"}, "events": [{**ping, "at": 0.7}]}
    before = [{"request": {**REQUEST, "body": body()}, "responses": [reply], "model": MODEL}]
    after = [{"request": {**REQUEST, "body": body()}, "responses": [later], "model": MODEL}]
    assert record_lessons.same_replies(before, after)
    assert Outcome("x", before, after).changed() == 0
    assert not record_lessons.same_replies(before, [{**after[0], "request": {**REQUEST, "body": body("Other?")}}])
    error = {"type": "error", "error": {"type": "invalid_request_error", "message": "no"}, "request_id": "req_1"}
    rejected = [{"request": {**REQUEST, "body": body()}, "responses": [{"status": 400, "body": error}]}]
    again = [{**rejected[0], "responses": [{"status": 400, "body": {**error, "request_id": "req_2"}}]}]
    assert record_lessons.same_replies(rejected, again), "an error's body names its request: not a change"


def test_the_summary_counts_requests_changes_tokens_and_cost(shipped, capsys):
    usage = {"input_tokens": 1000, "output_tokens": 100, "cache_read_input_tokens": 500}
    record_lessons.run([job("first", usage=usage), job("local", model="qwen3:8b")], RECORD_ENVIRONMENT)
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split()[1:] for line in out.splitlines() if line.startswith(("first", "local"))}
    result, requests, changed, tokens_in, tokens_out, cost = rows["first"]
    assert (result, requests, changed, tokens_in, tokens_out) == ("updated", "1", "1", "1500", "100")
    assert cost.startswith("$") and float(cost[1:]) > 0
    assert rows["local"][-1] == "unknown", "a model without a price costs 'unknown', not $0"
    total = next(line for line in out.splitlines() if line.startswith("total"))
    assert total.endswith(f"{cost} + unknown"), total


def test_ctrl_c_leaves_the_recording_old_and_stops_the_run(shipped, capsys):
    before = (shipped / "first.json").read_bytes()

    def record(environment: dict[str, str]) -> None:
        save(folder_of(environment), "first", "half of a new recording")
        raise KeyboardInterrupt

    second = job("second")
    assert record_lessons.run([Job("first", record, lambda env: {}), second], RECORD_ENVIRONMENT) == 130
    assert (shipped / "first.json").read_bytes() == before
    assert reply_in(shipped, "second") == "the old reply", "the run went on after Ctrl-C"
    assert "interrupted while recording first" in capsys.readouterr().out


def test_ctrl_c_while_files_are_replaced_waits_until_all_of_them_are(tmp_path, monkeypatch):
    files = {tmp_path / name: name.encode() for name in ("recording.json", "student.ipynb", "solution.ipynb")}
    for path in files:
        path.write_bytes(b"old")
    real_replace = os.replace

    def replace_then_ctrl_c(source: Any, target: Any) -> None:
        real_replace(source, target)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C after the first file: the others must follow

    monkeypatch.setattr(os, "replace", replace_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        record_lessons.replace_together(files)
    assert {path.name: path.read_bytes() for path in files} == {path.name: data for path, data in files.items()}
    assert not list(tmp_path.glob("*.tmp"))


def test_ctrl_c_before_the_renames_leaves_every_file_old_and_no_temporary_file(tmp_path, monkeypatch):
    files = {tmp_path / "a.json": b"new", tmp_path / "b.ipynb": b"new"}
    for path in files:
        path.write_bytes(b"old")
    monkeypatch.setattr(record_lessons, "interrupts_deferred", mock.Mock(side_effect=KeyboardInterrupt))
    with pytest.raises(KeyboardInterrupt):
        record_lessons.replace_together(files)
    assert [path.read_bytes() for path in files] == [b"old", b"old"]
    assert not list(tmp_path.glob("*.tmp"))


def test_a_failing_cell_of_a_real_notebook_is_named_by_its_number(tmp_path, monkeypatch):
    source = tmp_path / "99_broken.py"
    source.write_text(
        "# %% [markdown]\n# # Broken\n\n# %%\nx = 1\nprint(x)\n\n# %%\nraise ValueError('the reply had no tool call')\n"
    )
    monkeypatch.setattr(record_lessons, "RECORDINGS", tmp_path / "recordings")
    folder = tmp_path / "new"
    folder.mkdir()
    lesson = record_lessons.lesson_job(build_notebooks.Lesson(source))
    outcome = record_lessons.rerecord(lesson, folder, record_lessons.base_environment(), {})
    # Cells: the navigation header, the title, x = 1, then the one that raises.
    assert outcome.failure == "cell 4 of solutions/99_broken.ipynb (recording): ValueError: the reply had no tool call"
    assert not list(tmp_path.rglob("*.ipynb")), "a notebook was written for a failed lesson"


def test_ctrl_c_ends_a_lessons_process_and_its_kernel(tmp_path, monkeypatch):
    kernel_pid = tmp_path / "kernel.pid"
    source = tmp_path / "98_slow.py"
    source.write_text(
        "# %% [markdown]\n# # Slow\n\n# %%\nimport os, pathlib, time\n"
        f"pathlib.Path({str(kernel_pid)!r}).write_text(str(os.getpid()))\ntime.sleep(120)\n"
    )
    started: list[subprocess.Popen[str]] = []
    real_communicate = subprocess.Popen.communicate

    def ctrl_c_once_the_cell_runs(process: subprocess.Popen[str], timeout: float | None = None) -> Any:
        if started:  # stopping it: let it end
            return real_communicate(process, timeout=timeout)
        started.append(process)
        deadline = time.monotonic() + HANG_BOUND  # ends as soon as the cell runs
        while not kernel_pid.exists() and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        raise KeyboardInterrupt  # as Ctrl-C does while the command waits for the lesson's process

    monkeypatch.setattr(subprocess.Popen, "communicate", ctrl_c_once_the_cell_runs)
    folder = tmp_path / "new"
    folder.mkdir()
    with pytest.raises(KeyboardInterrupt):
        record_lessons.lesson_job(build_notebooks.Lesson(source)).record(
            {**record_lessons.base_environment(), "WORKBOOK_RECORDINGS_DIR": str(folder)}
        )
    (process,) = started
    assert process.poll() is not None, "the lesson's process outlived Ctrl-C"
    pid = int(kernel_pid.read_text())
    deadline = time.monotonic() + HANG_BOUND  # ends as soon as the kernel has: a bound for a hang only
    while time.monotonic() < deadline and kernel_alive(pid):
        time.sleep(0.2)
    assert not kernel_alive(pid), "the lesson's kernel outlived Ctrl-C"


def kernel_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with contextlib.suppress(FileNotFoundError):  # a zombie (ended, not yet reaped) is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    return True


def test_prefixes_choose_lessons_and_scripts():
    names = [job.name for job in record_lessons.all_jobs(["00", "hello"])]
    assert names == ["00_where_models_run", "hello_api"]
    everything = [job.name for job in record_lessons.all_jobs([])]
    assert everything[: len(build_notebooks.all_lessons())] == [lesson.name for lesson in build_notebooks.all_lessons()]
    assert set(record_lessons.SCRIPTS) <= set(everything)


def lost_the_point(environment: dict[str, str]) -> None:
    """A lesson recorded from a server that lacks what it shows: tools never called, flat usage, a stream as JSON."""
    file = RecordingFile(folder_of(environment) / "tools.json")
    source = {"host": "127.0.0.1:8080", "model": "local.gguf", "server": "llama.cpp"}
    first = [{"role": "user", "content": "Where is parcel 7?"}]
    longer = [*first, {"role": "assistant", "content": "On its way."}, {"role": "user", "content": "When?"}]
    tools = [{"name": "track", "description": "Track a parcel", "input_schema": {"type": "object"}}]
    for messages, extra in ((first, {"tools": tools}), (longer, {"stream": True})):
        response = {"status": 200, "headers": {}, "body": message_json("Soon.", model="local.gguf")}
        request = {**REQUEST, "body": {**body(), "messages": messages, **extra}}
        file.save_interaction(request, [response], provenance="recorded", model=MODEL, source=source)


def test_a_lesson_whose_replies_lost_its_point_is_degraded_with_a_warning_each(shipped, capsys):
    assert record_lessons.run([Job("tools", lost_the_point, lambda env: {})], RECORD_ENVIRONMENT) == 0
    out = capsys.readouterr().out
    warnings = [line for line in out.splitlines() if line.startswith("WARNING tools:")]
    assert len(warnings) == 3, out  # no tool call, flat usage, a stream as JSON
    row = next(line for line in out.splitlines() if line.startswith("tools"))
    assert row.split()[1] == "degraded", row
    replies_from = next(line for line in out.splitlines() if line.startswith("Replies from:"))
    assert "127.0.0.1:8080" in replies_from and "local.gguf" in replies_from, replies_from
    assert "the Anthropic API" not in replies_from, replies_from


def test_replies_that_keep_the_point_give_no_warning():
    grows = [
        {"request": {**REQUEST, "body": {**body(), "messages": messages}}, "responses": [response]}
        for messages, response in (
            ([{"role": "user", "content": "Hi"}], {"status": 200, "body": message_json("Hello.")}),
            (
                [
                    {"role": "user", "content": "Hi"},
                    {"role": "assistant", "content": "Hello."},
                    {"role": "user", "content": "And?"},
                ],
                {"status": 200, "body": message_json("More.", usage={"input_tokens": 30, "output_tokens": 5})},
            ),
        )
    ]
    assert record_lessons.lost_points(grows) == []


def test_a_tool_offered_and_rightly_declined_is_no_loss_where_the_shipped_replies_declined_it_too():
    tools = [{"name": "track", "description": "Track a parcel", "input_schema": {"type": "object"}}]
    request = {**REQUEST, "body": {**body(), "tools": tools}}
    declined = [{"request": request, "responses": [{"status": 200, "body": message_json("Which parcel?")}]}]
    called = {**message_json(""), "content": [{"type": "tool_use", "id": "toolu_1", "name": "track", "input": {}}]}
    shipped_call = [{"request": request, "responses": [{"status": 200, "body": called}]}]
    assert record_lessons.lost_points(declined, declined) == [], "the shipped replies declined the tool too"
    assert len(record_lessons.lost_points(declined, shipped_call)) == 1, "the shipped replies called it"
