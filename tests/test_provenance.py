"""Where a recording's replies came from: stored with each reply, and said by the banner (helpers/provenance.py)."""

from __future__ import annotations

import json

from helpers import MODEL, get_client
from helpers.checks import message_json
from helpers.provenance import (
    PROVENANCE_TEXT,
    STANDIN,
    is_anthropic_api,
    recording_text,
)
from helpers.recordings import RecordingFile
from tests.conftest import FAKE_KEY
from tests.scripted_server import Script, ScriptedServer

LOCAL_MODEL = "/models/tiny-local.gguf"


def a_message(model: str) -> bytes:
    return json.dumps(message_json("Hello.", model=model)).encode()


def ask(client) -> None:
    client.messages.create(model=MODEL, max_tokens=50, messages=[{"role": "user", "content": "Hi"}])


def test_only_the_anthropic_host_is_the_api():
    assert is_anthropic_api("https://api.anthropic.com")
    assert is_anthropic_api("https://API.anthropic.com/v1/")
    assert not is_anthropic_api("https://api.anthropic.com.example.net")
    assert not is_anthropic_api("http://127.0.0.1:8080")
    assert not is_anthropic_api("https://user:secret@gateway.example.com")


def test_a_reply_from_another_server_names_it_and_never_says_from_the_api(recordings, monkeypatch, capsys):
    script = Script(headers={"content-type": "application/json", "server": "llama.cpp"}, body=a_message(LOCAL_MODEL))
    with ScriptedServer([script]) as server:
        monkeypatch.setenv("WORKBOOK_MODE", "record")
        monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        ask(get_client("lesson", quiet=True, max_retries=0))
        host = server.url.split("//")[1].split(":")[0]  # a server on this machine, named without its port
        assert host == "127.0.0.1"
    text = (recordings / "lesson.json").read_text()
    assert FAKE_KEY not in text, "a key was stored in the recording"
    file = RecordingFile(recordings / "lesson.json")
    assert file.provenance == "recorded"
    assert file.sources == [{"host": host, "model": LOCAL_MODEL, "server": "llama.cpp"}], file.sources
    assert json.loads(text)["sources"] == file.sources, "the file's header does not list its sources"

    monkeypatch.setenv("WORKBOOK_MODE", "replay")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "")
    capsys.readouterr()
    get_client("lesson")
    banner = capsys.readouterr().out
    assert PROVENANCE_TEXT["recorded"] not in banner, f"a server that is not Anthropic's called the API: {banner}"
    assert host in banner and LOCAL_MODEL in banner and "llama.cpp" in banner, banner


def test_a_sample_names_the_standin_and_keeps_its_marker(online, recordings, monkeypatch):
    monkeypatch.setenv("WORKBOOK_MODE", "record")
    ask(get_client("lesson", quiet=True))
    file = RecordingFile(recordings / "lesson.json")
    assert file.provenance == "sample"
    assert [source["host"] for source in file.sources] == [STANDIN], file.sources
    assert recording_text(file.provenance, file.sources) == PROVENANCE_TEXT["sample"]


def test_recorded_from_the_api_only_for_anthropic_s_own_host():
    anthropic = [{"host": "api.anthropic.com", "model": MODEL}]
    assert recording_text("recorded", anthropic) == PROVENANCE_TEXT["recorded"]
    assert recording_text("recorded", []) != PROVENANCE_TEXT["recorded"], "a file that names no server"
    gateway = [{"host": "gateway.example.com", "model": MODEL}]
    assert "gateway.example.com" in recording_text("mixed", [*gateway, {"host": STANDIN}])


def test_a_server_build_without_a_build_number_is_named_without_one():
    """llama.cpp compiled from a tree with no git history reports "b0-unknown" in /props: not a build to show."""
    from helpers.transport import LocalModel

    for build_info, expected in (("b0-unknown", ""), ("b7120-4a5b6c7", "build b7120-4a5b6c7")):
        script = Script(body=json.dumps({"build_info": build_info}).encode(), chunked=False)
        with ScriptedServer(script) as server:
            named = LocalModel(url=server.url, model="m", max_tokens=10, every_request=True).server_build()
        assert named.startswith("llama.cpp llama-server"), named
        assert "b0-unknown" not in named and expected in named, named
