"""get_async_client(): what only the async face does, and one recording shared by both faces.

What both faces do (recording, replay, misses, failures, faults, secrets, pacing) is tested once, over
both, where that behaviour lives: the tests that take the `face` fixture (tests/faces.py) in
tests/test_recordings.py, tests/test_live_path.py, tests/test_faults.py and tests/test_standin_batches.py;
tests/test_differential.py compares both faces with the bare SDK. Here: calls made at the same time,
recorded and replayed, and paced replays that overlap as they did live; and a recording made by either
face, replayed alike by both.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import anthropic
import pytest

from helpers import MODEL
from tests.conftest import FAKE_KEY, HANG_BOUND
from tests.faces import FACES, Face
from tests.test_live_path import shipped, use
from tests.test_recordings import ask, go_offline, improvised, stream_text

Json = dict[str, Any]

ASYNC_ONLY = pytest.mark.parametrize("face", ["async"], indirect=True)


async def asked_together(client: anthropic.AsyncAnthropic, questions: list[str]) -> list[anthropic.types.Message]:
    """One call per question, all at once (asyncio.gather), the replies in the order of the questions."""
    calls = [
        client.messages.create(model=MODEL, max_tokens=200, messages=[{"role": "user", "content": question}])
        for question in questions
    ]
    return list(await asyncio.gather(*calls))


@ASYNC_ONLY
def test_calls_recorded_at_the_same_time_are_each_saved_and_replayed(face, online, recordings, monkeypatch):
    questions = [f"Question {n}: what is an API?" for n in range(4)]
    live = face.result(asked_together(face.client(), questions))
    saved = json.loads(improvised(recordings).read_text())["interactions"]
    assert sorted(item["request"]["body"]["messages"][0]["content"] for item in saved) == questions
    go_offline(monkeypatch)
    assert face.result(asked_together(face.client(), questions)) == live, "calls recorded together replay as recorded"


ELAPSED = 0.4  # seconds: the recorded time of each reply in the test below


@ASYNC_ONLY
def test_paced_replies_replayed_at_the_same_time_overlap(face, online, recordings, monkeypatch, waits):
    questions = [f"Question {n}" for n in range(4)]
    live = face.result(asked_together(face.client(), questions))
    recording = json.loads(improvised(recordings).read_text())
    for interaction in recording["interactions"]:
        interaction["responses"][0]["elapsed"] = ELAPSED  # as if the API had taken ELAPSED seconds each
    improvised(recordings).write_text(json.dumps(recording))

    # Each paced wait is noted, then held until every reply is waiting. Replies replayed one after another
    # never all wait at once: each would give up at the hang bound, noting how many were waiting then.
    waited: list[float] = []
    all_waiting = asyncio.Event()
    gave_up: list[int] = []

    async def wait_together(delay: float, result: Any = None) -> Any:
        waited.append(delay)
        if len(waited) == len(questions):
            all_waiting.set()
        try:
            await asyncio.wait_for(all_waiting.wait(), HANG_BOUND)
        except TimeoutError:
            gave_up.append(len(waited))
        return result

    go_offline(monkeypatch)
    waits.clear()  # what recording asked for, if anything
    monkeypatch.setattr(asyncio, "sleep", wait_together)  # over the one `waits` put in place
    replayed = face.result(asked_together(face.client(stream_speed=1, max_retries=0), questions))
    assert not gave_up, f"only {gave_up[0]} of {len(questions)} replies ever waited at once: they did not overlap"
    assert replayed == live
    assert waited == [ELAPSED] * len(questions), "each reply waits its recorded time, with asyncio.sleep"
    assert waits.seen == [], f"the replay waited otherwise than with asyncio.sleep: {waits.seen}"


# --- one recording, two faces ----------------------------------------------------------------


def comparable(path: Path) -> list[Json]:
    """A recording's interactions without what depends on the moment: times, and header values."""
    moments = {"at", "elapsed", "recorded_on"}

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            if "headers" in value:  # their names: the values (date, request id, limits left) vary
                value = {**value, "headers": sorted(value["headers"])}
            return {name: strip(item) for name, item in value.items() if name not in moments}
        if isinstance(value, list):
            return [strip(item) for item in value]
        return value

    return strip(json.loads(path.read_text())["interactions"])


def asked_and_streamed(face: Face) -> tuple[Any, ...]:
    """The reply to QUESTION, and the same question streamed, each with a client of its own."""
    return ask(face.client(), face=face), stream_text(face.client(), face=face)


def test_the_sync_and_async_clients_record_the_same_and_replay_one_recording_alike(
    online, recordings, tmp_path, monkeypatch
):
    faces = [Face(name) for name in FACES]
    folders = {face.name: tmp_path / f"{face.name}-recordings" for face in faces}
    try:
        use(monkeypatch, mode="record", key=FAKE_KEY, base_url=online.url)
        live = {}
        for face in faces:
            folders[face.name].mkdir()
            monkeypatch.setenv("WORKBOOK_RECORDINGS_DIR", str(folders[face.name]))
            live[face.name] = asked_and_streamed(face)
        assert comparable(shipped(folders["async"])) == comparable(shipped(folders["sync"])), "saved differently"

        # Both faces replay the recording the sync face made, and the one the async face made.
        go_offline(monkeypatch, mode="replay")
        for made_by, folder in folders.items():
            monkeypatch.setenv("WORKBOOK_RECORDINGS_DIR", str(folder))
            replayed = {face.name: asked_and_streamed(face) for face in faces}
            assert replayed["async"] == replayed["sync"], f"the faces replay what the {made_by} face saved differently"
            assert replayed[made_by] == live[made_by], f"the {made_by} face does not replay what it recorded"
    finally:
        for face in faces:
            face.close()
