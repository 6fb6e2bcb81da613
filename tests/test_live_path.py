"""The live path under the real SDK: damaged recordings, gateways, failures, the improvised overlay,
secret scrubbing, settings, temporary files and stalled replies.

The stand-in server (tools/standin/) plays a healthy or failing Messages API. For replies it
cannot give (a server that echoes the key it was sent, one that stalls before or after its headers until
it is closed, so that only the client's timeout ends a request) the tests start a `LoopbackServer`
defined below, on 127.0.0.1, through the `loopback` fixture.

A test that takes `face` runs once with get_client() and once with get_async_client() (tests/faces.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import anthropic
import pytest

from helpers import MODEL, CorruptRecordingError, MissingRecordingError, SettingsError, get_client, read_settings, wire
from helpers.checks import message_json
from helpers.recordings import forget, recorded_message
from helpers.scrubbing import REDACTED
from tests.conftest import FAKE_KEY, ROOT
from tests.faces import SYNC, Client, Face
from tools.standin.http import StandinServer

Json = dict[str, Any]

QUESTION = "What is an API, in two sentences?"
CLOSED = "http://127.0.0.1:9"  # nothing listens there: any request that reaches the network fails
CUSTOM_TOKEN = "tok-1234567890abcdef"
# Sent as x-api-key beside the Bearer key; built from parts, so no key-shaped text is tracked.
SECOND_KEY = "sk-ant-" + "api03-TESTONLY-second-" + "y" * 16


# --- a loopback server for replies the stand-in cannot give ------------------------

MAX_STALL = 5.0  # the longest a stalled reply holds its socket open
MAX_BODY = 1 << 20
POLL = 0.05  # how often the server loop looks for a shutdown


@dataclass
class Received:
    """One request as the loopback server saw it (header names in lower case)."""

    headers: dict[str, str]
    body: Any

    @property
    def credentials(self) -> str:
        """What the client sent as credentials: its key (x-api-key, or the bearer token) and any x-custom-token."""
        bearer = self.headers.get("authorization", "").removeprefix("Bearer ")
        found = (self.headers.get("x-api-key"), bearer, self.headers.get("x-custom-token"))
        return " ".join(value for value in found if value)


class _Reply(BaseHTTPRequestHandler):
    """Reads one POST, then lets the server's `answer` reply with the methods below."""

    protocol_version = "HTTP/1.1"
    timeout = 5  # a client that stops sending cannot hold a thread for long
    server: _LoopbackHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read their own output
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(min(int(self.headers.get("content-length") or 0), MAX_BODY))
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        received = Received({name.lower(): value for name, value in self.headers.items()}, body)
        owner = self.server.owner
        owner.requests.append(received)
        owner.answer(self, received)

    def send_bytes(self, status: int, content_type: str, content: bytes) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)
        self.wfile.flush()

    def send_json(self, status: int, payload: Json) -> None:
        self.send_bytes(status, "application/json", json.dumps(payload).encode())

    def send_events(self, events: list[Json]) -> None:
        self.send_bytes(200, "text/event-stream; charset=utf-8", b"".join(map(wire.encode_event, events)))

    def stall(self, headers: dict[str, str]) -> None:
        """Send the status line and `headers`, then nothing, until the server stops (at most MAX_STALL)."""
        self.send_response(200)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.flush()
        self.hold()

    def hold(self) -> None:
        """Send nothing more until the server stops (at most MAX_STALL): only the client's timeout ends the wait."""
        self.server.owner.stopping.wait(MAX_STALL)
        self.close_connection = True


Answer = Callable[[_Reply, Received], None]


class _LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackServer


class LoopbackServer:
    """An HTTP server on 127.0.0.1 whose every POST is answered by `answer(reply, request)`."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[Received] = []
        self.stopping = threading.Event()
        self.httpd = _LoopbackHTTPServer(("127.0.0.1", 0), _Reply)
        self.httpd.owner = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(POLL,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=MAX_STALL)


@pytest.fixture
def loopback() -> Iterator[Callable[[Answer], LoopbackServer]]:
    """Start loopback servers with `loopback(answer)`; all of them stop when the test ends."""
    servers: list[LoopbackServer] = []

    def serve(answer: Answer) -> LoopbackServer:
        servers.append(LoopbackServer(answer))
        return servers[-1]

    yield serve
    for server in servers:
        server.close()


def message_saying(text: str) -> Json:
    return message_json(text, usage={"input_tokens": 5, "output_tokens": 5})


def refuse_the_key(reply: _Reply, request: Received) -> None:
    """A 401 whose message quotes the key it was sent, as some servers do."""
    reply.send_json(401, wire.error_body("authentication_error", f"invalid key: {request.credentials}"))


def echo_as_message(reply: _Reply, request: Received) -> None:
    reply.send_json(200, message_saying(f"You sent {request.credentials} ."))


def echo_as_stream(reply: _Reply, request: Received) -> None:
    reply.send_events(wire.message_events(message_saying(f"You sent {request.credentials} .")))


def echo_split_across_events(reply: _Reply, request: Received) -> None:
    """The key streamed back in two text deltas, as a model repeating it token by token would."""

    def halves(text: str) -> list[str]:
        return [text[: len(text) // 2], text[len(text) // 2 :]]

    reply.send_events(wire.message_events(message_saying(request.credentials), split=halves))


def stall_after_headers(reply: _Reply, request: Received) -> None:
    reply.stall({"content-type": "application/json", "content-length": "100"})


def stall_before_headers(reply: _Reply, request: Received) -> None:
    reply.hold()


# --- helpers -----------------------------------------------------------------------


def use(monkeypatch: pytest.MonkeyPatch, *, mode: str = "auto", key: str = "", base_url: str = "") -> None:
    """The environment of a student: a mode, a key (or none) and an endpoint (or the default)."""
    monkeypatch.setenv("WORKBOOK_MODE", mode)
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", base_url)


def go_offline(monkeypatch: pytest.MonkeyPatch, mode: str = "auto") -> None:
    """No key, no server: anything that is not replayed fails."""
    use(monkeypatch, mode=mode, base_url=CLOSED)


def ask(client: Client, question: str = QUESTION, *, face: Face = SYNC) -> anthropic.types.Message:
    return face.result(
        client.messages.create(model=MODEL, max_tokens=200, messages=[{"role": "user", "content": question}])
    )


def stream(client: Client, question: str = QUESTION, *, face: Face = SYNC) -> anthropic.types.Message:
    """The final message of a stream read to its end."""
    return face.stream_text(client, model=MODEL, max_tokens=200, messages=[{"role": "user", "content": question}])[1]


def shipped(recordings: Path, lesson: str = "lesson") -> Path:
    return recordings / f"{lesson}.json"


def improvised(recordings: Path, lesson: str = "lesson") -> Path:
    return recordings / "improvised" / f"{lesson}.json"


def responses_in(path: Path) -> list[Json]:
    """The responses of the one interaction a recording file holds."""
    interactions = json.loads(path.read_text())["interactions"]
    assert len(interactions) == 1, f"{path.name} should hold one interaction, it holds {len(interactions)}"
    return interactions[0]["responses"]


def text_of(message: anthropic.types.Message) -> str:
    return "".join(block.text for block in message.content if block.type == "text")


# --- 1. damaged recordings fail at get_client, naming what is wrong -------------------

GOOD_RESPONSE: Json = {"status": 200, "headers": {}, "body": {"id": "msg_1"}}

DAMAGED_RESPONSES = {
    "no status": ({"headers": {}, "body": {}}, "its status None"),
    "status as text": ({"status": "200", "body": {}}, "its status '200'"),
    "status 99": ({"status": 99, "body": {}}, "its status 99"),
    "status 600": ({"status": 600, "body": {}}, "its status 600"),
    "body a number": ({"status": 200, "body": 42}, "'body' is not a JSON object"),
    "headers a list": ({"status": 200, "headers": [["request-id", "r"]], "body": {}}, "'headers' is not a mapping"),
    "body and events": ({"status": 200, "body": {}, "events": []}, "exactly one of 'body', 'text', 'events'"),
    "event without data": ({"status": 200, "events": [{"at": 0, "event": "ping"}]}, "exactly one of 'data' or 'text'"),
    "nonsense end": ({"status": 200, "events": [], "end": "nonsense"}, "its 'end' is not"),
    "bogus error": ({"error": "bogus"}, "a failure must say 'error'"),
}


def write_recording(path: Path, responses: list[Json]) -> None:
    """A file whose first interaction is well-formed and whose second has `responses`."""
    interactions = [
        {"request": {"method": "POST", "path": "/v1/messages", "body": {"n": n}}, "responses": answer}
        for n, answer in enumerate([[GOOD_RESPONSE], responses], start=1)
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"format": 1, "interactions": interactions}))


@pytest.mark.parametrize("damage", DAMAGED_RESPONSES)
def test_a_damaged_response_fails_at_get_client_naming_file_interaction_and_problem(recordings, damage):
    response, problem = DAMAGED_RESPONSES[damage]
    write_recording(shipped(recordings), [GOOD_RESPONSE, response])
    with pytest.raises(CorruptRecordingError) as caught:
        get_client("lesson", quiet=True)
    message = str(caught.value)
    assert str(shipped(recordings)) in message, f"the error does not name the file: {message}"
    assert "interaction 2: response 2:" in message, f"the error does not number the entry: {message}"
    assert problem in message, f"the error does not say {problem!r}: {message}"


def test_a_damaged_improvised_file_names_the_improvised_file(recordings):
    write_recording(improvised(recordings), [DAMAGED_RESPONSES["bogus error"][0]])
    with pytest.raises(CorruptRecordingError) as caught:
        get_client("lesson", quiet=True)
    assert str(improvised(recordings)) in str(caught.value), f"the error does not name the file: {caught.value}"


def test_a_folder_where_the_recording_file_should_be_is_reported_as_a_folder(recordings):
    shipped(recordings).mkdir()
    with pytest.raises(CorruptRecordingError, match="is a folder") as caught:
        get_client("lesson", quiet=True)
    assert "lesson.json" in str(caught.value), f"the error does not name the folder: {caught.value}"


def test_json_nested_absurdly_deep_is_a_corrupt_recording_not_a_recursion_error(recordings):
    depth = 200_000
    shipped(recordings).write_text('{"interactions": [], "x": ' + "[" * depth + "]" * depth + "}")
    with pytest.raises(CorruptRecordingError) as caught:
        get_client("lesson", quiet=True)
    assert "lesson.json" in str(caught.value), f"the error does not name the file: {caught.value}"


@pytest.mark.parametrize("mode", ["auto", "replay"])
def test_a_missing_recordings_folder_is_a_settings_error_naming_it(recordings, tmp_path, monkeypatch, mode):
    missing = tmp_path / "no-such-folder"
    monkeypatch.setenv("WORKBOOK_RECORDINGS_DIR", str(missing))
    use(monkeypatch, mode=mode)
    with pytest.raises(SettingsError) as caught:
        get_client("lesson", quiet=True)
    assert str(missing) in str(caught.value), f"the error does not name the folder: {caught.value}"


def test_live_mode_does_not_need_a_recordings_folder(recordings, tmp_path, monkeypatch):
    missing = tmp_path / "no-such-folder"
    monkeypatch.setenv("WORKBOOK_RECORDINGS_DIR", str(missing))
    use(monkeypatch, mode="live", key=FAKE_KEY, base_url=CLOSED)
    assert isinstance(get_client("lesson", quiet=True), anthropic.Anthropic), "live mode refused to start"
    assert not missing.exists(), "live mode created a recordings folder it never uses"


# --- 2. a base URL with a path: recordings keep the API path --------------------------


def test_a_gateway_path_is_not_recorded_and_replays_behind_any_base_url(recordings, standin, monkeypatch):
    use(monkeypatch, mode="record", key=FAKE_KEY, base_url=standin.url + "/anthropic")
    live = ask(get_client("lesson", quiet=True))
    assert standin.state.requests[0]["path"] == "/anthropic/v1/messages", "the gateway path was not sent"
    stored = json.loads(shipped(recordings).read_text())["interactions"][0]["request"]["path"]
    assert stored == "/v1/messages", f"the recording stores the gateway's path: {stored}"

    for base_url in ("https://gateway.example.com/some/prefix", "https://api.anthropic.com"):
        use(monkeypatch, mode="replay", base_url=base_url)
        assert ask(get_client("lesson", quiet=True)) == live, f"no replay of the recorded Message at {base_url}"
    assert len(standin.state.requests) == 1, "replay mode reached the network"


def test_a_percent_encoded_gateway_path_is_not_recorded(recordings, standin, monkeypatch):
    use(monkeypatch, mode="record", key=FAKE_KEY, base_url=standin.url + "/my%20gw")
    ask(get_client("lesson", quiet=True))
    stored = json.loads(shipped(recordings).read_text())["interactions"][0]["request"]["path"]
    assert stored == "/v1/messages", f"the recording stores the gateway's path: {stored}"


# --- 3. a failure is never replayed as the answer when a key can ask again -------------


@pytest.mark.parametrize("failure", ["overloaded", "connection"])
def test_with_a_key_a_recorded_failure_is_asked_again_not_replayed(recordings, monkeypatch, sleeps, failure):
    """`sleeps` records the SDK's backoff between retries instead of waiting it out."""
    failing = failure == "overloaded"
    with StandinServer(failures=["529"] * 3 if failing else []) as server:
        broken_url, error, retries = (
            (server.url, anthropic.OverloadedError, 2) if failing else (CLOSED, anthropic.APIConnectionError, 0)
        )
        use(monkeypatch, key=FAKE_KEY, base_url=broken_url)
        with pytest.raises(error):
            ask(get_client("lesson", quiet=True, max_retries=retries))
        kept = responses_in(improvised(recordings))
        assert len(kept) == retries + 1, f"expected {retries + 1} failed attempts saved, found {len(kept)}"
        assert not any(response.get("status") == 200 for response in kept), f"a failure was saved as a reply: {kept}"
        seen = len(server.state.requests)

        use(monkeypatch, key=FAKE_KEY, base_url=server.url)  # the server is healthy now
        reply = ask(get_client("lesson", quiet=True, max_retries=retries))
        assert len(server.state.requests) == seen + 1, "the recorded failure was replayed instead of asking again"
    assert reply.stop_reason == "end_turn", f"the reply asked for again is not a full answer: {reply.stop_reason}"

    go_offline(monkeypatch)
    assert ask(get_client("lesson", quiet=True)) == reply, "the answer did not replace the recorded failure"


@pytest.mark.parametrize("failure", ["overloaded", "connection"])
def test_without_a_key_a_recorded_failure_is_replayed(recordings, monkeypatch, failure):
    with contextlib.ExitStack() as servers:
        if failure == "overloaded":
            url, error = servers.enter_context(StandinServer(failures=["529"])).url, anthropic.OverloadedError
        else:
            url, error = CLOSED, anthropic.APIConnectionError
        use(monkeypatch, key=FAKE_KEY, base_url=url)
        with pytest.raises(error):
            ask(get_client("lesson", quiet=True, max_retries=0))

    go_offline(monkeypatch)
    with pytest.raises(error) as caught:  # a miss would be a MissingRecordingError: no key, no network
        ask(get_client("lesson", quiet=True, max_retries=0))
    assert not isinstance(caught.value, anthropic.APITimeoutError), "a connection failure replayed as a timeout"


def test_without_a_key_a_shipped_answer_wins_over_an_improvised_failure(online, recordings, monkeypatch):
    monkeypatch.setenv("WORKBOOK_MODE", "record")
    answer = ask(get_client("lesson", quiet=True))
    recording = json.loads(shipped(recordings).read_text())
    recording["interactions"][0]["responses"] = [{"error": "connection", "message": "recorded in class"}]
    improvised(recordings).parent.mkdir()
    improvised(recordings).write_text(json.dumps(recording))
    go_offline(monkeypatch)
    assert ask(get_client("lesson", quiet=True)) == answer, "an improvised failure was replayed over a shipped answer"


# --- 4. auto mode keeps what it records apart from the shipped recordings --------------


@pytest.mark.parametrize("shipped_before", [True, False], ids=["shipped file exists", "no shipped file"])
def test_auto_mode_never_writes_the_shipped_file(recordings, monkeypatch, shipped_before):
    with StandinServer(failures=["529"]) as server:
        if shipped_before:  # the shipped recording holds a failure, so auto mode with a key asks again
            use(monkeypatch, mode="record", key=FAKE_KEY, base_url=server.url)
            with pytest.raises(anthropic.OverloadedError):
                ask(get_client("lesson", quiet=True, max_retries=0))
        else:
            server.state.failures.clear()
        before = shipped(recordings).read_bytes() if shipped_before else None

        use(monkeypatch, key=FAKE_KEY, base_url=server.url)
        ask(get_client("lesson", quiet=True))
        assert len(server.state.requests) == (2 if shipped_before else 1), "auto mode did not call the server"

    assert improvised(recordings).exists(), "auto mode did not save under recordings/improvised/"
    if shipped_before:
        assert shipped(recordings).read_bytes() == before, "auto mode changed the shipped recording"
    else:
        assert not shipped(recordings).exists(), "auto mode created a shipped recording"
    assert sorted(path.name for path in recordings.glob("*.json")) == (["lesson.json"] if shipped_before else [])


def test_replay_mode_ignores_what_auto_mode_improvised(online, recordings, monkeypatch):
    live = ask(get_client("lesson", quiet=True))
    use(monkeypatch, mode="replay", key=FAKE_KEY, base_url=online.url)
    with pytest.raises(MissingRecordingError):
        ask(get_client("lesson", quiet=True))
    go_offline(monkeypatch, mode="auto")
    assert ask(get_client("lesson", quiet=True)) == live, "auto mode without a key did not replay the improvised reply"
    assert len(online.state.requests) == 1, "replay or offline auto mode reached the network"


def test_record_mode_writes_the_shipped_file_only(face, online, recordings, monkeypatch):
    monkeypatch.setenv("WORKBOOK_MODE", "record")
    ask(face.client(), face=face)
    assert len(online.state.requests) == 1, "record mode did not call the server"
    assert len(responses_in(shipped(recordings))) == 1, "record mode did not save the reply in the shipped file"
    assert not improvised(recordings).exists(), "record mode saved an improvised recording"


def test_the_auto_banner_counts_improvised_requests_and_says_how_to_forget_them(online, recordings, capsys):
    ask(get_client("lesson", quiet=True))
    get_client("lesson")
    banner = capsys.readouterr().out
    assert "1 request" in banner, f"the banner does not count the improvised request: {banner}"
    assert "improvised" in banner, f"the banner does not say where improvised replies are: {banner}"
    assert "workbook.py forget" in banner, f"the banner does not say how to forget them: {banner}"


def make_lessons(recordings: Path, lessons: list[str]) -> dict[Path, bytes]:
    """A shipped and an improvised recording for each lesson; the shipped files' bytes."""
    for lesson in lessons:
        for path in (shipped(recordings, lesson), improvised(recordings, lesson)):
            write_recording(path, [GOOD_RESPONSE])
    return {shipped(recordings, lesson): shipped(recordings, lesson).read_bytes() for lesson in lessons}


def test_forget_deletes_improvised_recordings_and_never_shipped_ones(recordings):
    before = make_lessons(recordings, ["one", "two"])
    assert forget(recordings, ["one"]) == [improvised(recordings, "one")], "forget(['one']) deleted the wrong files"
    assert improvised(recordings, "two").exists(), "forgetting one lesson deleted another's improvised file"
    assert forget(recordings, []) == [improvised(recordings, "two")], "forget([]) did not delete what was left"
    assert not list((recordings / "improvised").glob("*.json")), "forget([]) left improvised recordings"
    assert {path: path.read_bytes() for path in before} == before, "forget touched a shipped recording"


def test_the_forget_command_says_what_it_forgot(recordings):
    before = make_lessons(recordings, ["one", "two"])
    done = subprocess.run(
        [sys.executable, "-m", "helpers", "forget"],  # what `python3 workbook.py forget` runs
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "WORKBOOK_RECORDINGS_DIR": str(recordings)},
        cwd=ROOT,
    )
    assert done.returncode == 0, f"forget failed: {done.stderr.strip()}"
    for lesson in ("one", "two"):
        assert f"forgot recordings/improvised/{lesson}.json" in done.stdout, f"not listed as forgotten: {done.stdout}"
        assert not improvised(recordings, lesson).exists(), f"improvised/{lesson}.json was not deleted"
    assert {path: path.read_bytes() for path in before} == before, "the forget command touched a shipped recording"


# --- 5. secrets are scrubbed before anything is saved -------------------------------


def call_expecting(answer: Answer, face: Face = SYNC) -> Callable[[Client], str]:
    """How to call a loopback server that answers with `answer`; the call returns what the student saw."""
    if answer is refuse_the_key:

        def refused(client: Client) -> str:
            with pytest.raises(anthropic.AuthenticationError) as caught:
                ask(client, face=face)
            return str(caught.value)

        return refused
    if answer is echo_as_message:
        return lambda client: text_of(ask(client, face=face))
    return lambda client: text_of(stream(client, face=face))


@pytest.mark.parametrize(
    "answer",
    [refuse_the_key, echo_as_message, echo_as_stream, echo_split_across_events],
    ids=lambda answer: answer.__name__,
)
@pytest.mark.parametrize("headers", ["bearer", "bearer and x-api-key"])
def test_a_key_the_server_echoes_back_is_scrubbed_before_saving(
    face, recordings, loopback, monkeypatch, answer, headers
):
    server = loopback(answer)
    use(monkeypatch, mode="record", key=FAKE_KEY, base_url=server.url)
    client = face.client(max_retries=0)
    keys = [FAKE_KEY] if headers == "bearer" else [FAKE_KEY, SECOND_KEY]
    if headers != "bearer":
        client = client.with_options(default_headers={"x-api-key": SECOND_KEY})
    seen = call_expecting(answer, face)(client)
    assert server.requests[0].credentials == " ".join(reversed(keys)), "the keys were not sent as expected"
    assert all(key in seen for key in keys), "the server did not echo the key, so the test proves nothing"
    saved = shipped(recordings).read_text()
    assert "TESTONLY" not in saved, "a key was saved in the recording"
    assert REDACTED in saved, f"the echoed key was not replaced by {REDACTED!r}"
    if answer is not refuse_the_key:  # the reply as a reader reads it: no key spelled out, even across deltas
        message = recorded_message(responses_in(shipped(recordings))[0])
        assert message is not None and "TESTONLY" not in text_of(message), "the saved reply spells out a key"


def test_a_custom_token_header_the_server_echoes_back_is_scrubbed(recordings, loopback, monkeypatch):
    server = loopback(echo_as_message)
    use(monkeypatch, mode="record", key=FAKE_KEY, base_url=server.url)
    client = get_client("lesson", quiet=True, max_retries=0).with_options(
        default_headers={"x-custom-token": CUSTOM_TOKEN}
    )
    assert CUSTOM_TOKEN in text_of(ask(client)), "the server did not echo the token, so the test proves nothing"
    saved = shipped(recordings).read_text()
    assert CUSTOM_TOKEN not in saved, "the x-custom-token value was saved in the recording"
    assert FAKE_KEY not in saved, "the key was saved in the recording"


def test_a_placeholder_key_shorter_than_eight_characters_is_kept(recordings, loopback, monkeypatch):
    """A local server (Ollama, LM Studio) needs some non-empty key and ignores it: "ollama" is a
    placeholder, not a secret. Scrubbing a word that short would also blank it wherever it appears in
    replies ("Ollama runs models locally"), so keys under 8 characters are saved as they are."""
    server = loopback(echo_as_message)
    use(monkeypatch, mode="record", key="ollama", base_url=server.url)
    ask(get_client("lesson", quiet=True, max_retries=0))
    saved = shipped(recordings).read_text()
    assert "You sent ollama" in saved, "a short placeholder key was scrubbed from the reply"
    assert REDACTED not in saved, "something was scrubbed though no secret was sent"


# --- 6. credentials in the base URL are never printed -------------------------------


def test_the_banner_hides_the_password_in_the_base_url(recordings, monkeypatch, capsys):
    use(monkeypatch, base_url="http://user:s3cretpass@127.0.0.1:9")
    get_client("lesson")
    banner = capsys.readouterr().out
    assert "s3cretpass" not in banner, "the banner printed the base URL's password"
    assert "127.0.0.1:9" in banner, f"the banner does not show the host: {banner}"


@pytest.mark.parametrize(
    "url",
    [
        "http://user:s3cretpass@host:notaport",
        "ftp://user:s3cretpass@host",
        "http://user:s3cretpass@[::1",
        "http://s3cretpass@",
        "http://user:s3cret/pass@127.0.0.1:9",
    ],
)
def test_a_settings_error_for_a_url_with_credentials_hides_the_password(recordings, monkeypatch, url):
    use(monkeypatch, base_url=url)
    with pytest.raises(SettingsError) as caught:
        get_client("lesson", quiet=True)
    assert "s3cret" not in str(caught.value), f"the error printed the password: {caught.value}"


# --- 7. settings fail early, with the fix in the message ---------------------------------


@pytest.mark.parametrize(
    "url", ["http://[::1", "ftp://host", "localhost:11434", "http://", "http://host:notaport", "http://host:99999"]
)
def test_a_bad_base_url_fails_at_get_client_with_the_fix(recordings, monkeypatch, url):
    use(monkeypatch, key=FAKE_KEY, base_url=url)
    with pytest.raises(SettingsError) as caught:
        get_client("lesson", quiet=True)
    message = str(caught.value)
    assert "ANTHROPIC_BASE_URL" in message, f"the error does not name the setting: {message}"
    assert "https://api.anthropic.com" in message, f"the error does not show a URL that works: {message}"


@pytest.mark.parametrize("speed", ["1e-300", "1e300", "nan", "inf", "-1", "fast"])
def test_a_bad_stream_speed_fails_with_the_fix(recordings, monkeypatch, speed):
    monkeypatch.setenv("WORKBOOK_STREAM_SPEED", speed)
    with pytest.raises(SettingsError) as caught:
        get_client("lesson", quiet=True)
    message = str(caught.value)
    assert "WORKBOOK_STREAM_SPEED" in message, f"the error does not name the setting: {message}"
    assert "Use 0 for instant replay" in message, f"the error does not say what to use: {message}"


@pytest.mark.parametrize("speed", ["0", "1", "0.5", "2"])
def test_a_sensible_stream_speed_is_accepted(recordings, monkeypatch, speed):
    monkeypatch.setenv("WORKBOOK_STREAM_SPEED", speed)
    assert read_settings().stream_speed == float(speed), f"WORKBOOK_STREAM_SPEED={speed} was not read as given"


# --- 8. temporary files --------------------------------------------------------------


@pytest.mark.parametrize("mode", ["record", "auto"])
def test_a_temporary_file_left_by_a_killed_save_is_removed_by_the_next_save(online, recordings, monkeypatch, mode):
    saved = shipped(recordings) if mode == "record" else improvised(recordings)
    saved.parent.mkdir(exist_ok=True)
    stale = saved.parent / "lesson.json12345.tmp"
    stale.write_text('{"interactions": [')  # half a file, as kill -9 during a save leaves it
    someone_elses = saved.parent / "other.json67890.tmp"
    someone_elses.write_text("{")
    monkeypatch.setenv("WORKBOOK_MODE", mode)
    ask(get_client("lesson", quiet=True))
    assert not stale.exists(), "the next save of lesson.json left its stale temporary file"
    assert someone_elses.exists(), "saving lesson.json removed another file's temporary file"
    assert len(responses_in(saved)) == 1, "the save after a stale temporary file did not store the reply"


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("recordings/x.json123.tmp", True),
        ("recordings/improvised/x.json", True),
        ("recordings/improvised/x.json123.tmp", True),
        ("recordings/improvised/x.json.lock", True),
        ("recordings/x.json", False),
    ],
)
def test_git_ignores_temporary_and_improvised_recordings_but_not_shipped_ones(path, ignored):
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("git, or the repository's .git, is not available")
    done = subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert done.returncode in (0, 1), f"git check-ignore failed: {done.stderr.strip()}"
    assert (done.returncode == 0) == ignored, f"{path} should {'' if ignored else 'not '}be ignored by git"


# --- 9. a stalled reply is recorded as a timeout and replays as one ------------------------


@pytest.mark.parametrize("stalls", ["before headers", "after headers"])
def test_a_stalled_json_reply_is_recorded_as_a_timeout_and_replays_as_one(recordings, loopback, monkeypatch, stalls):
    server = loopback(stall_before_headers if stalls == "before headers" else stall_after_headers)
    use(monkeypatch, mode="record", key=FAKE_KEY, base_url=server.url)
    with pytest.raises(anthropic.APITimeoutError):
        ask(get_client("lesson", quiet=True, timeout=0.3, max_retries=0))
    kept = responses_in(shipped(recordings))
    assert [response.get("error") for response in kept] == ["timeout"], f"not saved as one timeout: {kept}"
    assert "status" not in kept[0], f"a timeout was saved with a status: {kept[0]}"

    go_offline(monkeypatch, mode="replay")
    with pytest.raises(anthropic.APITimeoutError):
        ask(get_client("lesson", quiet=True, max_retries=0))
