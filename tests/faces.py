"""The SDK's two faces behind one set of calls, so that one test checks both: get_client() and get_async_client().

A test that takes the `face` fixture (tests/conftest.py) runs once with each face. It makes its
clients with face.client() (or face.scripted()), and it calls them as the sync SDK is called, each
call passed through face.result(): for the sync face that is the call's result already; for the async
face it is an awaitable, which face.result() runs to its end. The async face runs every call of a
test on one event loop of its own (asyncio.Runner, what asyncio.run is made of), so a client used by
one call can be used by the next, as in a script, and it closes the clients it made on that loop.

The `waits` fixture notes every wait asked for on the test's thread instead of waiting it, and
face.waited() reads the ones that face should make: time.sleep for the sync face; for the async face
asyncio.sleep (the workbook's paced replays) and anyio.sleep (the async SDK's retries). A time.sleep
under the async face would stall every task of the event loop, so face.waited() fails on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import anthropic
import httpx2

from helpers import get_async_client, get_client
from helpers.client import build_async_client, build_client

FACES = ("sync", "async")
Client = anthropic.Anthropic | anthropic.AsyncAnthropic
Message = anthropic.types.Message

# How each face may wait: with anything else, the async face would block its event loop.
ALLOWED_WAITS = {"sync": {"time.sleep"}, "async": {"asyncio.sleep", "anyio.sleep"}}


@dataclass
class Waits:
    """Every wait asked for on a test's own thread, in order: (what was called, its seconds)."""

    seen: list[tuple[str, float]] = field(default_factory=list)

    def clear(self) -> None:
        self.seen.clear()


async def _awaited(call: Awaitable[Any]) -> Any:
    return await call


async def _listed(call: Awaitable[AsyncIterable[Any]]) -> list[Any]:
    return [item async for item in await call]


async def _read_stream(client: anthropic.AsyncAnthropic, request: dict[str, Any]) -> tuple[str, Message]:
    async with client.messages.stream(**request) as stream:
        pieces = [text async for text in stream.text_stream]
        return "".join(pieces), await stream.get_final_message()


class Face:
    """One face of the SDK ("sync" or "async"); close() it when done (the `face` fixture does)."""

    def __init__(self, name: str) -> None:
        if name not in FACES:
            raise ValueError(f"a face is one of {FACES}, not {name!r}")
        self.name = name
        self.is_async = name == "async"
        self._runner = asyncio.Runner() if self.is_async else None
        self._clients: list[anthropic.AsyncAnthropic] = []

    def __repr__(self) -> str:
        return f"Face({self.name!r})"

    def client(self, lesson: str = "lesson", **options: Any) -> Client:
        """get_client(lesson, quiet=True, **options), or get_async_client(...), as the environment says."""
        if not self.is_async:
            return get_client(lesson, quiet=True, **options)
        return self._kept(get_async_client(lesson, quiet=True, **options))

    def scripted(self, answer: Callable[[httpx2.Request], httpx2.Response], *, max_retries: int = 0) -> Client:
        """A client of this face whose every request is answered by `answer`: no recordings, no network."""
        if not self.is_async:
            return build_client(httpx2.MockTransport(answer), api_key="check", max_retries=max_retries)
        return self._kept(build_async_client(httpx2.MockTransport(answer), api_key="check", max_retries=max_retries))

    def result(self, call: Any) -> Any:
        """What a call of this face's client gives: the async face's awaitable, run to its end."""
        return self._run(_awaited(call)) if self.is_async else call

    def listed(self, call: Any) -> list[Any]:
        """Every item of what a call gives, in a list (the async face awaits the call, then reads it `async for`)."""
        return self._run(_listed(call)) if self.is_async else list(call)

    def stream_text(self, client: Client, **request: Any) -> tuple[str, Message]:
        """client.messages.stream(**request) read as a reader would: its text piece by piece, then the final message."""
        if self.is_async:
            return self._run(_read_stream(client, request))  # type: ignore[arg-type]
        with client.messages.stream(**request) as stream:  # type: ignore[union-attr]
            return "".join(stream.text_stream), stream.get_final_message()

    def waited(self, waits: Waits) -> list[float]:
        """The seconds this face waited, in order; a wait of the wrong kind fails the test, naming it."""
        wrong = [(how, seconds) for how, seconds in waits.seen if how not in ALLOWED_WAITS[self.name]]
        assert not wrong, f"the {self.name} face waited with {wrong[0][0]}({wrong[0][1]})" + (
            ", which blocks the event loop" if self.is_async else ""
        )
        # A zero-second sleep is a turn of the event loop (an anyio checkpoint), not a wait.
        return [seconds for _, seconds in waits.seen if seconds]

    def close(self) -> None:
        if self._runner is None:
            return
        for client in self._clients:
            self._runner.run(client.close())
        self._runner.close()

    def _kept(self, client: anthropic.AsyncAnthropic) -> anthropic.AsyncAnthropic:
        self._clients.append(client)
        return client

    def _run(self, coroutine: Any) -> Any:
        assert self._runner is not None, "only the async face runs coroutines"
        return self._runner.run(coroutine)


SYNC = Face("sync")  # for a test that only the sync face has
