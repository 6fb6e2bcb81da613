"""The seam under the SDK: an httpx2 transport that replays, records or forwards each request.

The SDK builds every request and reads every response; this transport only decides where
the bytes come from. Live mode hands the server's response up untouched. Record and auto
mode pass it up as it arrives while keeping a copy, and save that copy however the exchange
ends: complete, left early by the reader, broken off by a dropped connection or a timeout.
Replay gives the SDK the same bytes again, and then the same ending.

What is decided per request (match, replay, save) lives in `WorkbookTransport`;
`AsyncWorkbookTransport` is its face for `anthropic.AsyncAnthropic`, sharing that logic and its
state, and differing only where it waits (asyncio.sleep, never time.sleep) and reads
(`aread`, `aiter_bytes`). The byte streams carry no logic beyond pacing and ending.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx2

from .errors import IncompleteRecordingError, MissingRecordingError
from .recordings import COMPLETE, LEFT_EARLY, LessonRecordings, RecordingFile, is_success, request_key
from .settings import Mode
from .wire import RATE_LIMIT_PREFIX, decode_events, encode_event, parse_json, to_json

Json = dict[str, Any]

# Response headers worth keeping: what the SDK's retry logic and error messages read, when the reply
# was sent (date), and every anthropic-ratelimit-* header (where the organization stands: lessons 05
# and 07 show them). The rest (server, cf-ray, set-cookie, ...) says nothing a lesson needs.
KEPT_RESPONSE_HEADERS = ("content-type", "date", "request-id", "retry-after", "retry-after-ms", "x-should-retry")
KEPT_RESPONSE_HEADER_PREFIXES = (RATE_LIMIT_PREFIX,)

# The stand-in server (tools/standin/) marks its replies with this header,
# so anything recorded from it is labelled a sample, whoever records it.
SAMPLE_HEADER = "x-workbook-sample"

# A replayed stream's events, carried on its response so that code above the SDK (the stream
# timing of lesson 04) can read the times they were recorded at.
REPLAYED_EVENTS = "workbook.replayed_events"
# A replayed JSON reply's recorded time from request to reply, in seconds (lesson 07 plans with it).
RECORDED_ELAPSED = "workbook.recorded_elapsed"

# Request headers whose values are secrets, by a word in their name; a value shorter than
# SECRET_MIN_LENGTH (a local server's placeholder key such as "ollama") is not worth hiding.
SECRET_HEADER_WORDS = ("key", "token", "authorization", "secret", "password", "cookie")
SECRET_MIN_LENGTH = 8
REDACTED = "<secret removed>"


# --- what is stored ------------------------------------------------------------


def api_path(url_path: str, base_path: str) -> str:
    """The request's path below the base URL's own path: /v1/messages, behind any gateway."""
    if base_path and url_path.startswith(base_path + "/"):
        return url_path[len(base_path) :]
    return url_path


def secrets_sent(headers: httpx2.Headers) -> list[str]:
    """The secret values in a request's headers (the key, tokens), longest first."""
    found = set()
    for name, value in headers.items():
        if any(word in name.lower() for word in SECRET_HEADER_WORDS):
            found.add(value)
            found.update(value.split())  # "Bearer sk-..." holds the key itself too
    return sorted((s for s in found if len(s) >= SECRET_MIN_LENGTH), key=len, reverse=True)


def scrub(value: Any, secrets: list[str]) -> Any:
    """`value` with every secret in its strings replaced by a placeholder."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {scrub(name, secrets): scrub(item, secrets) for name, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, secrets) for item in value]
    return value


# The delta fields whose pieces a reader joins: a secret may be split across two of them.
_JOINED_DELTAS = {"text_delta": "text", "thinking_delta": "thinking", "input_json_delta": "partial_json"}


def _scrub_pieces(pieces: list[str], secrets: list[str]) -> list[str]:
    """`pieces` with each secret that their joined text spells out removed, the placeholder standing in
    the piece where the secret began: joined again, they read as the scrubbed whole."""
    joined = "".join(pieces)
    hidden = [False] * len(joined)
    starts = set()
    for secret in secrets:
        at = joined.find(secret)
        while at != -1:
            starts.add(at)
            hidden[at : at + len(secret)] = [True] * len(secret)
            at = joined.find(secret, at + len(secret))
    if not starts:
        return pieces
    scrubbed, offset = [], 0
    for piece in pieces:
        kept = [
            REDACTED if offset + i in starts else ch
            for i, ch in enumerate(piece)
            if not hidden[offset + i] or offset + i in starts
        ]
        scrubbed.append("".join(kept))
        offset += len(piece)
    return scrubbed


def scrub_stream(events: list[Json], secrets: list[str]) -> list[Json]:
    """A stream's events with every secret removed, also one split across the deltas of a block."""
    events = scrub(events, secrets)
    runs: dict[tuple[Any, str], list[dict[str, Any]]] = {}
    for event in events:
        delta = event.get("data", {}).get("delta") if event.get("event") == "content_block_delta" else None
        field = _JOINED_DELTAS.get(delta.get("type")) if isinstance(delta, dict) else None
        if field and isinstance(delta.get(field), str):
            runs.setdefault((event["data"].get("index"), field), []).append(delta)
    for (_, field), deltas in runs.items():
        for delta, piece in zip(deltas, _scrub_pieces([d[field] for d in deltas], secrets), strict=True):
            delta[field] = piece
    return events


def body_of(content: bytes) -> Any:
    """A request body as stored: its JSON, or its text."""
    if not content:
        return None
    is_json, value = parse_json(content.decode("utf-8", errors="replace"))
    return value if is_json else content.decode("utf-8", errors="replace")


def response_payload(content: bytes) -> Json:
    """{"body": a JSON object}, or {"text": anything else}: what a response carried."""
    text = content.decode("utf-8", errors="replace")
    is_json, value = parse_json(text)
    return {"body": value} if is_json and isinstance(value, dict) else {"text": text}


def failure_of(error: httpx2.RequestError) -> Json:
    """A transport error as stored: its kind, and the exception to raise again on replay."""
    kind = "timeout" if isinstance(error, httpx2.TimeoutException) else "connection"
    return {"error": kind, "exception": type(error).__name__, "message": str(error)}


def raise_failure(failure: Json, request: httpx2.Request) -> None:
    """Raise the stored transport error again, as the same httpx2 exception with the same message."""
    default = httpx2.ReadTimeout if failure["error"] == "timeout" else httpx2.ConnectError
    exception = getattr(httpx2, failure.get("exception", ""), None)
    if not (isinstance(exception, type) and issubclass(exception, httpx2.RequestError)):
        exception = default
    message = failure.get("message")
    if message is None:  # an async read timeout's message is "", and replays as ""
        message = f"replayed: the recorded request failed ({failure['error']})"
    raise exception(message, request=request)


def is_kept_header(name: str) -> bool:
    """Whether a response header of this (lower-case) name is stored in a recording."""
    return name in KEPT_RESPONSE_HEADERS or name.startswith(KEPT_RESPONSE_HEADER_PREFIXES)


def _kept_headers(headers: httpx2.Headers) -> dict[str, str]:
    return {name: value for name, value in headers.items() if is_kept_header(name)}


def model_of(body: Any) -> str | None:
    """The model a request asks for: a Messages request's, or the one every request of a Message Batch
    names (several, comma-separated, when they differ); None for a request without a body (a GET)."""
    if not isinstance(body, dict):
        return None
    if isinstance(body.get("model"), str):
        return body["model"]
    params = [item.get("params") for item in body.get("requests") or [] if isinstance(item, dict)]
    models = sorted({str(item["model"]) for item in params if isinstance(item, dict) and item.get("model")})
    return ", ".join(models) or None


def _decoded_headers(headers: httpx2.Headers) -> httpx2.Headers:
    """The server's headers for a body handed up already decoded (no gzip or deflate left to undo)."""
    headers = httpx2.Headers(headers)
    if "content-encoding" in headers:
        del headers["content-encoding"]
        headers.pop("content-length", None)
    return headers


# --- the two byte streams ------------------------------------------------------


class ReplayedStream(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """A recorded stream: its events, paced by their recorded times divided by `speed` (0: instant),
    then the way it ended. Read by the sync client (time.sleep) or the async one (asyncio.sleep)."""

    def __init__(self, response: Json, speed: float, request: httpx2.Request, where: str) -> None:
        self.events, self.end = response["events"], response.get("end", COMPLETE)
        self.speed, self.request, self.where = speed, request, where

    def _steps(self) -> Iterator[tuple[float, bytes]]:
        """Each event's bytes, with the seconds to wait before it."""
        previous = 0.0
        for event in self.events:
            at = float(event.get("at", previous))
            wait = (at - previous) / self.speed if self.speed > 0 and at > previous else 0.0
            previous = at
            yield wait, encode_event(event)

    def _finish(self) -> None:
        if self.end == LEFT_EARLY:
            raise IncompleteRecordingError(
                f"The recording of this stream in {self.where} ends after {len(self.events)} events: when it "
                "was recorded, the reader stopped reading there. Read no further (as the recorded code did), "
                "or record the whole reply with a key (`python3 workbook.py forget` drops what auto mode kept)."
            )
        if self.end != COMPLETE:
            raise_failure(self.end, self.request)

    def __iter__(self) -> Iterator[bytes]:
        for wait, chunk in self._steps():
            if wait:
                time.sleep(wait)
            yield chunk
        self._finish()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for wait, chunk in self._steps():
            if wait:
                await asyncio.sleep(wait)
            yield chunk
        self._finish()


class _Recorder:
    """What both recording streams share: the chunks kept with their times, and one report of the end."""

    def __init__(self, upstream: httpx2.Response, started: float, on_end: Callable[[list, Any], None]) -> None:
        self.upstream, self.started, self.on_end = upstream, started, on_end
        self.chunks: list[tuple[float, bytes]] = []
        self.ended = False

    def _keep(self, chunk: bytes) -> bytes:
        self.chunks.append((time.monotonic() - self.started, chunk))
        return chunk

    def _end(self, how: Any) -> None:
        if not self.ended:
            self.ended = True
            self.on_end(self.chunks, how)


class RecordingStream(_Recorder, httpx2.SyncByteStream):
    """Passes a live stream up as it arrives, keeps each chunk with its time, and reports how it ended.

    `on_end(chunks, end)` is called once: when the server finishes the stream, when it fails (the
    error is re-raised for the SDK), or when the reader closes the response before the end. Closing
    never reads the rest of the reply.
    """

    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self.upstream.iter_bytes():  # decoded, if the server compressed it anyway
                yield self._keep(chunk)
        except httpx2.RequestError as error:  # a dropped connection, a read timeout, a body that will not decode
            self._end(failure_of(error))
            raise
        self._end(COMPLETE)

    def close(self) -> None:
        self._end(LEFT_EARLY)
        self.upstream.close()


class AsyncRecordingStream(_Recorder, httpx2.AsyncByteStream):
    """RecordingStream for the async client: the same keeping and ending, read with `aiter_bytes`."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.upstream.aiter_bytes():
                yield self._keep(chunk)
        except httpx2.RequestError as error:
            self._end(failure_of(error))
            raise
        self._end(COMPLETE)

    async def aclose(self) -> None:
        self._end(LEFT_EARLY)
        await self.upstream.aclose()


# --- the transport -------------------------------------------------------------


def _describe_request(body: Any, method: str = "POST", path: str = "/v1/messages") -> str:
    """A short human summary of a Messages request (or another API request), for error messages."""
    if not isinstance(body, dict):
        return f"{method} {path} (a request without a JSON body)"
    if isinstance(body.get("requests"), list):  # a Message Batch
        ids = [item.get("custom_id") for item in body["requests"] if isinstance(item, dict)]
        named = ", ".join(map(repr, ids[:3])) + (", ..." if len(ids) > 3 else "")
        return f"{method} {path}, a Message Batch of {len(ids)} request(s) (custom_id {named})"
    parts = [f"model={body.get('model')!r}"]
    messages = body.get("messages") or []
    if messages and isinstance(messages[-1], dict):
        content = messages[-1].get("content")
        if isinstance(content, list):
            content = " ".join(
                str(block.get("text", f"[{block.get('type')}]")) if isinstance(block, dict) else str(block)
                for block in content
            )
        parts.append(f"{len(messages)} message(s), the last from {messages[-1].get('role')!r}: {str(content)[:80]!r}")
    if body.get("stream"):
        parts.append("streamed")
    return ", ".join(parts)


@dataclass
class Replay:
    """Route: answer from a stored response of `file`."""

    stored: Json
    file: RecordingFile


@dataclass
class Forward:
    """Route: send the request to the server, and save what comes back under `key`."""

    stored_request: Json
    key: str
    secrets: list[str]


class Arrived:
    """A server's response as it arrives, for either face: what is kept of it (status, the kept headers,
    whether it is a sample), how it is handed up to the SDK, and how it is saved, streamed or read."""

    def __init__(self, core: WorkbookTransport, route: Forward, upstream: httpx2.Response, started: float) -> None:
        self.started = started
        self.sample = upstream.headers.get(SAMPLE_HEADER) == "true"
        self.status, self.headers = upstream.status_code, _kept_headers(upstream.headers)
        self.upstream_headers = _decoded_headers(upstream.headers)
        self.is_stream = upstream.headers.get("content-type", "").startswith("text/event-stream")
        self.save = core.saver(route)
        self.on_stream_end = core.stream_saver(route, self.status, self.headers, self.sample)

    def handed_up(self, request: httpx2.Request, **body: Any) -> httpx2.Response:
        return httpx2.Response(self.status, headers=self.upstream_headers, request=request, **body)

    def body_read(self, request: httpx2.Request, content: bytes) -> httpx2.Response:
        """Save a body read in full, with the time it took, and hand it up."""
        elapsed = round(time.monotonic() - self.started, 3)
        self.save(
            {"status": self.status, "headers": self.headers, "elapsed": elapsed, **response_payload(content)},
            self.sample,
        )
        return self.handed_up(request, content=content)


class WorkbookTransport(httpx2.BaseTransport):
    """Replays, records or forwards each request, according to the mode.

    replay: the shipped recordings only. auto: what was improvised, then the shipped recordings;
    with a key, a request that has no successful reply recorded goes to the server, and the reply is
    kept with the improvised ones. record: always the server, saved into the shipped recordings.
    live: always the server, saved nowhere.
    """

    def __init__(
        self,
        recordings: LessonRecordings,
        mode: Mode,
        *,
        has_key: bool,
        base_path: str = "",
        upstream: httpx2.BaseTransport | None = None,
        stream_speed: float = 0.0,
    ) -> None:
        self.recordings = recordings
        self.mode = mode
        self.has_key = has_key
        self.base_path = base_path.rstrip("/")
        self._upstream = upstream
        self.stream_speed = stream_speed
        self.replay_position: dict[str, int] = {}
        self.sent_now: dict[str, list[Json]] = {}  # what this transport got from the server, per request

    @property
    def upstream(self) -> httpx2.BaseTransport:
        """The transport to the server, made when first needed (the async face brings its own)."""
        if self._upstream is None:
            self._upstream = httpx2.HTTPTransport()
        return self._upstream

    @property
    def saves_to(self) -> RecordingFile | None:
        return {Mode.RECORD: self.recordings.shipped, Mode.AUTO: self.recordings.improvised}.get(self.mode)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        if self.mode is Mode.LIVE:
            return self.upstream.handle_request(request)  # exactly what the server sent
        route = self.route(request, request.read())
        if isinstance(route, Replay):
            response, wait = self.replay(route, request)
            if wait:
                time.sleep(wait)
            return response
        return self._forward(request, route)

    def route(self, request: httpx2.Request, content: bytes) -> Replay | Forward:
        """Where the answer to `request` (whose body is `content`) comes from; MissingRecordingError
        when it can come from nowhere. Shared by both faces, with their state."""
        secrets = secrets_sent(request.headers)
        method, path = request.method, api_path(request.url.path, self.base_path)
        stored_request = scrub({"method": method, "path": path, "body": body_of(content)}, secrets)
        key = request_key(method, path, stored_request["body"])

        # A request this transport already sent to the server (a retry after a 429, say) goes there again.
        if self.mode in (Mode.AUTO, Mode.REPLAY) and key not in self.sent_now:
            found = self._recorded(key)
            if found is not None:
                file, responses = found
                if self.mode is Mode.REPLAY or not self.has_key or any(map(is_success, responses)):
                    position = self.replay_position.get(key, 0)
                    self.replay_position[key] = position + 1
                    # Cycle, so re-running a cell replays the same sequence (429 then 200) again.
                    return Replay(responses[position % len(responses)], file)
            if self.mode is Mode.REPLAY or not self.has_key:
                raise MissingRecordingError(self._miss_message(stored_request))
        return Forward(stored_request, key, secrets)

    def _recorded(self, key: str) -> tuple[RecordingFile, list[Json]] | None:
        """The recorded responses to replay for `key`: in auto mode what was improvised comes first,
        but a file with a successful reply wins over one that holds only failures."""
        files = [self.recordings.shipped]
        if self.mode is Mode.AUTO:
            files.insert(0, self.recordings.improvised)
        found = [(file, responses) for file in files if (responses := file.responses_for(key))]
        return next((item for item in found if any(map(is_success, item[1]))), found[0] if found else None)

    def _miss_message(self, stored_request: Json) -> str:
        where = self.recordings.shipped.path
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
        described = _describe_request(stored_request["body"], stored_request["method"], stored_request["path"])
        return f"Nothing in {where.name} matches this request: {described}. {fix}"

    # replay

    def replay(self, route: Replay, request: httpx2.Request) -> tuple[httpx2.Response, float]:
        """The stored response as the server sent it, and the seconds to wait before handing it up (a
        JSON reply's recorded time, paced; a stream paces its own events)."""
        stored = route.stored
        if "error" in stored:
            raise_failure(stored, request)
        headers = dict(stored.get("headers", {}))
        if "events" in stored:
            stream = ReplayedStream(stored, self.stream_speed, request, route.file.path.name)
            extensions = {REPLAYED_EVENTS: stored["events"]}
            return httpx2.Response(stored["status"], headers=headers, stream=stream, extensions=extensions), 0.0
        wait = float(stored["elapsed"]) / self.stream_speed if self.stream_speed > 0 and stored.get("elapsed") else 0.0
        content = stored["text"] if "text" in stored else to_json(stored["body"])
        extensions = {RECORDED_ELAPSED: float(stored.get("elapsed") or 0.0)}
        return httpx2.Response(
            stored["status"], headers=headers, content=content.encode("utf-8"), extensions=extensions
        ), wait

    # record

    def _save(self, stored_request: Json, key: str, response: Json, secrets: list[str], *, sample: bool) -> None:
        file = self.saves_to
        if file is None:
            return
        # The first reply this session replaces what was recorded before; later ones
        # (a retry after a 429, a second identical call) are kept in order after it.
        responses = self.sent_now.setdefault(key, [])
        responses.append(scrub(response, secrets))
        model = model_of(stored_request.get("body"))
        provenance = "sample" if sample else "recorded"
        file.save_interaction(stored_request, list(responses), provenance=provenance, model=model)

    def saver(self, route: Forward) -> Callable[..., None]:
        """save(response, sample=False): keep one of the server's responses to `route`'s request."""

        def save(response: Json, sample: bool = False) -> None:
            self._save(route.stored_request, route.key, response, route.secrets, sample=sample)

        return save

    def stream_saver(self, route: Forward, status: int, headers: dict[str, str], sample: bool) -> Callable[..., None]:
        """on_end(chunks, end) for a recording stream: keep its events and how it ended."""
        save = self.saver(route)

        def save_stream(chunks: list[tuple[float, bytes]], end: Any) -> None:
            events = scrub_stream(decode_events(chunks), route.secrets)
            response = {"status": status, "headers": headers, "events": events}
            save({**response, "end": end} if end != COMPLETE else response, sample)

        return save_stream

    def arrived(self, route: Forward, upstream: httpx2.Response, started: float) -> Arrived:
        """What both faces keep of a server's response as it arrives (see Arrived)."""
        return Arrived(self, route, upstream, started)

    def _forward(self, request: httpx2.Request, route: Forward) -> httpx2.Response:
        started = time.monotonic()
        try:
            upstream = self.upstream.handle_request(request)
        except httpx2.RequestError as error:
            self.saver(route)(failure_of(error))
            raise
        arrived = self.arrived(route, upstream, started)
        if arrived.is_stream:
            return arrived.handed_up(request, stream=RecordingStream(upstream, started, arrived.on_stream_end))
        try:
            content = upstream.read()  # decoded, if the server compressed it anyway
        except httpx2.RequestError as error:  # the body stalled, broke off or would not decode
            arrived.save(failure_of(error))
            raise
        finally:
            upstream.close()
        return arrived.body_read(request, content)

    def close(self) -> None:
        if self._upstream is not None:
            self._upstream.close()


class AsyncWorkbookTransport(httpx2.AsyncBaseTransport):
    """The async face of a WorkbookTransport: the same routing, replay, saving and scrubbing (the
    core's, with its state), waiting with asyncio.sleep and reading the server with the async API."""

    def __init__(self, core: WorkbookTransport, upstream: httpx2.AsyncBaseTransport | None = None) -> None:
        self.core = core
        self.upstream = upstream or httpx2.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        core = self.core
        if core.mode is Mode.LIVE:
            return await self.upstream.handle_async_request(request)
        route = core.route(request, await request.aread())
        if isinstance(route, Replay):
            response, wait = core.replay(route, request)
            if wait:
                await asyncio.sleep(wait)
            return response
        return await self._forward(request, route)

    async def _forward(self, request: httpx2.Request, route: Forward) -> httpx2.Response:
        started = time.monotonic()
        try:
            upstream = await self.upstream.handle_async_request(request)
        except httpx2.RequestError as error:
            self.core.saver(route)(failure_of(error))
            raise
        arrived = self.core.arrived(route, upstream, started)
        if arrived.is_stream:
            return arrived.handed_up(request, stream=AsyncRecordingStream(upstream, started, arrived.on_stream_end))
        try:
            content = await upstream.aread()
        except httpx2.RequestError as error:
            arrived.save(failure_of(error))
            raise
        finally:
            await upstream.aclose()
        return arrived.body_read(request, content)

    async def aclose(self) -> None:
        await self.upstream.aclose()
