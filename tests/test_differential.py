"""Differential tests: the bare SDK is the judge.

Each case scripts the exact bytes a server sends (tests/scripted_server.py) and runs
the same request four ways:

    bare    anthropic.Anthropic(base_url=<scripted server>): what the SDK does on its own
    live    get_client() in WORKBOOK_MODE=live, against the same script
    record  get_client() in WORKBOOK_MODE=record, saving to a temporary recordings folder
    replay  get_client() in WORKBOOK_MODE=replay from that folder, with no key and no server

and asserts that live, record and replay each give the bare SDK's outcome: the events a
stream yields, then the final message or the exception (its type and message, and how many
events came before it); for a call that is not streamed, the Message or the exception.

Every case runs with both faces of the SDK: the sync one above, and the async one, where the
judge is anthropic.AsyncAnthropic(base_url=...) and live, record and replay use
get_async_client(); the async reader is the sync one's twin (`async for`, `await`,
`async with`), run in its own event loop with asyncio.run.

Every stream below is built from the documented wire format, with the helpers in the next
section; nothing is copied from another project's fixtures.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import random
import socket
import threading
import zlib
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anthropic
import pydantic
import pytest

from helpers import MODEL, get_async_client, get_client
from helpers.errors import IncompleteRecordingError
from tests.conftest import FAKE_KEY
from tests.scripted_server import Script, ScriptedServer

Json = dict[str, Any]
Event = tuple[str | None, Json]  # (the SSE event name, or None for a data-only event; its data)
Client = anthropic.Anthropic | anthropic.AsyncAnthropic
FACES = ("sync", "async")  # the SDK's two clients: every test below runs with each

CLOSED_PORT = "http://127.0.0.1:9"  # nothing listens here: a replay that touched the network would fail
RUN_BOUND = 20.0  # seconds: a run that takes longer is reported as hung, not waited for
LEAVE_BOUND = 15.0  # seconds: leaving a stream early must return well within this
SHORT_TIMEOUT = 0.5  # the client timeout for the cases that time out on purpose
NORMAL_TIMEOUT = 10.0  # the client timeout for every other case (never reached)
MSG_ID = "msg_01Diff0000000000000000"
REQUEST_ID = "req_01Diff0000000000000000"


# --- the wire format ---------------------------------------------------------------


def usage(input_tokens: int = 0, output_tokens: int = 0) -> Json:
    return {
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def message_start(input_tokens: int = 21) -> Event:
    message = {
        "id": MSG_ID,
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage(input_tokens, 1),
    }
    return "message_start", {"type": "message_start", "message": message}


def block_start(index: int, block: Json) -> Event:
    return "content_block_start", {"type": "content_block_start", "index": index, "content_block": block}


def delta(index: int, kind: str, **fields: Any) -> Event:
    return "content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": kind, **fields}}


def block_stop(index: int) -> Event:
    return "content_block_stop", {"type": "content_block_stop", "index": index}


def message_delta(stop_reason: str = "end_turn", output_tokens: int = 15) -> Event:
    return "message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": output_tokens},
    }


def message_stop() -> Event:
    return "message_stop", {"type": "message_stop"}


def ping() -> Event:
    return "ping", {"type": "ping"}


def error_body(kind: str, message: str, request_id: str = REQUEST_ID) -> Json:
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": request_id}


def error_event(kind: str = "overloaded_error", message: str = "Overloaded") -> Event:
    return "error", error_body(kind, message)


def text_block(index: int, pieces: Sequence[str]) -> list[Event]:
    return [
        block_start(index, {"type": "text", "text": ""}),
        *(delta(index, "text_delta", text=piece) for piece in pieces),
        block_stop(index),
    ]


def text_stream(pieces: Sequence[str], stop_reason: str = "end_turn") -> list[Event]:
    """A whole reply of one text block: what most lessons stream."""
    return [message_start(), *text_block(0, pieces), message_delta(stop_reason), message_stop()]


PIECES = ["An API", " is a contract", " between programs:", " one asks,", " the other", " answers."]
UNICODE_PIECES = ["Caf\u00e9 ", "\u2014 na\u00efve ", "\u65e5\u672c\u8a9e ", "\U0001f642 done"]


def sse_bytes(events: Sequence[Event], *, eol: str = "\n", ascii_only: bool = False) -> bytes:
    """Events framed as server-sent events: `event: X`, `data: {json}`, a blank line."""
    out = []
    for name, data in events:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=ascii_only)
        out.append((f"event: {name}{eol}" if name else "") + f"data: {text}{eol}{eol}")
    return "".join(out).encode()


SSE = {"content-type": "text/event-stream; charset=utf-8", "request-id": REQUEST_ID, "cache-control": "no-cache"}
JSON = {"content-type": "application/json", "request-id": REQUEST_ID}


def stream_script(events: Sequence[Event] | bytes, **options: Any) -> Script:
    body = events if isinstance(events, bytes) else sse_bytes(events)
    return Script(status=200, headers={**SSE, **options.pop("headers", {})}, body=body, **options)


def json_script(status: int, body: Any, headers: dict[str, str] | None = None, **options: Any) -> Script:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Script(status=status, headers={**JSON, **(headers or {})}, body=raw, chunked=False, **options)


def error_script(status: int, kind: str, message: str, request_id: str = REQUEST_ID, **headers: str) -> Script:
    return json_script(status, error_body(kind, message, request_id), {"request-id": request_id, **headers})


def a_message(content: list[Json], stop_reason: str = "end_turn") -> Json:
    return {
        "id": MSG_ID,
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage(21, 15),
    }


def compressed(body: bytes, encoding: str) -> bytes:
    return gzip.compress(body, mtime=0) if encoding == "gzip" else zlib.compress(body)


def seeded_sizes(seed: int, count: int = 64, low: int = 1, high: int = 97) -> list[int]:
    rng = random.Random(seed)
    return [rng.randint(low, high) for _ in range(count)]


TOOL_STREAM = [
    message_start(),
    *text_block(0, ["Let me check", " the weather."]),
    block_start(1, {"type": "tool_use", "id": "toolu_01Diff", "name": "get_weather", "input": {}}),
    delta(1, "input_json_delta", partial_json=""),
    delta(1, "input_json_delta", partial_json='{"city": "Par'),
    delta(1, "input_json_delta", partial_json='is", "unit'),
    delta(1, "input_json_delta", partial_json='": "celsius", "days": [1, 2'),
    delta(1, "input_json_delta", partial_json=", 3]}"),
    block_stop(1),
    message_delta("tool_use", 40),
    message_stop(),
]

THINKING_STREAM = [
    message_start(),
    block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
    delta(0, "thinking_delta", thinking="The user wants"),
    delta(0, "thinking_delta", thinking=" a short definition."),
    delta(0, "signature_delta", signature="EqQBCkYIBRgCKkBsig=="),
    block_stop(0),
    *text_block(1, ["An API is", " a contract."]),
    message_delta("end_turn", 30),
    message_stop(),
]

# A tool input with numbers that a careless round trip would change.
BIG_NUMBERS_INPUT = (
    b'{"big": 123456789012345678901234567890123, "negative_big": -98765432109876543210, '
    b'"pi": 3.14159265358979323846264338327950288, "tiny": 1e-300, "exponent": 2.5E+10, '
    b'"tenth": 0.1, "integral_float": 1.0, "negative_zero": -0.0, "list": [1, 1.5, -7, 100000000000000000000]}'
)


def rich_reply() -> bytes:
    """A Message with thinking, redacted_thinking, text and tool_use blocks; raw JSON for the numbers."""
    content = [
        {"type": "thinking", "thinking": "Weather needs a tool.", "signature": "EqQBCkYIBRgCKkBsig=="},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP"},
        {"type": "text", "text": "I'll check."},
        {"type": "tool_use", "id": "toolu_01Diff", "name": "get_weather", "input": "__INPUT__"},
    ]
    raw = json.dumps(a_message(content, "tool_use")).encode()
    return raw.replace(b'"__INPUT__"', BIG_NUMBERS_INPUT)


HELLO = a_message([{"type": "text", "text": "Hello! \u00bfQu\u00e9 tal? \U0001f642"}])


# --- the cases -----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    script: Script | tuple[Script, ...]
    stream: bool = True  # streamed (run both ways a lesson reads a stream), or a plain create()
    max_retries: int = 0
    timeout: float = NORMAL_TIMEOUT
    call: str = "create"  # for stream=False: "create", "count-tokens" or "parse" (structured output)


def stream_case(id: str, events: Sequence[Event] | bytes, **options: Any) -> Case:
    case_options = {name: options.pop(name) for name in ("max_retries", "timeout") if name in options}
    return Case(id, stream_script(events, **options), **case_options)


def json_case(id: str, *scripts: Script, **options: Any) -> Case:
    return Case(id, scripts[0] if len(scripts) == 1 else scripts, stream=False, **options)


def framed(events: Sequence[Event], eol: str) -> bytes:
    return sse_bytes(events, eol=eol)


DATA_ONLY = [
    message_start(),
    block_start(0, {"type": "text", "text": ""}),
    delta(0, "text_delta", text="Kept,"),
    (None, delta(0, "text_delta", text=" dropped by the SDK (no event: field),")[1]),
    (None, {"type": "ping"}),
    delta(0, "text_delta", text=" kept again."),
    block_stop(0),
    message_delta(),
    message_stop(),
]

COMMENTS_AND_FIELDS = (
    b": a comment the SDK ignores\n\n"
    + sse_bytes([message_start()])
    + b"id: 7\nretry: 1500\n"
    + sse_bytes(text_block(0, ["With id", " and retry fields."]))
    + b": keep-alive\n\n"
    + sse_bytes([message_delta(), message_stop()])
)


def multiline_data(events: Sequence[Event]) -> bytes:
    """Each event's JSON split over several `data:` lines (the SDK joins them with newlines)."""
    out = []
    for name, data in events:
        text = json.dumps(data, indent=1)
        out.append(f"event: {name}\n" + "".join(f"data: {line}\n" for line in text.splitlines()) + "\n")
    return "".join(out).encode()


SURROGATES = sse_bytes(
    [
        message_start(),
        *text_block(0, ["Smile: ", "\ud83d", "\ude00", "!"]),
        message_delta(),
        message_stop(),
    ],
    ascii_only=True,  # the JSON escapes \ud83d and \ude00: each alone is not valid UTF-8
)

PINGS = [
    message_start(),
    ping(),
    block_start(0, {"type": "text", "text": ""}),
    *(delta(0, "text_delta", text=piece) for piece in PIECES[:3]),
    ping(),
    *(delta(0, "text_delta", text=piece) for piece in PIECES[3:]),
    block_stop(0),
    ping(),
    message_delta(),
    message_stop(),
]


def overloaded(attempt: int) -> Script:
    """A 529 that asks for a 1 ms wait; each attempt has its own request id, so a replay cannot skip one."""
    return error_script(529, "overloaded_error", "Overloaded", f"req_01DiffAttempt{attempt}", **{"retry-after-ms": "1"})


ALL_EVENTS_THEN = text_stream(PIECES)  # a whole stream, message_stop included, before the scripted ending

CASES = [
    # what a stream carries
    stream_case("text-with-pings", PINGS),
    stream_case("tool-use-input-json-deltas", TOOL_STREAM),
    stream_case("thinking-then-text", THINKING_STREAM),
    stream_case("refusal", text_stream(["I can't help", " with that."], stop_reason="refusal")),
    stream_case("unicode-text", text_stream(UNICODE_PIECES)),
    stream_case("lone-surrogates-split-over-deltas", SURROGATES),
    # how it fails
    stream_case("error-event-mid-stream", [*text_stream(PIECES)[:4], error_event()]),
    stream_case("drop-mid-stream", text_stream(PIECES)[:5], ending="drop"),
    stream_case("drop-right-after-headers", b"", ending="drop"),
    stream_case("drop-mid-event", sse_bytes(text_stream(PIECES)[:5])[:-7], ending="drop"),
    stream_case("timeout-mid-stream", text_stream(PIECES)[:5], ending="hang", timeout=SHORT_TIMEOUT),
    stream_case("timeout-before-first-event", b"", ending="hang", timeout=SHORT_TIMEOUT),
    stream_case("drop-after-message-stop", ALL_EVENTS_THEN, ending="drop"),
    stream_case("hang-after-message-stop", ALL_EVENTS_THEN, ending="hang", timeout=SHORT_TIMEOUT),
    # framing
    stream_case("framing-crlf", framed(text_stream(PIECES), "\r\n")),
    stream_case("framing-bare-cr", framed(text_stream(PIECES), "\r")),
    stream_case("framing-crlf-1-byte-chunks", framed(text_stream(PIECES), "\r\n"), chunk_size=1),
    stream_case("framing-bare-cr-1-byte-chunks", framed(text_stream(PIECES), "\r"), chunk_size=1),
    stream_case("data-only-events-are-skipped", DATA_ONLY),
    stream_case("comments-id-and-retry-fields", COMMENTS_AND_FIELDS),
    stream_case("multi-line-data", multiline_data(text_stream(PIECES[:3]))),
    # chunk sizes
    stream_case("one-chunk", text_stream(PIECES), chunk_size=None),
    stream_case("1-byte-chunks", text_stream(UNICODE_PIECES), chunk_size=1),
    stream_case("seeded-chunks-7", TOOL_STREAM, chunk_size=seeded_sizes(7)),
    stream_case("seeded-chunks-1234", text_stream(UNICODE_PIECES), chunk_size=seeded_sizes(1234), pause=0.001),
    stream_case("content-length-stream", text_stream(PIECES), chunked=False, chunk_size=seeded_sizes(5)),
    # compression, whatever the client asked for
    stream_case("gzip-stream", compressed(sse_bytes(TOOL_STREAM), "gzip"), headers={"content-encoding": "gzip"}),
    stream_case(
        "deflate-stream-chunked-small",
        compressed(sse_bytes(text_stream(PIECES)), "deflate"),
        headers={"content-encoding": "deflate"},
        chunk_size=seeded_sizes(99, low=1, high=9),
    ),
    json_case(
        "gzip-json", json_script(200, compressed(json.dumps(HELLO).encode(), "gzip"), {"content-encoding": "gzip"})
    ),
    json_case(
        "deflate-json",
        json_script(200, compressed(json.dumps(HELLO).encode(), "deflate"), {"content-encoding": "deflate"}),
    ),
    # replies that are not streamed
    json_case("json-plain", json_script(200, HELLO)),
    json_case("json-rich-blocks-and-big-numbers", json_script(200, rich_reply())),
    json_case("json-chunked-1-byte", Script(status=200, headers=JSON, body=json.dumps(HELLO).encode(), chunk_size=1)),
    json_case(
        "json-stalled-body",
        Script(status=200, headers=JSON, body=b"", chunked=False, content_length=400, ending="hang"),
        timeout=SHORT_TIMEOUT,
    ),
    json_case(
        "json-drop-mid-body", json_script(200, json.dumps(HELLO).encode()[:40], content_length=400, ending="drop")
    ),
    # HTTP errors
    json_case("400", error_script(400, "invalid_request_error", "max_tokens: Field required")),
    json_case("401", error_script(401, "authentication_error", "invalid x-api-key")),
    json_case("404", error_script(404, "not_found_error", "model: claude-nope")),
    json_case("429-retry-after", error_script(429, "rate_limit_error", "Rate limited", **{"retry-after": "7"})),
    json_case("500", error_script(500, "api_error", "Internal server error")),
    json_case("529", error_script(529, "overloaded_error", "Overloaded")),
    json_case("502-html", json_script(502, b"<html><body>Bad gateway</body></html>", {"content-type": "text/html"})),
    Case("529-on-a-stream", error_script(529, "overloaded_error", "Overloaded")),
    # retries
    Case("retry-529-then-stream", (overloaded(1), stream_script(text_stream(PIECES))), max_retries=2),
    json_case("retry-529-then-json", overloaded(1), json_script(200, HELLO), max_retries=2),
    json_case("retry-529-exhausted", overloaded(1), overloaded(2), overloaded(3), max_retries=2),
    json_case(
        "x-should-retry-false",
        error_script(500, "api_error", "Do not retry this", **{"x-should-retry": "false"}),
        json_script(200, HELLO),
        max_retries=2,
    ),
    json_case(
        "retry-after-a-drop",
        Script(status=200, headers=JSON, body=b"", chunked=False, content_length=400, ending="drop"),
        json_script(200, HELLO),
        max_retries=2,
    ),
    # counting tokens (lesson 06's guard), and a server without the endpoint (some local ones)
    json_case("count-tokens", json_script(200, {"input_tokens": 1234}), call="count-tokens"),
    json_case("count-tokens-404", error_script(404, "not_found_error", "Not found"), call="count-tokens"),
    json_case(
        "count-tokens-429-then-ok",
        error_script(429, "rate_limit_error", "Too many requests", **{"retry-after": "0"}),
        json_script(200, {"input_tokens": 7}),
        max_retries=2,
        call="count-tokens",
    ),
    # structured output read into a pydantic model: a reply that fits, and one that is not JSON
    json_case("parse", json_script(200, a_message([{"type": "text", "text": '{"city": "Ottawa"}'}])), call="parse"),
    json_case("parse-not-json", json_script(200, a_message([{"type": "text", "text": "Ottawa."}])), call="parse"),
]


# --- running one case four ways -------------------------------------------------------


def outcome_of_error(err: BaseException) -> Json:
    kind = f"{type(err).__module__.split('.')[0]}.{type(err).__name__}"
    out: Json = {"type": kind, "message": str(err)}
    if isinstance(err, anthropic.APIStatusError):
        out["status"] = err.status_code
        out["body"] = err.body
        out["request_id"] = err.request_id
        out["headers"] = {name: err.response.headers.get(name) for name in ("retry-after", "x-should-retry")}
    return out


def request_kwargs(case: Case) -> Json:
    return {"model": MODEL, "max_tokens": 256, "messages": [{"role": "user", "content": f"differential: {case.id}"}]}


@contextlib.contextmanager
def counting_retries() -> Iterator[list[str]]:
    """The SDK's own "Retrying request" log lines while the block runs: how many retries it made."""
    logger = logging.getLogger("anthropic._base_client")
    retries: list[str] = []

    class Counter(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.getMessage().startswith("Retrying request"):
                retries.append(record.getMessage())

    handler, level = Counter(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield retries
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def closing(client: Client, work: Callable[[Any], Any]) -> Any:
    """work(client), then the client closed. For an async client `work` returns a coroutine, and it
    runs and the client closes in one event loop of its own (asyncio.run), as a script would."""
    if isinstance(client, anthropic.AsyncAnthropic):

        async def in_a_loop() -> Any:
            try:
                return await work(client)
            finally:
                await client.close()

        return asyncio.run(in_a_loop())
    try:
        return work(client)
    finally:
        client.close()


def run(client: Client, case: Case, style: str) -> Json:
    """What a reader of this reply sees, and how many retries the SDK made, in a form that compares with ==.
    The client is closed afterwards."""
    reader: Callable[[Any, Case, str], Any] = aread if isinstance(client, anthropic.AsyncAnthropic) else read
    with counting_retries() as retries:
        outcome = closing(client, lambda client: reader(client, case, style))
    return {**outcome, "retries": len(retries)}


def read(client: anthropic.Anthropic, case: Case, style: str) -> Json:
    kwargs = request_kwargs(case)
    if style == "count-tokens":
        del kwargs["max_tokens"]
        try:
            return {"count": client.messages.count_tokens(**kwargs).model_dump()}
        except Exception as err:
            return {"error": outcome_of_error(err)}
    if style == "parse":
        try:
            parsed = client.messages.parse(**kwargs, output_format=City)
        except Exception as err:
            return {"error": outcome_of_error(err)}
        return {"message": parsed.model_dump(), "parsed": parsed.parsed_output.model_dump()}
    if style == "create":
        try:
            message = client.messages.create(**kwargs)
        except Exception as err:
            return {"error": outcome_of_error(err)}
        return {"message": message.model_dump(), "request_id": message._request_id}
    events: list[Json] = []
    try:
        if style == "create-stream":
            for event in client.messages.create(**kwargs, stream=True):
                events.append(event.model_dump())
            return {"events": events, "end": "finished"}
        with client.messages.stream(**kwargs) as stream:
            for event in stream:
                events.append(event.model_dump())
            final = stream.get_final_message()
        return {"events": events, "final": final.model_dump()}
    except Exception as err:
        return {"events": events, "error": outcome_of_error(err), "events_before_error": len(events)}


async def aread(client: anthropic.AsyncAnthropic, case: Case, style: str) -> Json:
    """read(), with the async SDK: the same calls awaited, the same outcome."""
    kwargs = request_kwargs(case)
    if style == "count-tokens":
        del kwargs["max_tokens"]
        try:
            return {"count": (await client.messages.count_tokens(**kwargs)).model_dump()}
        except Exception as err:
            return {"error": outcome_of_error(err)}
    if style == "parse":
        try:
            parsed = await client.messages.parse(**kwargs, output_format=City)
        except Exception as err:
            return {"error": outcome_of_error(err)}
        return {"message": parsed.model_dump(), "parsed": parsed.parsed_output.model_dump()}
    if style == "create":
        try:
            message = await client.messages.create(**kwargs)
        except Exception as err:
            return {"error": outcome_of_error(err)}
        return {"message": message.model_dump(), "request_id": message._request_id}
    events: list[Json] = []
    try:
        if style == "create-stream":
            async for event in await client.messages.create(**kwargs, stream=True):
                events.append(event.model_dump())
            return {"events": events, "end": "finished"}
        async with client.messages.stream(**kwargs) as stream:
            async for event in stream:
                events.append(event.model_dump())
            final = await stream.get_final_message()
        return {"events": events, "final": final.model_dump()}
    except Exception as err:
        return {"events": events, "error": outcome_of_error(err), "events_before_error": len(events)}


def bounded(work: Callable[[], Json], bound: float = RUN_BOUND) -> Json:
    """Run `work` in a thread; a run that does not finish within `bound` becomes a 'hung' outcome."""
    result: list[Json] = []
    failure: list[BaseException] = []

    def target() -> None:
        try:
            result.append(work())
        except BaseException as err:
            failure.append(err)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(bound)
    if thread.is_alive():
        return {"hung": f"did not finish within {bound:.0f} s"}
    if failure:
        raise failure[0]
    return result[0]


def differs(got: Any, want: Any) -> bool:
    """Unequal, or equal but shown differently (1 and 1.0, 0.0 and -0.0, keys in another order)."""
    return got != want or repr(got) != repr(want)


def first_difference(got: Any, want: Any, where: str = "") -> str:
    """A short description of the first place two outcomes differ.

    At the top a different ending (an error where the bare SDK finished, say) is the headline;
    inside, the first differing field is (an error's type before its other fields).
    """
    if isinstance(got, dict) and isinstance(want, dict):
        missing, extra = [k for k in want if k not in got], [k for k in got if k not in want]
        if where:
            for key in want:
                if key in got and differs(got[key], want[key]):
                    return first_difference(got[key], want[key], f"{where}{key}.")
        if missing or extra:
            has = ", ".join(f"{k}={short(got[k], 200)}" for k in extra) or "nothing more"
            lacks = ", ".join(f"{k}={short(want[k], 120)}" for k in missing) or "nothing more"
            return f"{where.rstrip('.') or 'outcome'}: got {has}, the bare SDK {lacks}"
        for key in want:
            if differs(got[key], want[key]):
                return first_difference(got[key], want[key], f"{where}{key}.")
    if isinstance(got, list) and isinstance(want, list):
        for index, (a, b) in enumerate(zip(got, want, strict=False)):
            if differs(a, b):
                return first_difference(a, b, f"{where}{index}.")
        if len(got) != len(want):
            return f"{where.rstrip('.')}: {len(got)} items, the bare SDK {len(want)}"
    return f"{where.rstrip('.')}: {short(got)}, the bare SDK {short(want)}"


def short(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def workbook_env(monkeypatch: pytest.MonkeyPatch, mode: str, folder: Path, base_url: str, key: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    monkeypatch.setenv("WORKBOOK_MODE", mode)
    monkeypatch.setenv("WORKBOOK_RECORDINGS_DIR", str(folder))
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", base_url)
    monkeypatch.setenv("WORKBOOK_STREAM_SPEED", "0")


def workbook_client(case: Case, face: str = "sync") -> Client:
    make = get_async_client if face == "async" else get_client
    return make("diff", quiet=True, max_retries=case.max_retries, timeout=case.timeout, stream_speed=0)


def bare_client(case: Case, face: str, base_url: str) -> Client:
    """The judge: the SDK's own client of that face, straight at the server."""
    make = anthropic.AsyncAnthropic if face == "async" else anthropic.Anthropic
    return make(api_key=FAKE_KEY, base_url=base_url, max_retries=case.max_retries, timeout=case.timeout)


def styles(case: Case) -> list[str]:
    return ["create-stream", "stream-helper"] if case.stream else [case.call]


class City(pydantic.BaseModel):
    """The structured output the parse cases ask for."""

    city: str


PARAMS = [
    pytest.param(case, style, face, id=f"{case.id}.{style}.{face}")
    for case in CASES
    for style in styles(case)
    for face in FACES
]


@pytest.mark.parametrize(("case", "style", "face"), PARAMS)
def test_workbook_client_matches_the_bare_sdk(case: Case, style: str, face: str, recordings: Path, monkeypatch):
    with ScriptedServer(case.script) as server:
        bare = bare_client(case, face, server.url)
        expected = bounded(lambda: run(bare, case, style))
        sent = [(r.method, r.path, r.json()) for r in server.requests]
    assert "hung" not in expected, f"the bare {face} SDK itself hung on case {case.id}: the case is wrong"
    assert expected["retries"] == len(sent) - 1, "the SDK's retry log lines no longer count its retries"

    problems = []

    def check(mode: str, got: Json, requests: list[Any] | None = None) -> None:
        if differs(got, expected):
            problems.append(f"{mode} differs from the bare SDK: {first_difference(got, expected)}")
        elif requests is not None and requests != sent:
            problems.append(f"{mode} sent {len(requests)} request(s) where the bare SDK sent {len(sent)}")

    for mode in ("live", "record"):
        with ScriptedServer(case.script) as server:
            workbook_env(monkeypatch, mode, recordings / mode, server.url, FAKE_KEY)
            client = workbook_client(case, face)
            got = bounded(lambda client=client: run(client, case, style))
            check(mode, got, [(r.method, r.path, r.json()) for r in server.requests])

    workbook_env(monkeypatch, "replay", recordings / "record", CLOSED_PORT, "")
    try:
        client = workbook_client(case, face)
    except Exception as err:  # get_client itself refused, say a recording it cannot read
        got = {"client": outcome_of_error(err)}
    else:
        got = bounded(lambda: run(client, case, style))
    check("replay", got)

    if problems:
        pytest.fail(f"case {case.id} [{style}, {face}]: " + "; ".join(problems), pytrace=False)


# --- leaving a stream early ----------------------------------------------------------------

LEAVE_EARLY = Case("leave-early", stream_script(text_stream(PIECES)[:6], ending="hang"), timeout=60.0)


def read_two_pieces(client: anthropic.Anthropic) -> list[str]:
    """A reader who stops after two pieces of text: leaves the `with` block mid-stream."""
    pieces: list[str] = []
    with client.messages.stream(**request_kwargs(LEAVE_EARLY)) as stream:
        for text in stream.text_stream:
            pieces.append(text)
            if len(pieces) == 2:
                break
    return pieces


async def aread_two_pieces(client: anthropic.AsyncAnthropic) -> list[str]:
    """read_two_pieces() with the async SDK: leaves the `async with` block mid-stream."""
    pieces: list[str] = []
    async with client.messages.stream(**request_kwargs(LEAVE_EARLY)) as stream:
        async for text in stream.text_stream:
            pieces.append(text)
            if len(pieces) == 2:
                break
    return pieces


def leave_outcome(client: Client) -> Json:
    """What a reader who leaves after two pieces sees (the client is closed afterwards), or 'hung'."""
    reader: Callable[[Any], Any] = aread_two_pieces if isinstance(client, anthropic.AsyncAnthropic) else read_two_pieces

    def leave() -> Json:
        try:
            return {"pieces": closing(client, reader)}
        except Exception as err:
            return {"error": outcome_of_error(err)}

    return bounded(leave, LEAVE_BOUND)


@pytest.mark.parametrize("face", FACES)
def test_leaving_a_stream_early_neither_raises_nor_waits_for_the_rest(face: str, recordings: Path, monkeypatch):
    with ScriptedServer(LEAVE_EARLY.script) as server:
        expected = leave_outcome(bare_client(LEAVE_EARLY, face, server.url))
    assert expected == {"pieces": PIECES[:2]}, f"the bare {face} SDK itself: {expected}"

    problems = []
    for mode in ("live", "record"):
        with ScriptedServer(LEAVE_EARLY.script) as server:
            workbook_env(monkeypatch, mode, recordings / mode, server.url, FAKE_KEY)
            got = leave_outcome(workbook_client(LEAVE_EARLY, face))
        if differs(got, expected):
            problems.append(f"{mode} differs from the bare SDK: {first_difference(got, expected)}")

    workbook_env(monkeypatch, "replay", recordings / "record", CLOSED_PORT, "")
    got = leave_outcome(workbook_client(LEAVE_EARLY, face))
    if differs(got, expected):
        problems.append(f"replay differs from the bare SDK: {first_difference(got, expected)}")
    if problems:
        pytest.fail(f"case leave-early [{face}]: " + "; ".join(problems), pytrace=False)


def read_everything(client: anthropic.Anthropic, pieces: list[str]) -> Json:
    """A reader who reads the whole stream, text into `pieces`, then asks for the final message."""
    with client.messages.stream(**request_kwargs(LEAVE_EARLY)) as stream:
        pieces.extend(stream.text_stream)
        return {"final": stream.get_final_message().model_dump()}


async def aread_everything(client: anthropic.AsyncAnthropic, pieces: list[str]) -> Json:
    async with client.messages.stream(**request_kwargs(LEAVE_EARLY)) as stream:
        async for text in stream.text_stream:
            pieces.append(text)
        return {"final": (await stream.get_final_message()).model_dump()}


@pytest.mark.parametrize("face", FACES)
def test_a_replay_that_reads_past_the_recorded_end_says_the_recording_ends(face: str, recordings: Path, monkeypatch):
    with ScriptedServer(LEAVE_EARLY.script) as server:
        workbook_env(monkeypatch, "record", recordings, server.url, FAKE_KEY)
        recorded = leave_outcome(workbook_client(LEAVE_EARLY, face))
    assert recorded == {"pieces": PIECES[:2]}, f"recording the early leave went wrong: {recorded}"

    workbook_env(monkeypatch, "replay", recordings, CLOSED_PORT, "")
    client = workbook_client(LEAVE_EARLY, face)
    pieces: list[str] = []
    reader: Callable[[Any, list[str]], Json | Awaitable[Json]] = (
        aread_everything if face == "async" else read_everything
    )

    with pytest.raises(IncompleteRecordingError) as caught:
        bounded(lambda: closing(client, lambda client: reader(client, pieces)), LEAVE_BOUND)
    assert pieces[:2] == PIECES[:2], "the replay gives what was recorded before it says where the recording ends"
    message = str(caught.value).lower()
    assert any(word in message for word in ("ends", "ended", "end of the recording", "stops")), message


# --- the scripted server itself ------------------------------------------------------------


def raw_exchange(server: ScriptedServer, body: bytes = b"{}") -> bytes:
    """One request over a plain socket, and every byte that comes back until the server closes."""
    request = b"POST /v1/messages HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: %d\r\n\r\n%s"
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(request % (len(body), body))
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    return received


def test_the_scripted_server_sends_exactly_the_scripted_bytes():
    script = Script(status=529, headers={"x-a": "1"}, body=b"abcdefg", chunk_size=[1, 4], ending="drop")
    with ScriptedServer([script]) as server:
        received = raw_exchange(server, b'{"q": 1}')
        second = raw_exchange(server)
    framing = b"1\r\na\r\n4\r\nbcde\r\n1\r\nf\r\n1\r\ng\r\n"  # sizes 1, 4, 1, then what is left; no 0-chunk
    assert received == b"HTTP/1.1 529 Overloaded\r\nx-a: 1\r\ntransfer-encoding: chunked\r\n\r\n" + framing
    assert [(r.method, r.path, r.json()) for r in server.requests[:1]] == [("POST", "/v1/messages", {"q": 1})]
    assert second.startswith(b"HTTP/1.1 500 ") and b"no script left for request 1" in second
