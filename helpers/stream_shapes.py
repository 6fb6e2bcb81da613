"""A streamed request's reply in the shape the SDK's stream needs, or one clear line when it cannot be.

Two things a compatible server can do to a stream request, each of which the SDK meets with a bare
`AssertionError` from `get_final_message()`:

- answer it with the whole Message as plain JSON (a server or proxy that does not stream). The
  reply is handed to the SDK as the stream the API would have sent for it, all at once, after one
  notice: the lesson goes on with the text, and knows there was nothing to time.
- begin the stream with another event than `message_start` (llama-server, now and then). The SDK
  cannot assemble a Message from such a stream: StreamWithoutStartError says so, and what to do.

The transport (helpers/transport.py) passes every response to a streamed request through here, in
every mode, so a recording of either shape replays as it was met.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx2

from .errors import WorkbookError
from .wire import encode_event, message_events

Say = Callable[[str], object]

JSON_FOR_A_STREAM = (
    "This server answered a streamed request with one JSON reply, not a stream of events: the workbook "
    "hands the reply on as one stream, all at once, so it streams nothing and its timings are not a stream's."
)


class StreamWithoutStartError(WorkbookError):
    """A stream's first event is not message_start, so the SDK cannot assemble its Message."""


def asks_for_stream(content: bytes) -> bool:
    """Whether a request body asks for a stream (`"stream": true`)."""
    try:
        body = json.loads(content) if content else None
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("stream") is True


def _message_in(response: httpx2.Response, content: bytes) -> dict[str, Any] | None:
    """The Message a 200 JSON reply holds, or None for anything else."""
    kind = response.headers.get("content-type", "")
    if response.status_code != 200 or not kind.startswith("application/json"):
        return None
    try:
        body = json.loads(content)
    except ValueError:
        return None
    return body if isinstance(body, dict) and body.get("type") == "message" else None


def _as_stream(response: httpx2.Response, message: dict[str, Any], request: httpx2.Request) -> httpx2.Response:
    content = b"".join(encode_event(event) for event in message_events(message))
    headers = {**response.headers, "content-type": "text/event-stream"}
    headers.pop("content-length", None)
    headers.pop("content-encoding", None)
    return httpx2.Response(200, headers=headers, content=content, request=request, extensions=response.extensions)


def _is_stream(response: httpx2.Response) -> bool:
    return response.headers.get("content-type", "").startswith("text/event-stream")


def _first_event_name(buffer: bytes) -> str | None:
    """The name of the first complete event in `buffer` that is not a ping, '' when none is complete yet."""
    for block in buffer.replace(b"\r\n", b"\n").split(b"\n\n")[:-1]:
        name = None
        for line in block.decode("utf-8", errors="replace").split("\n"):
            if line.startswith("event:"):
                name = line[len("event:") :].strip()
            elif line.startswith("data:") and name is None:
                try:
                    data = json.loads(line[len("data:") :])
                except ValueError:
                    continue
                name = data.get("type") if isinstance(data, dict) else None
        if name and name != "ping":
            return name
    return ""


def _without_start(name: str, request: httpx2.Request) -> StreamWithoutStartError:
    return StreamWithoutStartError(
        f"The server's stream began with `{name}`, not `message_start`, so the SDK cannot put the reply "
        f"together ({request.url.host} does this now and then). Run the cell again."
    )


class _CheckedStart(httpx2.SyncByteStream, httpx2.AsyncByteStream):
    """Passes a stream's bytes on, after checking that its first event (pings aside) is message_start."""

    def __init__(self, inner: Any, request: httpx2.Request) -> None:
        self.inner, self.request = inner, request
        self.buffer, self.checked = b"", False

    def _pass_on(self, chunk: bytes) -> bytes:
        """What to hand on of `chunk` now: nothing while the first event is incomplete, then all held back."""
        if self.checked:
            return chunk
        self.buffer += chunk
        self.checked = self._check(self.buffer)
        held, self.buffer = (self.buffer, b"") if self.checked else (b"", self.buffer)
        return held

    def _check(self, buffer: bytes) -> bool:
        """True once the first event is known to be message_start; raises when it is another."""
        name = _first_event_name(buffer)
        if name == "":
            return False
        if name != "message_start":
            raise _without_start(name, self.request)
        return True

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.inner:
            if passed := self._pass_on(chunk):
                yield passed
        if self.buffer:  # a stream that ended before its first event was complete
            yield self.buffer

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self.inner:
            if passed := self._pass_on(chunk):
                yield passed
        if self.buffer:
            yield self.buffer

    def close(self) -> None:
        if hasattr(self.inner, "close"):
            self.inner.close()

    async def aclose(self) -> None:
        if hasattr(self.inner, "aclose"):
            await self.inner.aclose()


def _checked(response: httpx2.Response, request: httpx2.Request) -> httpx2.Response:
    response.stream = _CheckedStart(response.stream, request)
    return response


def shaped(response: httpx2.Response, request: httpx2.Request, say: Say = print) -> httpx2.Response:
    """The response to a streamed request as the SDK can read it (see the module's docstring)."""
    if _is_stream(response):
        return _checked(response, request)
    if response.status_code != 200 or not response.headers.get("content-type", "").startswith("application/json"):
        return response
    content = response.read()
    message = _message_in(response, content)
    if message is None:
        return response
    say(JSON_FOR_A_STREAM)
    return _as_stream(response, message, request)


async def shaped_async(response: httpx2.Response, request: httpx2.Request, say: Say = print) -> httpx2.Response:
    """shaped() for the async face."""
    if _is_stream(response):
        return _checked(response, request)
    if response.status_code != 200 or not response.headers.get("content-type", "").startswith("application/json"):
        return response
    content = await response.aread()
    message = _message_in(response, content)
    if message is None:
        return response
    say(JSON_FOR_A_STREAM)
    return _as_stream(response, message, request)
