"""Recorded API exchanges, kept as readable JSON and replayed under the real SDK.

The seam is httpx2's transport: the SDK builds the request, and this module
decides whether the bytes come from a recording or from the network. Everything
above it (parsing, streaming, typed errors, retries) is the SDK's own code.

One file per lesson, in recordings/. Each interaction stores the request body
(sorted keys) and the responses it got, in order: a JSON body, a list of
server-sent events with the time each arrived, or a timeout / connection error.
Request headers are never stored, so a key cannot reach a recording.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2

from .errors import CorruptRecordingError, MissingRecordingError
from .settings import Mode

FORMAT_VERSION = 1

# Response headers worth keeping: what the SDK's retry logic and error messages read.
KEPT_RESPONSE_HEADERS = ("content-type", "request-id", "retry-after", "retry-after-ms", "x-should-retry")

# The stand-in server (tools/standin_server.py) marks its replies with this header,
# so anything recorded from it is labelled a sample, whoever records it.
SAMPLE_HEADER = "x-workbook-sample"

SAMPLE_NOTE = (
    "SAMPLE recordings: this repository was built on a machine that cannot reach the API, "
    "so these replies were written by hand and served by tools/standin_server.py in the exact "
    "wire format; token counts come from its documented estimator. They are not real model "
    "output. Re-record with a key (README: 'Recording fresh responses') to replace them."
)
RECORDED_NOTE = "Recorded from a live Anthropic-compatible endpoint; see each interaction's date and model."

Json = dict[str, Any]


def request_key(method: str, path: str, body: Any) -> str:
    """What a recording matches on: method, path and body. Never the host or headers."""
    return json.dumps({"method": method, "path": path, "body": body}, sort_keys=True)


def _parse_body(content: bytes) -> Any:
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return content.decode("utf-8", errors="replace")


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
    """Write to a temporary file, then rename over: readers see the old or the new file, never half."""
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
    """One lesson's recordings on disk."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.data = self._read()

    def _read(self) -> Json:
        if not self.path.exists():
            return {"interactions": []}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or not isinstance(data.get("interactions"), list):
                raise ValueError("there is no list of 'interactions' at the top")
            for item in data["interactions"]:
                request, responses = item["request"], item["responses"]
                if not isinstance(responses, list) or not responses:
                    raise ValueError("an interaction has no responses")
                request_key(request["method"], request["path"], request.get("body"))
        except (ValueError, KeyError, TypeError) as err:
            raise CorruptRecordingError(
                f"The recording file {self.path} is damaged and cannot be read ({err}). "
                f"Restore it with `git checkout -- {self.path.name}` in recordings/, or delete it "
                "and record again with a key."
            ) from None
        return data

    @property
    def provenance(self) -> str:
        """'sample', 'recorded', 'mixed', or 'empty' when nothing is recorded yet."""
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

    def save_interaction(self, request: Json, responses: list[Json], *, provenance: str, model: str | None) -> None:
        """Store `responses` as the answer to `request`, merging with what other kernels saved."""
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
            "note": SAMPLE_NOTE if provenance in ("sample", "mixed") else RECORDED_NOTE,
            "recorded_on": max((i.get("recorded_on", "") for i in interactions), default=""),
            "models": sorted({i["model"] for i in interactions if i.get("model")}),
        }
        return (
            json.dumps({**header, "interactions": interactions}, indent=1, sort_keys=False, ensure_ascii=False) + "\n"
        )


# --- server-sent events --------------------------------------------------------


def parse_sse_block(block: bytes) -> Json | None:
    """One SSE event (the lines between blank lines) as {'event', 'data'}; None for comments."""
    event, data_lines = "message", []
    for line in block.decode("utf-8").splitlines():
        if line.startswith("event:"):
            event = line[6:].strip()
        elif line.startswith("data:"):
            data_lines.append(line[5:].lstrip())
    if not data_lines:
        return None
    raw = "\n".join(data_lines)
    try:
        data: Any = json.loads(raw)
    except ValueError:
        data = raw
    return {"event": event, "data": data}


def format_sse_event(event: Json) -> bytes:
    data = event["data"]
    text = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    return f"event: {event['event']}\ndata: {text}\n\n".encode()


class _ReplayedEvents(httpx2.SyncByteStream):
    """A recorded stream, paced by its recorded timings divided by `speed` (0 = instant)."""

    def __init__(self, events: list[Json], speed: float) -> None:
        self.events, self.speed = events, speed

    def __iter__(self) -> Iterator[bytes]:
        previous = 0.0
        for event in self.events:
            at = float(event.get("at", previous))
            if self.speed > 0 and at > previous:
                time.sleep((at - previous) / self.speed)
            previous = at
            yield format_sse_event(event)


class _RecordedEvents(httpx2.SyncByteStream):
    """Passes a live stream through to the SDK while noting each event and when it came."""

    def __init__(self, upstream: httpx2.Response, started: float, on_done: Any) -> None:
        self.upstream, self.started, self.on_done = upstream, started, on_done
        self.events: list[Json] = []
        self.buffer = b""
        self.finished = False

    def _take_events(self) -> None:
        normalised = self.buffer.replace(b"\r\n", b"\n")
        *blocks, self.buffer = normalised.split(b"\n\n")
        for block in blocks:
            event = parse_sse_block(block)
            if event is not None:
                self.events.append({"at": round(time.monotonic() - self.started, 3), **event})

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.upstream.iter_raw():
            self.buffer += chunk
            self._take_events()
            yield chunk
        self._finish()

    def close(self) -> None:
        if not self.finished:  # the reader stopped early: keep the whole stream anyway
            for chunk in self.upstream.iter_raw():
                self.buffer += chunk
                self._take_events()
            self._finish()
        self.upstream.close()

    def _finish(self) -> None:
        if not self.finished:
            self.finished = True
            self.on_done(self.events)


# --- the transport -------------------------------------------------------------


def _kept_headers(headers: httpx2.Headers) -> dict[str, str]:
    return {name: headers[name] for name in KEPT_RESPONSE_HEADERS if name in headers}


def _describe_request(body: Any) -> str:
    """A short human summary of a Messages request, for error messages."""
    if not isinstance(body, dict):
        return "(a request without a JSON body)"
    parts = [f"model={body.get('model')!r}"]
    messages = body.get("messages") or []
    if messages:
        content = messages[-1].get("content")
        if isinstance(content, list):
            content = " ".join(str(block.get("text", f"[{block.get('type')}]")) for block in content)
        text = str(content)
        parts.append(f"{len(messages)} message(s), the last from {messages[-1].get('role')!r}: {text[:80]!r}")
    if body.get("stream"):
        parts.append("streamed")
    return ", ".join(parts)


class WorkbookTransport(httpx2.BaseTransport):
    """Replays, records or forwards each request, according to the mode."""

    def __init__(
        self,
        recording: RecordingFile,
        mode: Mode,
        *,
        has_key: bool,
        upstream: httpx2.BaseTransport | None = None,
        stream_speed: float = 0.0,
    ) -> None:
        self.recording = recording
        self.mode = mode
        self.has_key = has_key
        self.upstream = upstream or httpx2.HTTPTransport()
        self.stream_speed = stream_speed
        self._replay_position: dict[str, int] = {}
        self._recorded_now: dict[str, list[Json]] = {}

    # replay

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        body = _parse_body(request.read())
        stored_request = {"method": request.method, "path": request.url.path, "body": body}
        key = request_key(request.method, request.url.path, body)

        # A request this client already sent live (a retry after a 429, say) goes live again.
        if self.mode in (Mode.AUTO, Mode.REPLAY) and key not in self._recorded_now:
            responses = self.recording.responses_for(key)
            if responses:
                position = self._replay_position.get(key, 0)
                self._replay_position[key] = position + 1
                # Cycle, so re-running a cell replays the same sequence (429 then 200) again.
                return self._replay(responses[position % len(responses)], request)
            if self.mode is Mode.REPLAY or not self.has_key:
                raise MissingRecordingError(self._miss_message(body))

        return self._forward(request, stored_request, key)

    def _miss_message(self, body: Any) -> str:
        where = self.recording.path
        if self.mode is Mode.REPLAY:
            fix = (
                "WORKBOOK_MODE is 'replay', which never calls the API. To get a reply, set "
                "WORKBOOK_MODE=auto and ANTHROPIC_API_KEY in .env (see .env.example); or change the "
                "request back to the one that was recorded (in a notebook: undo your edit to the cell)."
            )
        else:
            fix = (
                "There is no API key to ask the API instead. Put ANTHROPIC_API_KEY=... in .env "
                "(see .env.example) to call the API and record the reply; or change the request back to "
                "the one that was recorded (in a notebook: undo your edit to the cell)."
            )
        return f"Nothing in {where.name} matches this request: {_describe_request(body)}. {fix}"

    def _replay(self, stored: Json, request: httpx2.Request) -> httpx2.Response:
        error = stored.get("error")
        if error == "timeout":
            raise httpx2.ReadTimeout("replayed: the recorded request timed out", request=request)
        if error == "connection":
            raise httpx2.ConnectError("replayed: the recorded request could not connect", request=request)
        headers = dict(stored.get("headers", {}))
        if "events" in stored:
            return httpx2.Response(
                stored["status"], headers=headers, stream=_ReplayedEvents(stored["events"], self.stream_speed)
            )
        if self.stream_speed > 0 and stored.get("elapsed"):
            time.sleep(float(stored["elapsed"]) / self.stream_speed)
        body = stored.get("body")
        content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        return httpx2.Response(stored["status"], headers=headers, content=content)

    # record / live

    def _save(self, stored_request: Json, key: str, response: Json, *, sample: bool) -> None:
        if self.mode is Mode.LIVE:
            return
        # The first reply this session replaces what was recorded before; later ones
        # (a retry after a 429, a second identical call) are kept in order after it.
        responses = self._recorded_now.setdefault(key, [])
        responses.append(response)
        body = stored_request.get("body")
        model = body.get("model") if isinstance(body, dict) else None
        self.recording.save_interaction(
            stored_request, list(responses), provenance="sample" if sample else "recorded", model=model
        )

    def _forward(self, request: httpx2.Request, stored_request: Json, key: str) -> httpx2.Response:
        # Plain bytes from the server, so a stream can be read event by event as it passes.
        request.headers["accept-encoding"] = "identity"
        started = time.monotonic()
        try:
            upstream = self.upstream.handle_request(request)
        except httpx2.TimeoutException:
            self._save(stored_request, key, {"error": "timeout"}, sample=False)
            raise
        except httpx2.NetworkError:
            self._save(stored_request, key, {"error": "connection"}, sample=False)
            raise

        sample = upstream.headers.get(SAMPLE_HEADER) == "true"
        headers = _kept_headers(upstream.headers)
        if upstream.headers.get("content-type", "").startswith("text/event-stream"):

            def save_stream(events: list[Json]) -> None:
                self._save(
                    stored_request,
                    key,
                    {"status": upstream.status_code, "headers": headers, "events": events},
                    sample=sample,
                )

            return httpx2.Response(
                upstream.status_code,
                headers=upstream.headers,
                stream=_RecordedEvents(upstream, started, save_stream),
                request=request,
            )

        content = upstream.read()
        upstream.close()
        stored = {
            "status": upstream.status_code,
            "headers": headers,
            "elapsed": round(time.monotonic() - started, 3),
            "body": _parse_body(content),
        }
        self._save(stored_request, key, stored, sample=sample)
        return httpx2.Response(upstream.status_code, headers=upstream.headers, content=content, request=request)

    def close(self) -> None:
        self.upstream.close()
