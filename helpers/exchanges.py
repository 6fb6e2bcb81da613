"""What a recording keeps of an HTTP exchange, in the shapes helpers/recordings.py describes.

A request is kept as its method, its path below the base URL and its body; a response as its
status, the headers worth keeping and its body (JSON, text, or a stream's events); a failure with
no response as its kind and exception, to be raised again on replay. `Arrived` keeps a server's
response as it arrives, for both faces of the transport.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx2

from .recordings import COMPLETE
from .wire import RATE_LIMIT_PREFIX, decode_events, parse_json

Json = dict[str, Any]

# Response headers worth keeping: what the SDK's retry logic and error messages read, when the reply
# was sent (date), and every anthropic-ratelimit-* header (where the organization stands: lessons 05
# and 07 show them). The rest (server, cf-ray, set-cookie, ...) says nothing a lesson needs.
KEPT_RESPONSE_HEADERS = ("content-type", "date", "request-id", "retry-after", "retry-after-ms", "x-should-retry")
KEPT_RESPONSE_HEADER_PREFIXES = (RATE_LIMIT_PREFIX,)

# The stand-in server (tools/standin/) marks its replies with this header,
# so anything recorded from it is labelled a sample, whoever records it.
SAMPLE_HEADER = "x-workbook-sample"


# --- the request -------------------------------------------------------------------


def api_path(url_path: str, base_path: str) -> str:
    """The request's path below the base URL's own path: /v1/messages, behind any gateway."""
    if base_path and url_path.startswith(base_path + "/"):
        return url_path[len(base_path) :]
    return url_path


def body_of(content: bytes) -> Any:
    """A request body as stored: its JSON, or its text."""
    if not content:
        return None
    is_json, value = parse_json(content.decode("utf-8", errors="replace"))
    return value if is_json else content.decode("utf-8", errors="replace")


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


# --- the response, or the failure --------------------------------------------------


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


def _decoded_headers(headers: httpx2.Headers) -> httpx2.Headers:
    """The server's headers for a body handed up already decoded (no gzip or deflate left to undo)."""
    headers = httpx2.Headers(headers)
    if "content-encoding" in headers:
        del headers["content-encoding"]
        headers.pop("content-length", None)
    return headers


class Arrived:
    """A server's response as it arrives, for either face of the transport: what is kept of it (status,
    the kept headers, whether it is a sample), how it is handed up to the SDK, and the stored response
    it makes, read in full or streamed. `save(response, sample=False)` keeps one stored response."""

    def __init__(self, upstream: httpx2.Response, started: float, save: Callable[..., None]) -> None:
        self.started = started
        self.sample = upstream.headers.get(SAMPLE_HEADER) == "true"
        self.status, self.headers = upstream.status_code, _kept_headers(upstream.headers)
        self.upstream_headers = _decoded_headers(upstream.headers)
        self.is_stream = upstream.headers.get("content-type", "").startswith("text/event-stream")
        self.save = save

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

    def stream_ended(self, chunks: list[tuple[float, bytes]], end: Any) -> None:
        """Save a stream's events, from the chunks that arrived with their times, and how it ended."""
        response = {"status": self.status, "headers": self.headers, "events": decode_events(chunks)}
        self.save({**response, "end": end} if end != COMPLETE else response, self.sample)
