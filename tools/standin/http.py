"""The stand-in's HTTP side: the request handler (routes, keys, faults, the Messages and Message Batches
endpoints), the server, and StandinServer, which runs one in a background thread."""

from __future__ import annotations

import json
import math
import re
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from helpers import faults, wire
from helpers.exchanges import SAMPLE_HEADER
from tools import token_estimate
from tools.standin import batches, replies, rules
from tools.standin.state import StandinState

# The failures it can answer with: status, error type and message as helpers.wire has them.
ERRORS: dict[str, tuple[int, str, str, dict[str, str]]] = {
    str(status): (status, *wire.ERRORS[status], {"retry-after": "1"} if status == 429 else {})
    for status in (400, 401, 404, 429, 500, 529)
}
FAULTS = (*ERRORS, "timeout")
# llama-server's names for the error types the API names otherwise.
LLAMA_CPP_ERROR_TYPES = {"api_error": "server_error", "overloaded_error": "unavailable_error"}
LLAMA_CPP_CONTEXT = 8192  # the context `workbook.py local` starts llama-server with
# What a server that lacks an endpoint answers, by status (`missing`): a web server's plain text, a JSON
# error of its own, or a whole HTML page.
MISSING_ENDPOINT_REPLIES = {
    404: ("text/plain; charset=utf-8", b"404 page not found"),
    405: ("text/plain; charset=utf-8", b"Method Not Allowed"),
    500: ("application/json", b'{"error": {"code": 500, "message": "Internal Server Error", "type": "server_error"}}'),
    501: (
        "text/html; charset=utf-8",
        b"<!DOCTYPE html>\n<html><head><title>501 Not Implemented</title></head>\n<body><h1>Not Implemented</h1>\n"
        b"<p>The server does not support the action requested.</p>\n<hr><address>proxy</address></body></html>\n",
    ),
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read their own output
        pass

    def _send(self, status: int, chunks: Iterable[bytes], content_type: str, headers: dict[str, str]) -> None:
        """Send with chunked transfer encoding, as the real API does."""
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("transfer-encoding", "chunked")
        if self.server.state.mark_as_sample:
            self.send_header(SAMPLE_HEADER, "true")
        for name, value in headers.items():
            if name != "request-id" or not self.server.state.llama_cpp:  # llama-server sends no request id
                self.send_header(name, value)
        self.end_headers()
        for chunk in chunks:
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _send_json(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
        self._send(status, [json.dumps(payload).encode()], "application/json", headers)

    def _error(self, status: int, kind: str, message: str, headers: dict[str, str]) -> None:
        if self.server.state.llama_cpp:  # no top-level "type": "error", and types of its own
            kind = LLAMA_CPP_ERROR_TYPES.get(kind, kind)
            self._send_json(status, {"error": {"code": status, "message": message, "type": kind}}, headers)
            return
        self._send_json(status, wire.error_body(kind, message, headers["request-id"]), headers)

    # --- what every request goes through ---------------------------------------------------------

    def _arrived(self) -> tuple[Any, dict[str, str]]:
        """The request's JSON body (None when it has none or it is not JSON), noted in the state, and
        the headers every reply to it carries (its request id)."""
        state = self.server.state
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        with state.lock:
            noted = {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
            state.requests.append(noted)
            number = len(state.requests)
        return body, {"request-id": f"req_sample_{replies.digest([body, number], 20)}"}

    def _turned_away(self, headers: dict[str, str], *, limits: bool = False) -> bool:
        """Answer for the endpoint when the request has no key or meets a fault (after hanging, for a
        timeout, without an answer); True when it was answered so. With `limits`, a fault's reply
        carries the rate-limit headers too: a 429 those of a spent request limit (helpers.faults)."""
        state = self.server.state
        has_key = self.headers.get("authorization") or self.headers.get("x-api-key")
        if not has_key and not state.llama_cpp:  # llama-server asks for no key unless started with one
            self._error(401, "authentication_error", "x-api-key header is required", headers)
            return True
        fault = state.next_fault()
        if fault == "timeout":
            time.sleep(state.hang_seconds)
            return True
        if fault is None:
            return False
        status, kind, message, extra = ERRORS[fault]
        if limits:
            with state.lock:
                extra = {**state.limit_headers(time.time()), **extra}
            if status == 429:
                extra.update(faults.too_many_requests_headers(float(extra["retry-after"])))
        self._error(status, kind, message, {**headers, **extra})
        return True

    def _route(self) -> tuple[str, re.Match[str] | None]:
        path = urlsplit(self.path).path.rstrip("/")
        if path.endswith("/v1/messages/count_tokens"):
            return "count_tokens", None
        if path.endswith("/v1/messages"):
            return "messages", None
        if path.endswith(batches.BATCHES_PATH):
            return "batches", None
        found = batches.BATCH_PATH.search(path)
        return ("batch", found) if found else ("unknown", None)

    def _handle(self, method: str) -> None:
        state = self.server.state
        body, headers = self._arrived()
        endpoint, found = self._route()
        allowed = {"count_tokens": ("POST",), "messages": ("POST",), "batches": ("POST", "GET")}
        if endpoint == "batch":
            action = found["action"] if found else None
            allowed["batch"] = ("POST",) if action == "/cancel" else ("GET",) if action else ("GET", "DELETE")
        missing = state.missing.get("batches" if endpoint == "batch" else endpoint)
        if missing is not None:
            content_type, page = MISSING_ENDPOINT_REPLIES[missing]
            self._send(missing, [page], content_type, headers)
            return
        # A local model's server has neither token counting nor batches; llama-server counts tokens.
        served = ("messages", "count_tokens") if state.llama_cpp else ("messages",)
        local_only = (state.plain_text or state.llama_cpp) and endpoint not in served
        if endpoint == "unknown" or local_only or method not in allowed.get(endpoint, ()):
            self._error(404, "not_found_error", f"Not found: {method} {self.path}", headers)
            return
        if self._turned_away(headers, limits=endpoint == "messages"):
            return
        if endpoint == "count_tokens":
            self._count_tokens(body, headers)
        elif endpoint == "messages":
            self._messages(body, headers)
        elif endpoint == "batches" and method == "POST":
            self._create_batch(body, headers)
        elif endpoint == "batches":
            self._list_batches(headers)
        elif found is not None:
            self._batch(method, found["id"], found["action"], headers)

    def do_POST(self) -> None:
        self._handle("POST")

    def do_GET(self) -> None:
        self._handle("GET")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # --- the Messages API ----------------------------------------------------------------------------

    def _count_tokens(self, body: Any, headers: dict[str, str]) -> None:
        if self.server.state.llama_cpp:  # it counts whatever it is given
            self._send_json(200, {"input_tokens": token_estimate.input_tokens(body or {})}, headers)
            return
        problem = rules.validate({**body, "max_tokens": 1} if isinstance(body, dict) else body)
        if problem is not None:
            self._error(400, "invalid_request_error", problem, headers)
            return
        # count_tokens takes no max_tokens, and answers with the count alone; a model that drops
        # thinking blocks whose prefix changed does not count them
        counted = rules.without_invalid_thinking(body, rules.facts_of(body))
        self._send_json(200, {"input_tokens": token_estimate.input_tokens(counted)}, headers)

    def _messages(self, body: Any, headers: dict[str, str]) -> None:
        state = self.server.state
        limits = state.rate_limits
        if state.llama_cpp and self._llama_cpp_refused(body, headers):
            return
        problem = None if state.llama_cpp else rules.validate(body)
        if problem is None and not state.llama_cpp:
            body = rules.without_invalid_thinking(body, rules.facts_of(body))
        if problem is not None:
            with state.lock:
                now = time.time()
                limits.take(now, requests=1)
                headers = {**headers, **state.limit_headers(now)}
            self._error(400, "invalid_request_error", problem, headers)
            return
        if state.enforce_rate_limits:
            with state.lock:
                now = time.time()
                wait = limits.wait_for(token_estimate.input_tokens(body), now)
                refused = {**headers, **state.limit_headers(now), "retry-after": str(max(1, math.ceil(wait)))}
            if wait > 0:
                self._error(429, "rate_limit_error", wire.ERRORS[429][1], refused)
                return
        try:
            message_body = replies.build_message(body, state)
        except replies.SampleError as error:
            self._error(500, "api_error", f"stand-in: {error}", headers)
            return
        with state.lock:
            now = time.time()
            limits.take(now, requests=1, usage=message_body["usage"])
            headers = {**headers, **state.limit_headers(now)}
        if not body.get("stream") or state.stream_as_json:
            time.sleep(replies.json_reply_delay(message_body, state, body))
            self._send_json(200, message_body, headers)
            return

        def paced() -> Iterator[bytes]:
            events = replies.stream_events(message_body, pings=not state.llama_cpp)
            if state.stream_without_start:
                events = ((name, data) for name, data in events if name != "message_start")
            for number, (name, data) in enumerate(events):
                if number == 0:
                    time.sleep(state.first_token_delay)
                elif name == "content_block_delta":
                    time.sleep(state.pace)
                yield f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()

        self._send(200, paced(), "text/event-stream; charset=utf-8", {**headers, "cache-control": "no-cache"})

    def _llama_cpp_refused(self, body: Any, headers: dict[str, str]) -> bool:
        """Refuse what llama-server refuses: with a 500 (no messages, an image) or a 400 (a prompt longer than
        its context); it takes with a 200 much that the API refuses. True when it refused."""
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list):
            self._error(500, "api_error", "'messages' is required", headers)
            return True
        for message in messages:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "image" for b in content):
                self._error(
                    500,
                    "api_error",
                    "image input is not supported - hint: if this is unexpected, you may need to provide the mmproj",
                    headers,
                )
                return True
        if token_estimate.input_tokens(body) > LLAMA_CPP_CONTEXT:
            message = f"the request exceeds the available context size ({LLAMA_CPP_CONTEXT} tokens), try increasing it"
            self._error(400, "exceed_context_size_error", message, headers)
            return True
        return False

    # --- the Message Batches API ---------------------------------------------------------------------

    def _results_url(self, batch_id: str) -> str:
        """Where a batch's results are: on this server, whatever gateway path the client came through."""
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{batches.BATCHES_PATH}/{batch_id}/results"

    def _create_batch(self, body: Any, headers: dict[str, str]) -> None:
        state = self.server.state
        if state.batch_create_as_message:  # a proxy that answers every POST with a chat reply
            first = (body.get("requests") or [{}])[0] if isinstance(body, dict) else {}
            params = first.get("params") if isinstance(first, dict) else None
            params = params if isinstance(params, dict) else {"model": "unknown", "max_tokens": 100, "messages": []}
            self._send_json(200, replies.plain_text_message(params), headers)
            return
        problem = rules.batch_problem(body)
        if problem is not None:
            self._error(400, "invalid_request_error", problem, headers)
            return
        with state.batch_lock:
            batch = batches.new_batch(body["requests"], state.batches)
            reply = batch.to_json(self._results_url(batch.id))
        self._send_json(200, reply, headers)

    def _list_batches(self, headers: dict[str, str]) -> None:
        """The batches, most recent first, a page at a time (limit, after_id, before_id)."""
        state = self.server.state
        query = {name: values[-1] for name, values in parse_qs(urlsplit(self.path).query).items()}
        with state.batch_lock:
            listed = [batch.to_json(self._results_url(batch.id)) for batch in reversed(state.batches.values())]
        self._send_json(200, batches.page(listed, query), headers)

    def _batch(self, method: str, batch_id: str, action: str | None, headers: dict[str, str]) -> None:
        state = self.server.state
        with state.batch_lock:
            batch = state.batches.get(batch_id)
            if batch is None:
                self._error(404, "not_found_error", f"message_batch {batch_id!r} not found", headers)
                return
            if method == "DELETE":
                if batch.ended_at is None:
                    message = f"{batch_id} is still processing: cancel it, and delete it once it has ended"
                    self._error(400, "invalid_request_error", message, headers)
                    return
                del state.batches[batch_id]
                self._send_json(200, {"id": batch_id, "type": "message_batch_deleted"}, headers)
                return
            if action == "/results":
                if batch.results is None:
                    message = f"the results of {batch_id} are not available: its processing has not ended"
                    self._error(404, "not_found_error", message, headers)
                    return
                lines = b"".join(json.dumps(entry).encode() + b"\n" for entry in batch.results)
                disposition = f"attachment; filename*=utf-8''{batch_id}_results.jsonl"
                self._send(200, [lines], batches.RESULTS_CONTENT_TYPE, {**headers, "content-disposition": disposition})
                return
            if action == "/cancel":
                if batch.ended_at is None and batch.cancel_initiated_at is None:
                    batch.cancel_initiated_at = datetime.now(UTC)
            else:  # a retrieve: the one after `batch_polls` of them finds the batch ended
                batch.retrieves += 1
                if batch.ended_at is None and (batch.retrieves > state.batch_polls or batch.cancel_initiated_at):
                    batches.end_batch(batch, state)
            reply = batch.to_json(self._results_url(batch_id))
        self._send_json(200, reply, headers)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: StandinState

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up mid-reply (a timeout, Ctrl-C, a retry given up) is not the server's
        # error: the real API says nothing of it either. Anything else still prints its traceback.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class StandinServer:
    """Run the stand-in in a background thread: `with StandinServer() as server: server.url`."""

    def __init__(self, port: int = 0, **state: Any) -> None:
        self.httpd = _Server(("127.0.0.1", port), _Handler)
        self.httpd.state = StandinState(**state)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def state(self) -> StandinState:
        return self.httpd.state

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> StandinServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
