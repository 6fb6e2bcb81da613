"""The recording files: readable JSON on disk, checked entry by entry when they load.

One file per lesson or script. The shipped ones live in recordings/ and change only when
they are re-recorded (WORKBOOK_MODE=record, which the re-record command uses). What `auto`
mode records while you teach goes to recordings/improvised/ instead: git ignores it, `auto`
replays it before the shipped files, and `python3 workbook.py forget` throws it away.

Each interaction stores the request (method, API path, body with sorted keys) and the
responses it got, in order. A response is one of:

    {"status": 200, "headers": {...}, "elapsed": 0.8, "body": {...}}    a JSON object
    {"status": 502, "headers": {...}, "elapsed": 0.1, "text": "..."}    anything else, as text
    {"status": 200, "headers": {...}, "events": [...], "end": ...}      a stream (server-sent events)
    {"error": "timeout" | "connection", "exception": "ReadTimeout", "message": "..."}
                                                                        no response at all

A stream's events each hold the time they arrived ("at", seconds after the request), the event
name (null when the server sent none) and its "data" (a JSON object) or "text". Its "end" says
how the stream ended: "complete" (the server finished it; the default), "left early" (the reader
stopped reading, and what had arrived by then was kept), or a failure like the one above (the
connection dropped, or a read timed out, after these events). Request headers are never stored.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from anthropic.types import Message

from .errors import CorruptRecordingError
from .wire import fold_events, to_json

FORMAT_VERSION = 1
IMPROVISED_FOLDER = "improvised"  # under the recordings folder; git ignores it

SAMPLE_NOTE = (
    "SAMPLE recordings: this repository was built on a machine that cannot reach the API, "
    "so these replies were written by hand and served by the stand-in in tools/standin/ in the exact "
    "wire format; token counts come from its documented estimator. They are not real model "
    "output. Re-record with a key (README: 'Recording fresh responses') to replace them."
)
RECORDED_NOTE = (
    "Recorded from a live Anthropic-compatible endpoint; see each interaction's date, model and source (its server)."
)
LOCAL_NOTE = (
    "Recorded from a small open-weight model running on this machine (llama.cpp's llama-server; see each "
    "interaction's model and server), not from Claude."
)

FAILURES = ("timeout", "connection")  # kinds of failure without a response
COMPLETE, LEFT_EARLY = "complete", "left early"

Json = dict[str, Any]


def request_key(method: str, path: str, body: Any) -> str:
    """What a recording matches on: method, API path and body. Never the host or headers."""
    return json.dumps({"method": method, "path": path, "body": body}, sort_keys=True)


def is_success(response: Json) -> bool:
    """A reply worth replaying as the answer: a 2xx status, and for a stream no error and no broken end."""
    if "error" in response or not 200 <= response.get("status", 0) < 300:
        return False
    if "events" not in response:
        return True
    broken = response.get("end", COMPLETE) not in (COMPLETE, LEFT_EARLY)
    return not broken and not any(event.get("event") == "error" for event in response["events"])


def recorded_message(response: Json) -> Message | None:
    """The Message a stored reply stands for (its JSON body, or its stream folded up by the SDK);
    None for a failure, a stream that did not end, or the reply of an endpoint that returns no Message."""
    if not is_success(response) or response.get("end", COMPLETE) != COMPLETE:
        return None
    if "events" in response:
        return fold_events(response["events"])
    body = response.get("body")
    # A successful reply of another endpoint (count_tokens: {"input_tokens": ...}) stands for no Message.
    return Message.model_validate(body) if isinstance(body, dict) and body.get("type") == "message" else None


# --- checking what a file holds ------------------------------------------------


def _failure_problem(failure: Any) -> str | None:
    if not isinstance(failure, dict) or failure.get("error") not in FAILURES:
        return f"a failure must say 'error': 'timeout' or 'connection'; found {str(failure)[:60]}"
    for name in ("exception", "message"):
        if name in failure and not isinstance(failure[name], str):
            return f"its {name!r} is not text"
    return None


def _event_problem(event: Any) -> str | None:
    if not isinstance(event, dict):
        return f"an event is not an object: {str(event)[:60]}"
    if not isinstance(event.get("event"), str | None):
        return "an event's name is not text"
    if ("data" in event) == ("text" in event):
        return "an event needs exactly one of 'data' or 'text'"
    return _payload_problem(event, "data", "an event's") or _seconds_problem(event, "at", "an event's")


def _payload_problem(item: Json, json_key: str, whose: str) -> str | None:
    """What `item` carried: a JSON object under `json_key`, or anything else as 'text'."""
    if json_key in item and not isinstance(item[json_key], dict):
        return f"{whose} {json_key!r} is not a JSON object (anything else goes in 'text')"
    if "text" in item and not isinstance(item["text"], str):
        return f"{whose} 'text' is not text"
    return None


def _seconds_problem(item: Json, key: str, whose: str) -> str | None:
    value = item.get(key, 0)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return f"{whose} {key!r} is not a number of seconds: {value!r}"
    return None


def response_problem(response: Any) -> str | None:
    """What is wrong with one stored response, in a few words; None when it is well-formed."""
    if not isinstance(response, dict):
        return f"the response is not an object: {str(response)[:60]}"
    if "error" in response:
        if any(name in response for name in ("status", "body", "text", "events")):
            return "it has both an 'error' and a response"
        return _failure_problem(response)
    status = response.get("status")
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        return f"its status {status!r} is not a whole number from 100 to 599"
    headers = response.get("headers", {})
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        return "its 'headers' is not a mapping of names to text"
    kinds = [name for name in ("body", "text", "events") if name in response]
    if len(kinds) != 1:
        return f"it needs exactly one of 'body', 'text', 'events' or 'error'; it has {kinds or 'none'}"
    problem = _payload_problem(response, "body", "its") or _seconds_problem(response, "elapsed", "its")
    if problem:
        return problem
    if "events" in response:
        if not isinstance(response["events"], list):
            return "its 'events' is not a list"
        for number, event in enumerate(response["events"], start=1):
            problem = _event_problem(event)
            if problem:
                return f"event {number}: {problem}"
        end = response.get("end", COMPLETE)
        if end not in (COMPLETE, LEFT_EARLY):
            problem = _failure_problem(end)
            if problem:
                return f"its 'end' is not 'complete', 'left early' or a failure ({problem})"
    return None


def _interaction_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return "it is not an object"
    request = item.get("request")
    if not isinstance(request, dict) or not isinstance(request.get("method"), str):
        return "its 'request' has no method"
    if not isinstance(request.get("path"), str) or not request["path"].startswith("/"):
        return "its request's 'path' is not a path such as /v1/messages"
    responses = item.get("responses")
    if not isinstance(responses, list) or not responses:
        return "it has no responses"
    for number, response in enumerate(responses, start=1):
        problem = response_problem(response)
        if problem:
            return f"response {number}: {problem}"
    return None


# --- one file --------------------------------------------------------------------


def _today() -> str:
    return dt.date.today().isoformat()


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock beside `path` so two kernels never interleave a save."""
    lock_path = path.with_suffix(path.suffix + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: the atomic replace below still prevents corruption
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write_atomically(path: Path, text: str) -> None:
    """Write to a temporary file, then rename over: readers see the old or the new file, never half.

    Runs under the file's lock, so any temporary file of this one still lying about was left by a
    save that was killed (kill -9, a crashed kernel): it is removed first.
    """
    for stale in path.parent.glob(f"{path.name}*.tmp"):
        with contextlib.suppress(OSError):
            stale.unlink()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class RecordingFile:
    """One lesson's recordings on disk (a file that does not exist yet holds nothing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = self._read()

    def _damaged(self, what: str) -> CorruptRecordingError:
        if IMPROVISED_FOLDER in self.path.parent.parts[-2:]:  # git does not keep these: nothing to restore
            fix = f"Drop it with `python3 workbook.py forget {self.path.stem}` (it holds only what auto mode added)."
        else:
            fix = (
                f"Restore it with `git checkout -- {self.path.name}` in its folder, or delete it and record "
                "again with a key."
            )
        return CorruptRecordingError(f"The recording file {self.path} is damaged and cannot be read: {what}. {fix}")

    def _read(self) -> Json:
        if self.path.is_dir():
            raise CorruptRecordingError(
                f"{self.path} is a folder, where the workbook expects a recording file. Move the folder away."
            )
        if not self.path.exists():
            return {"interactions": []}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except RecursionError:
            raise self._damaged("its JSON is nested far too deeply to be a recording") from None
        except (ValueError, OSError) as err:
            raise self._damaged(str(err)) from None
        if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
            raise self._damaged("there is no list of 'interactions' at the top")
        for number, item in enumerate(data["interactions"], start=1):
            problem = _interaction_problem(item)
            if problem:
                raise self._damaged(f"interaction {number}: {problem}")
        return data

    @property
    def provenance(self) -> str:
        """'sample', 'recorded', 'local' (the local model's), 'mixed', or 'empty' when nothing is recorded yet."""
        kinds = {item.get("provenance", "recorded") for item in self.data["interactions"]}
        if not kinds:
            return "empty"
        return kinds.pop() if len(kinds) == 1 else "mixed"

    def responses_for(self, key: str) -> list[Json] | None:
        for item in self.data["interactions"]:
            request = item["request"]
            if request_key(request["method"], request["path"], request.get("body")) == key:
                return item["responses"]
        return None

    @property
    def sources(self) -> list[Json]:
        """Where the replies came from (helpers/provenance.py), each server once; none for older files."""
        found: dict[str, Json] = {}
        for item in self.data["interactions"]:
            if isinstance(item.get("source"), dict):
                found.setdefault(to_json(item["source"]), item["source"])
        return [found[key] for key in sorted(found)]

    def save_interaction(
        self,
        request: Json,
        responses: list[Json],
        *,
        provenance: str,
        model: str | None,
        source: Json | None = None,
        server: str | None = None,
    ) -> None:
        """Store `responses` as the answer to `request`, merging with what other kernels saved; `source` says
        where the replies came from, and `server` names the server build that answered a local model's."""
        key = request_key(request["method"], request["path"], request.get("body"))
        with _locked(self.path):
            self.data = self._read()  # another kernel may have saved since we loaded
            interactions = [
                item
                for item in self.data["interactions"]
                if request_key(item["request"]["method"], item["request"]["path"], item["request"].get("body")) != key
            ]
            interactions.append(
                {
                    "provenance": provenance,
                    "recorded_on": _today(),
                    "model": model,
                    **({"source": source} if source else {}),
                    **({"server": server} if server else {}),
                    "request": request,
                    "responses": responses,
                }
            )
            self.data["interactions"] = interactions
            _write_atomically(self.path, self.to_text())

    def to_text(self) -> str:
        interactions = self.data["interactions"]
        provenance = self.provenance
        header: Json = {
            "format": FORMAT_VERSION,
            "provenance": provenance,
            "note": {"sample": SAMPLE_NOTE, "mixed": SAMPLE_NOTE, "local": LOCAL_NOTE}.get(provenance, RECORDED_NOTE),
            "recorded_on": max((i.get("recorded_on", "") for i in interactions), default=""),
            "models": sorted({i["model"] for i in interactions if i.get("model")}),
        }
        if self.sources:
            header["sources"] = self.sources
        return to_json({**header, "interactions": interactions}, indent=1) + "\n"


class LessonRecordings:
    """A lesson's shipped recordings and what was improvised on top of them in `auto` mode: what the API
    answered in recordings/improvised/, what the local model answered in a folder of its own under it,
    named after the model (`improvised_by`), so that neither is ever replayed as the other's."""

    def __init__(self, folder: Path, lesson: str, improvised_by: str | None = None) -> None:
        self.lesson = lesson
        self.shipped = RecordingFile(folder / f"{lesson}.json")
        improvised = folder / IMPROVISED_FOLDER / improvised_by if improvised_by else folder / IMPROVISED_FOLDER
        self.improvised = RecordingFile(improvised / f"{lesson}.json")


def forget(folder: Path, lessons: list[str]) -> list[Path]:
    """Delete what was improvised for `lessons` (all of it when empty); the paths deleted."""
    improvised = folder / IMPROVISED_FOLDER  # the API's replies, and the local model's in folders below
    kept = sorted([*improvised.glob("*.json"), *improvised.glob("*/*.json")])
    paths = [path for path in kept if path.stem in lessons] if lessons else kept
    gone = []
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            gone.append(path)
        with contextlib.suppress(FileNotFoundError):  # the lock beside it, left by the last save
            path.with_suffix(path.suffix + ".lock").unlink()
    if not lessons:
        for lock in improvised.glob("*.json.lock"):
            with contextlib.suppress(FileNotFoundError):
                lock.unlink()
    return gone


def main(argv: list[str]) -> int:
    """`forget [LESSON ...]`: drop what `auto` mode improvised (python -m helpers forget)."""
    from .settings import read_settings

    if not argv or argv[0] != "forget":
        print("usage: python3 workbook.py forget [LESSON ...]   e.g. forget 03_statelessness", file=sys.stderr)
        return 2
    folder = read_settings().recordings_dir
    gone = forget(folder, [name.removesuffix(".json") for name in argv[1:]])
    for path in gone:
        print(f"forgot {path.relative_to(folder.parent) if path.is_relative_to(folder.parent) else path}")
    if not gone:
        print(f"nothing improvised to forget in {folder / IMPROVISED_FOLDER}")
    print("The shipped recordings are unchanged; to undo a re-record, use `git checkout -- recordings/`.")
    return 0
