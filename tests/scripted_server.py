"""An HTTP/1.1 server on 127.0.0.1 that answers with scripted bytes, for tests.

Every byte of a reply is chosen by the test: the status line and headers, the
body, how it is framed (chunked with chunks of any size down to one byte, or
with a content-length), pauses between chunks, and how the reply ends:

    "clean"  finish properly (the final 0-chunk, or the whole announced length)
    "drop"   close the socket at once: no final 0-chunk, or fewer bytes than announced
    "hang"   send nothing more and keep the socket open, until the client closes it,
             the server shuts down, or MAX_HANG seconds pass

    with ScriptedServer([Script(status=529, ...), Script(body=...)]) as server:
        client = anthropic.Anthropic(api_key=..., base_url=server.url)
        ...
        server.requests  # what each request carried, in order

A list of scripts answers one request each, in order; a request beyond the list
gets a 500 that says so (with x-should-retry: false, so the SDK does not retry it).
Connections are kept alive between clean replies, as a real server's are. Every
loop is bounded, and the server shuts down cleanly when the `with` block ends.
"""

from __future__ import annotations

import contextlib
import http
import ipaddress
import json
import select
import socket
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Ending = Literal["clean", "drop", "hang"]

MAX_HANG = 30.0  # the longest a "hang" keeps a socket open
MAX_IDLE = 30.0  # the longest a kept-alive connection waits for its next request
MAX_REQUESTS_PER_CONNECTION = 100
MAX_CONNECTIONS = 200
MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 32 * 1024 * 1024
POLL = 0.05  # how often waiting loops look at the stop flag
JOIN_BOUND = 5.0  # how long shutting down waits for each thread
SEND_BOUND = 10.0  # the longest one send may wait for a client that does not read


@dataclass(frozen=True)
class Script:
    """One scripted reply.

    headers: sent in order, as written; framing headers (transfer-encoding or
        content-length) are added unless the script sets them itself.
    chunk_size: None sends the body as one piece; an int splits it into pieces of
        that size; a sequence of ints gives the sizes in turn (cycled if the body is longer).
    chunked: frame the body with transfer-encoding: chunked (one HTTP chunk per piece);
        otherwise send a content-length and the pieces as they are.
    content_length: the length to announce when not chunked (default: the body's length),
        so a "drop" or "hang" can stop short of it.
    pause: seconds to wait before each piece after the first.
    """

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""
    chunked: bool = True
    chunk_size: int | Sequence[int] | None = None
    content_length: int | None = None
    pause: float = 0.0
    ending: Ending = "clean"

    def __post_init__(self) -> None:
        if self.ending not in ("clean", "drop", "hang"):
            raise ValueError(f"unknown ending {self.ending!r}")
        sizes = [self.chunk_size] if isinstance(self.chunk_size, int) else list(self.chunk_size or [])
        if any(size < 1 for size in sizes):
            raise ValueError("chunk sizes must be at least 1 byte")
        if self.chunked and self.content_length is not None:
            raise ValueError("content_length is only for replies that are not chunked")
        if not self.chunked and self.ending == "clean" and self.content_length not in (None, len(self.body)):
            raise ValueError("a clean reply must send the whole announced content-length")

    def pieces(self) -> list[bytes]:
        """The body cut into the pieces it is sent in."""
        if self.chunk_size is None or not self.body:
            return [self.body] if self.body else []
        sizes = [self.chunk_size] if isinstance(self.chunk_size, int) else list(self.chunk_size)
        pieces, start, turn = [], 0, 0
        while start < len(self.body):
            size = sizes[turn % len(sizes)]
            pieces.append(self.body[start : start + size])
            start, turn = start + size, turn + 1
        return pieces

    def head(self) -> bytes:
        """The status line and headers, with the framing header added."""
        try:
            reason = http.HTTPStatus(self.status).phrase
        except ValueError:
            reason = {529: "Overloaded"}.get(self.status, "Unknown")
        lines = [f"HTTP/1.1 {self.status} {reason}"]
        names = {name.lower() for name in self.headers}
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.chunked and "transfer-encoding" not in names:
            lines.append("transfer-encoding: chunked")
        if not self.chunked and "content-length" not in names:
            length = len(self.body) if self.content_length is None else self.content_length
            lines.append(f"content-length: {length}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass(frozen=True)
class RecordedRequest:
    """What one request carried: method, path, headers (names lower-cased) and body."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def _exhausted(number: int) -> Script:
    message = f"scripted server: no script left for request {number}"
    body = json.dumps({"type": "error", "error": {"type": "api_error", "message": message}}).encode()
    headers = {"content-type": "application/json", "x-should-retry": "false"}
    return Script(status=500, headers=headers, body=body, chunked=False)


class _ClosedError(Exception):
    """The connection ended, or the server is stopping."""


class ScriptedServer:
    """Serves `script` (or each script of a list, one per request) on 127.0.0.1."""

    def __init__(self, script: Script | Sequence[Script], *, max_hang: float = MAX_HANG) -> None:
        self.scripts: list[Script] = [script] if isinstance(script, Script) else list(script)
        self.max_hang = max_hang
        self.requests: list[RecordedRequest] = []
        self.disconnects = 0  # connections the client closed while a reply hung
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._connections: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(POLL)
        self.port: int = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._acceptor = threading.Thread(target=self._accept_loop, name="scripted-server", daemon=True)

    def __enter__(self) -> ScriptedServer:
        self._acceptor.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop accepting, end every hang and connection, and wait (boundedly) for the threads."""
        self._stop.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() at once
        if self._acceptor.is_alive():
            self._acceptor.join(JOIN_BOUND)
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            threads = list(self._threads)
            for conn in self._connections:  # wakes every wait on a connection at once
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(JOIN_BOUND)

    # connections

    def _accept_loop(self) -> None:
        accepted = 0
        while not self._stop.is_set() and accepted < MAX_CONNECTIONS:
            try:
                conn, peer = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if not ipaddress.ip_address(peer[0]).is_loopback:
                conn.close()
                continue
            accepted += 1
            thread = threading.Thread(target=self._serve, args=(conn,), name="scripted-conn", daemon=True)
            with self._lock:
                if self._stop.is_set():
                    conn.close()
                    return
                self._threads.append(thread)
                self._connections.add(conn)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(SEND_BOUND)  # reads wait in select(), so this bounds only a send the client never reads
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buffer = b""
        try:
            for _ in range(MAX_REQUESTS_PER_CONNECTION):
                request, buffer = self._read_request(conn, buffer)
                with self._lock:
                    number = len(self.requests)
                    self.requests.append(request)
                script = self.scripts[number] if number < len(self.scripts) else _exhausted(number)
                if not self._answer(conn, script) or request.headers.get("connection", "").lower() == "close":
                    return
        except (_ClosedError, OSError):
            return
        finally:
            with self._lock:
                self._connections.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def _recv(self, conn: socket.socket, deadline: float) -> bytes:
        while True:
            if self._stop.is_set() or time.monotonic() > deadline:
                raise _ClosedError
            readable, _, _ = select.select([conn], [], [], POLL)
            if not readable:
                continue
            data = conn.recv(65536)
            if not data:
                raise _ClosedError
            return data

    def _read_request(self, conn: socket.socket, buffer: bytes) -> tuple[RecordedRequest, bytes]:
        deadline = time.monotonic() + MAX_IDLE
        while b"\r\n\r\n" not in buffer:
            if len(buffer) > MAX_HEAD_BYTES:
                raise _ClosedError
            buffer += self._recv(conn, deadline)
        head, buffer = buffer.split(b"\r\n\r\n", 1)
        request_line, *header_lines = head.decode("latin-1").split("\r\n")
        method, target, _version = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            raise _ClosedError  # the SDK sends a content-length; chunked request bodies are not supported
        length = int(headers.get("content-length", "0"))
        if length > MAX_BODY_BYTES:
            raise _ClosedError
        while len(buffer) < length:
            buffer += self._recv(conn, deadline)
        body, buffer = buffer[:length], buffer[length:]
        return RecordedRequest(method, target.split("?", 1)[0], headers, body), buffer

    # replies

    def _answer(self, conn: socket.socket, script: Script) -> bool:
        """Send `script`; True if the connection can carry another request."""
        conn.sendall(script.head())
        for number, piece in enumerate(script.pieces()):
            if number and script.pause and self._stop.wait(script.pause):
                raise _ClosedError
            conn.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if script.chunked else piece)
        if script.ending == "clean":
            if script.chunked:
                conn.sendall(b"0\r\n\r\n")
            return True
        if script.ending == "hang":
            self._hang(conn)
        with contextlib.suppress(OSError):
            conn.shutdown(socket.SHUT_RDWR)
        return False

    def _hang(self, conn: socket.socket) -> None:
        """Send nothing, until the client closes, the server stops or max_hang passes."""
        deadline = time.monotonic() + self.max_hang
        while not self._stop.is_set() and time.monotonic() < deadline:
            readable, _, _ = select.select([conn], [], [], POLL)
            if readable:
                try:
                    data = conn.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    if not self._stop.is_set():
                        with self._lock:
                            self.disconnects += 1
                    return
