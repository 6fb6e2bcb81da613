"""Failures on demand: make any client from get_client() fail in a chosen order, offline.

Real failures are rare and never come when a class is watching. So the failures are made
here, in-process, at the httpx2 transport: the first requests get a 429, a 529, a timeout, a
stream that breaks off with an error event, a 429 for a spent limit... as the API would send
them (status, JSON error body or server-sent events, headers such as retry-after and the
anthropic-ratelimit-* ones), and the requests after that go on to the client's own transport
(replay, record or live).
The SDK above sees real responses, so its typed errors and its own retries behave as they
would against the API.

    flaky = with_faults(client, ["429", "529"])   # two failures, then the real reply
    flaky.messages.create(...)                     # raises anthropic.RateLimitError first
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import anthropic
import httpx2

from . import wire
from .client import client_transport, rebuild_client
from .wire import ERRORS, RateLimit, encode_event, error_body, message_events

# The failures on offer, by status: error type and message as the API sends them (helpers.wire).
STATUS_FAULTS: dict[str, tuple[int, str, str]] = {
    str(status): (status, *ERRORS[status]) for status in (400, 401, 403, 404, 413, 429, 500, 529)
}
# Failures with no response at all: the SDK turns them into APITimeoutError and APIConnectionError.
NETWORK_FAULTS = ("timeout", "connection")
# A stream that starts with status 200, then carries an `error` event (overloaded_error) instead of
# text. The SDK raises it as a plain APIStatusError with status_code 200, and does not retry it.
# A request without streaming cannot fail this way; it gets what the API sends it instead: a 529.
MIDSTREAM_FAULT = "midstream"
# A 429 that no wait clears: the organization has used up the monthly allowance of its usage tier. The
# body is a rate_limit_error like any 429's, plus error.details.error_code, from which the SDK raises
# anthropic.EnforcedSpendLimitReachedError (a RateLimitError; anthropic/_error_classes.py). No
# retry-after, since access returns only at the start of next month; and no x-should-retry, since
# nothing documents the API sending one here: so the SDK's own retries (which read only the status)
# retry it, and a retry rule has to read err.error_code. The message is in our words: its wording
# is not a contract ("don't match on it", says the SDK), the error_code is.
SPEND_LIMIT_FAULT = "spend-limit"
SPEND_LIMIT = (
    "rate_limit_error",
    "enforced_spend_limit_reached",
    "Your organization has reached the monthly API usage limit of its usage tier. "
    "Access resumes at the start of next month, or sooner if you move to a higher tier.",
)
FAULT_NAMES: tuple[str, ...] = (*STATUS_FAULTS, *NETWORK_FAULTS, MIDSTREAM_FAULT, SPEND_LIMIT_FAULT)
# The API path of the calls to the model, for `with_faults(..., paths=MODEL_CALLS)`: an agent's token
# counts (/v1/messages/count_tokens) then pass untouched, and a `midstream` fault meets a real stream.
MODEL_CALLS = ("/v1/messages",)

# The rate limits the injected 429 reports, in the response headers the API documents for them
# (anthropic-ratelimit-requests-*, -input-tokens-*, -output-tokens-* and -tokens-*, their sum: limit,
# remaining, and reset as an RFC 3339 time; helpers.wire builds them). A Tier 1 sized organization,
# in one place: the 429's message (helpers.wire.ERRORS) names the same REQUESTS_PER_MINUTE, and a test
# keeps the two in step; the stand-in server (tools/standin/) keeps limits of the same sizes.
REQUESTS_PER_MINUTE = 50
INPUT_TOKENS_PER_MINUTE = 30_000
OUTPUT_TOKENS_PER_MINUTE = 8_000
TOKENS_PER_MINUTE = INPUT_TOKENS_PER_MINUTE + OUTPUT_TOKENS_PER_MINUTE  # what the tokens-* headers report
INPUT_TOKENS_PER_REQUEST = 250  # what each request of the minute used, on average
OUTPUT_TOKENS_PER_REQUEST = 50
TOKENS_PER_REQUEST = INPUT_TOKENS_PER_REQUEST + OUTPUT_TOKENS_PER_REQUEST


def too_many_requests_headers(retry_after: float, now: datetime | None = None) -> dict[str, str]:
    """The anthropic-ratelimit-* headers of a 429 for too many requests: none left until retry-after.

    The minute's requests are all used, so the request limit resets when retry-after says; they
    used some tokens, which flow back at the limit / 60 a second until each bucket is full.
    """
    now = (now or datetime.now(UTC)).replace(microsecond=0)

    def tokens(limit: int, per_request: int) -> RateLimit:
        used = REQUESTS_PER_MINUTE * per_request
        return RateLimit(limit, limit - used, now + timedelta(seconds=math.ceil(60 * used / limit)))

    return wire.rate_limit_headers(
        {
            "requests": RateLimit(REQUESTS_PER_MINUTE, 0, now + timedelta(seconds=math.ceil(retry_after))),
            "input-tokens": tokens(INPUT_TOKENS_PER_MINUTE, INPUT_TOKENS_PER_REQUEST),
            "output-tokens": tokens(OUTPUT_TOKENS_PER_MINUTE, OUTPUT_TOKENS_PER_REQUEST),
        }
    )


def parse_faults(text: str) -> list[str]:
    """'429,529' -> ['429', '529']; 'none' or '' -> []. Unknown names raise ValueError naming the choices."""
    if text.strip().lower() in ("", "none"):
        return []
    faults = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [fault for fault in faults if fault not in FAULT_NAMES]
    if unknown:
        raise ValueError(f"unknown fault(s) {', '.join(unknown)}; use 'none' or any of {', '.join(FAULT_NAMES)}")
    return faults


@dataclass
class FaultTransport(httpx2.BaseTransport):
    """Answers the first requests with `faults`, in order (then `always`, if set), and passes the rest on.

    retry_after: the seconds a 429 asks the client to wait, sent as retry-after, the header the API
    documents: whole seconds, rounded up. Also sent precisely as retry-after-ms, an extra that the
    API does not document but the SDK reads first (anthropic/_base_client.py,
    _parse_retry_after_header): it keeps the lessons' sub-second waits sub-second. Nothing checks
    that the client waited: a retry that comes too soon is answered like any other request.
    announce: called with one line per request, to make hidden retries visible (print, say).
    paths: when given, only requests whose URL path ends with one of them meet the faults; the others
    pass on untouched, and use up no fault.
    """

    inner: httpx2.BaseTransport
    faults: list[str] = field(default_factory=list)
    always: str | None = None
    retry_after: float = 1.0
    announce: Callable[[str], object] | None = None
    paths: tuple[str, ...] | None = None
    answered: list[str] = field(default_factory=list)  # what each request got: a fault's name, or "passed on"

    def __post_init__(self) -> None:
        self.faults = list(self.faults)
        for fault in [*self.faults, *([self.always] if self.always else [])]:
            if fault not in FAULT_NAMES:
                raise ValueError(f"unknown fault {fault!r}; use one of {', '.join(FAULT_NAMES)}")

    @property
    def requests(self) -> int:
        return len(self.answered)

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        failed = self.fail(request)
        return failed if failed is not None else self.inner.handle_request(request)

    def fail(self, request: httpx2.Request) -> httpx2.Response | None:
        """The injected failure for `request` (a response, or a raised network error); None to pass it on."""
        if self.paths is not None and not request.url.path.rstrip("/").endswith(self.paths):
            return None
        fault = self.faults.pop(0) if self.faults else self.always
        number = len(self.answered) + 1
        retry = request.headers.get("x-stainless-retry-count", "0")
        self.answered.append(fault or "passed on")
        if self.announce is not None:
            what = f"injected {describe_fault(fault, self.retry_after)}" if fault else "passed on to the real transport"
            self.announce(f"  request {number} (SDK retry #{retry}): {what}")
        if fault is None:
            return None
        if fault == "timeout":
            raise httpx2.ReadTimeout("injected fault: no answer within the read timeout", request=request)
        if fault == "connection":
            raise httpx2.ConnectError("injected fault: connection refused", request=request)
        if fault == MIDSTREAM_FAULT:
            body = json.loads(request.content or b"{}")
            if body.get("stream"):
                return self._broken_stream(body, number, request)
            fault = "529"
        if fault == SPEND_LIMIT_FAULT:
            return self._spend_limit(number, request)
        return self._error_response(fault, number, request)

    def _spend_limit(self, number: int, request: httpx2.Request) -> httpx2.Response:
        kind, code, message = SPEND_LIMIT
        request_id = f"req_injected_{number:04d}"
        body = error_body(kind, message, request_id)
        body["error"]["details"] = {"error_code": code}
        headers = {"content-type": "application/json", "request-id": request_id}
        return httpx2.Response(429, headers=headers, json=body, request=request)

    def _broken_stream(self, body: dict, number: int, request: httpx2.Request) -> httpx2.Response:
        """Status 200 and a message_start, then an error event where the text should be."""
        request_id = f"req_injected_{number:04d}"
        message = {
            "id": f"msg_injected_{number:04d}",
            "type": "message",
            "role": "assistant",
            "model": body.get("model", ""),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        _, kind, text = STATUS_FAULTS["529"]
        events = [message_events(message)[0], {"event": "error", "data": error_body(kind, text)}]
        content = b"".join(encode_event(event) for event in events)
        headers = {"content-type": "text/event-stream", "request-id": request_id}
        return httpx2.Response(200, headers=headers, content=content, request=request)

    def _error_response(self, fault: str, number: int, request: httpx2.Request) -> httpx2.Response:
        status, kind, message = STATUS_FAULTS[fault]
        request_id = f"req_injected_{number:04d}"
        headers = {"content-type": "application/json", "request-id": request_id}
        if status == 429:
            headers["retry-after"] = str(math.ceil(self.retry_after))  # 0 only when retry-after-ms is 0 too
            headers["retry-after-ms"] = str(round(self.retry_after * 1000))  # the SDK-read extra (see above)
            headers.update(too_many_requests_headers(self.retry_after))
        return httpx2.Response(status, headers=headers, json=error_body(kind, message, request_id), request=request)

    def close(self) -> None:
        """Leave the inner transport open: the original client still uses it."""


@dataclass
class AsyncFaultTransport(FaultTransport, httpx2.AsyncBaseTransport):
    """FaultTransport for an async client (get_async_client): the same faults, in the same order."""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        failed = self.fail(request)
        return failed if failed is not None else await self.inner.handle_async_request(request)  # type: ignore[attr-defined]

    async def aclose(self) -> None:
        """Leave the inner transport open: the original client still uses it."""


def describe_fault(fault: str | None, retry_after: float = 1.0) -> str:
    if fault is None:
        return "no fault"
    if fault in NETWORK_FAULTS:
        return "a timeout" if fault == "timeout" else "a connection error"
    if fault == MIDSTREAM_FAULT:
        return "200, then an overloaded_error event in the stream"
    if fault == SPEND_LIMIT_FAULT:
        return f"429 {SPEND_LIMIT[0]} ({SPEND_LIMIT[1]}: no wait clears it)"
    status, kind, _ = STATUS_FAULTS[fault]
    extra = f" (retry-after {retry_after:.2f} s)" if status == 429 else ""
    return f"{status} {kind}{extra}"


def with_faults(
    client: anthropic.Anthropic | anthropic.AsyncAnthropic,
    faults: Iterable[str],
    *,
    always: str | None = None,
    retry_after: float = 1.0,
    announce: Callable[[str], object] | None = None,
    paths: Iterable[str] | None = None,
) -> Any:
    """A copy of `client` whose first requests fail with `faults` (then `always`, if given); with
    `paths` (such as MODEL_CALLS), only the requests to those API paths.

    The copy keeps the client's settings (max_retries, timeout, base URL) and its transport, so the
    requests that are not failed are replayed, recorded or sent exactly as before.
    """
    inner = client_transport(client)
    only = tuple(paths) if paths is not None else None
    kind = AsyncFaultTransport if isinstance(client, anthropic.AsyncAnthropic) else FaultTransport
    transport = kind(inner, list(faults), always=always, retry_after=retry_after, announce=announce, paths=only)
    return rebuild_client(client, transport)


def fault_transport(client: anthropic.Anthropic | anthropic.AsyncAnthropic) -> FaultTransport:
    """The FaultTransport under a client from with_faults(), to see what each request got."""
    transport = client_transport(client)
    if not isinstance(transport, FaultTransport):
        raise TypeError("this client was not made by with_faults()")
    return transport
