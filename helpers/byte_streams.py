"""The byte streams under a streamed response: a recorded stream replayed, a live one recorded as it passes.

They carry no logic beyond pacing and ending: `ReplayedStream` hands the SDK a recording's events
at their recorded pace, then ends as the recording did; `RecordingStream` (and its async twin)
passes the server's bytes up as they arrive, keeping each chunk with its time, and reports once how
the stream ended. What is done with the chunks is the transport's business.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx2

from .errors import IncompleteRecordingError
from .exchanges import failure_of, raise_failure
from .recordings import COMPLETE, LEFT_EARLY
from .wire import encode_event

Json = dict[str, Any]


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
