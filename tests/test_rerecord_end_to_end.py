"""The done-when test of the re-record command, end to end and slow (a few minutes): on a copy of the
repository, re-record every lesson and script from a stand-in that plays a real server and words every
reply differently from the samples, then run the copy's fast tier, which must pass.

It proves that no test leans on a sample's words, ids or stream shapes, and that the command leaves
the repository consistent (recordings, both editions' outputs) with the key in no file.
"""

from __future__ import annotations

import codecs
import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import wire
from tests.conftest import FAKE_KEY
from tools.standin import replies
from tools.standin.http import StandinServer
from workbook import FAST_TIER, PARALLEL
from workbook_base.environment import with_test_environment

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.release
RECORD_TIMEOUT = 900  # seconds: every lesson recorded and replayed twice, every script twice
SUITE_TIMEOUT = 900  # seconds: the copy's test suite


def copy_of_repository(target: Path) -> Path:
    """The working tree's files that git tracks or would (not .env, not .venv), copied to `target`, as
    they are now: the changes not committed yet too."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    for name in sorted(set(filter(None, listed.stdout.split("\0")))):
        if (ROOT / name).is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, target / name)
    # A repository of its own, as the tests that ask git what it tracks and ignores expect.
    for command in (["git", "init", "-q"], ["git", "add", "-A"]):
        subprocess.run(command, cwd=target, check=True, capture_output=True)
    return target


# --- a stand-in that plays a real server, with other words than the samples -----------------------


def reword(text: str) -> str:
    """Other words, the same shape: JSON stays JSON with the same keys; other text gets every letter
    rotated (so no sample word survives) and a sentence more (so lengths and token counts change)."""
    try:
        data = json.loads(text)
    except ValueError:
        return codecs.encode(text, "rot13") + " Said differently."
    return json.dumps(_reword_values(data))


def _reword_values(value: Any) -> Any:
    if isinstance(value, str):
        return codecs.encode(value, "rot13")
    if isinstance(value, dict):
        return {key: _reword_values(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_reword_values(item) for item in value]
    return value


@pytest.fixture
def real_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[StandinServer]:
    """The stand-in as a real server: replies not marked as samples, in other words, with other ids
    and streamed in other pieces (one word each) than the samples were."""
    original_reply, original_message = replies.reply_for, replies.build_message

    def reworded_reply(body: dict[str, Any]) -> Any:
        reply = original_reply(body)
        return dataclasses.replace(reply, text=reword(reply.text)) if reply.text else reply

    def message_with_real_ids(body: dict[str, Any], state: Any) -> dict[str, Any]:
        message = original_message(body, state)
        message["id"] = message["id"].replace("msg_sample_", "msg_01")
        for block in message["content"]:
            if "id" in block:
                block["id"] = block["id"].replace("toolu_sample_", "toolu_01")
        return message

    def one_word_pieces(message: dict[str, Any], *, pings: bool = True) -> Iterator[tuple[str, dict[str, Any]]]:
        for event in wire.message_events(message, split=lambda text: re.findall(r"\S*\s*", text)):
            if pings or event["event"] != "ping":
                yield event["event"], event["data"]

    monkeypatch.setattr(replies, "reply_for", reworded_reply)
    monkeypatch.setattr(replies, "build_message", message_with_real_ids)
    monkeypatch.setattr(replies, "stream_events", one_word_pieces)
    with StandinServer(mark_as_sample=False) as server:
        yield server


# --- running a command in the copy, bounded --------------------------------------------------------


def run_bounded(command: list[str], cwd: Path, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    """Run `command` in a session of its own; past `timeout`, end it and every process it started."""
    process = subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{' '.join(command)} took more than {timeout} s; its output ends:\n{output[-3000:]}")
    return subprocess.CompletedProcess(command, process.returncode, output, "")


def environment_of(copy: Path, **extra: str) -> dict[str, str]:
    """The tests' environment, with the copy's own helpers and tools first (for kernels too)."""
    # MPLBACKEND left out: the notebooks' plots are stored as the inline backend draws them.
    return with_test_environment(PYTHONPATH=str(copy), MPLBACKEND=None, **extra)


def changed_files(copy: Path) -> set[str]:
    """The files of the copy that differ from what was there before the re-record (git's index), or are new."""

    def git(*args: str) -> set[str]:
        listed = subprocess.run(["git", *args], cwd=copy, capture_output=True, text=True, check=True)
        return set(listed.stdout.splitlines())

    return git("diff", "--name-only") | git("ls-files", "--others", "--exclude-standard")


def test_rerecording_everything_from_a_real_server_keeps_the_whole_suite_passing(tmp_path, real_server):
    copy = copy_of_repository(tmp_path / "repo")
    lessons = sorted(path.stem for path in (copy / "source").glob("[0-9][0-9]_*.py"))
    # Lesson 00's local reply is recorded from the local model by instructor/record_local_reply.py, not here.
    recordings = sorted(
        path.name
        for path in (copy / "recordings").glob("*.json")
        if json.loads(path.read_text()).get("provenance") != "local"
    )

    started = time.monotonic()
    recorded = run_bounded(
        [sys.executable, "-m", "instructor.record_lessons"],
        copy,
        environment_of(copy, ANTHROPIC_API_KEY=FAKE_KEY, ANTHROPIC_BASE_URL=real_server.url),
        RECORD_TIMEOUT,
    )
    recording_took = time.monotonic() - started
    assert recorded.returncode == 0, recorded.stdout[-4000:]
    assert real_server.state.requests, "nothing was sent to the server"

    # Every recording re-recorded, labelled as real, and both editions of every lesson refreshed; nothing else.
    expected = {f"recordings/{name}" for name in recordings}
    expected |= {f"{folder}/{lesson}.ipynb" for lesson in lessons for folder in ("notebooks", "solutions")}
    assert changed_files(copy) == expected, recorded.stdout[-3000:]
    for name in recordings:
        data = json.loads((copy / "recordings" / name).read_text())
        assert data["provenance"] == "recorded", f"{name} is labelled {data['provenance']!r}"
    rows = {line.split()[0]: line.split()[1] for line in recorded.stdout.splitlines() if len(line.split()) > 1}
    assert all(rows.get(Path(name).stem) == "updated" for name in recordings), recorded.stdout[-3000:]
    assert "total" in rows, recorded.stdout[-3000:]

    for path in copy.rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            assert FAKE_KEY not in path.read_text(errors="replace"), f"the key leaked into {path.relative_to(copy)}"

    started = time.monotonic()
    suite = run_bounded(
        [
            sys.executable,
            "-m",
            "pytest",
            *PARALLEL,
            *FAST_TIER,  # everything a change can break; this test and the rest of the release tier are not run again
            "-p",
            "no:cacheprovider",
            "-q",
        ],
        copy,
        environment_of(copy),
        SUITE_TIMEOUT,
    )
    suite_took = time.monotonic() - started
    print(f"re-recording took {recording_took:.0f} s; the copy's suite {suite_took:.0f} s")
    assert suite.returncode == 0, "the suite fails after a re-record:\n" + suite.stdout[-6000:]
