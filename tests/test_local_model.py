"""The local-model path of lesson 00: the same code against any server that speaks the Messages API.

The stand-in server on 127.0.0.1 plays the part of Ollama or vLLM.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import MODEL, get_client, read_settings, reply_text
from helpers.recordings import IMPROVISED_FOLDER
from helpers.setup_check import setup_report
from helpers.transport import LocalModelStoppedError
from tools.standin.http import StandinServer
from workbook_base import local_model
from workbook_base.local_model import LOCAL_MODEL, LOCAL_MODEL_SIZE

ROOT = Path(__file__).resolve().parent.parent
LOCAL = {"ANTHROPIC_API_KEY": "ollama", "WORKBOOK_MODEL": "qwen3:8b", "WORKBOOK_MODE": "live"}


def run_hello(server: StandinServer, recordings: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **LOCAL, "ANTHROPIC_BASE_URL": server.url, "WORKBOOK_RECORDINGS_DIR": str(recordings)}
    return subprocess.run(
        [sys.executable, "scripts/hello_api.py", "Hello, local model"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_script_talks_to_a_local_server_with_its_own_model_name(tmp_path):
    with StandinServer() as server:
        result = run_hello(server, tmp_path)
        assert result.returncode == 0, result.stderr
        request = server.state.requests[0]
    assert request["path"] == "/v1/messages", "the SDK adds /v1/messages to the base URL"
    assert request["body"]["model"] == "qwen3:8b", "WORKBOOK_MODEL replaces the one MODEL constant"
    assert request["headers"]["Authorization"] == "Bearer ollama", "a dummy key is enough"
    assert "qwen3:8b at " + server.url in result.stdout, "the banner names the local endpoint"
    assert "cost unknown" in result.stdout, "a local model has no price per token"


def test_live_mode_saves_nothing_from_the_local_model(tmp_path):
    with StandinServer() as server:
        assert run_hello(server, tmp_path).returncode == 0
    assert list(tmp_path.iterdir()) == [], "live mode must keep local replies out of the recordings"


def test_streaming_works_against_a_local_server(recordings, monkeypatch):
    with StandinServer() as server:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
        monkeypatch.setenv("ANTHROPIC_API_KEY", "ollama")
        monkeypatch.setenv("WORKBOOK_MODE", "live")
        client = get_client("lesson", quiet=True)
        with client.messages.stream(
            model="qwen3:8b", max_tokens=100, messages=[{"role": "user", "content": "Count to three."}]
        ) as stream:
            text = "".join(stream.text_stream)
        assert text and stream.get_final_message().model == "qwen3:8b"


def test_the_setup_check_reports_the_local_endpoint_and_never_the_key(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://localhost:11434")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-" + "secret-value-123")  # built, so no key-shaped text is tracked
    report = setup_report()
    assert "http://localhost:11434 (from ANTHROPIC_BASE_URL)" in report
    assert "is set (not shown)" in report and "secret-value" not in report


def test_the_model_is_read_once_so_the_banner_and_the_requests_name_the_same_one(recordings, monkeypatch, capsys):
    monkeypatch.setenv("WORKBOOK_MODEL", "qwen3:8b")  # changed after the kernel started, as an edited .env is
    assert read_settings().model == MODEL, "read_settings() and MODEL must never disagree"
    get_client("lesson")
    assert f"Model: {MODEL}." in capsys.readouterr().out, "the banner names the model the requests use"


# --- the small local model that `python3 workbook.py local` runs (workbook_base/local_model.py) ---------
# The stand-in server plays llama-server here; the real one runs in the local tier (tests/test_local_tier.py).


def ask(client, content: str, max_tokens: int = 1000):
    return client.messages.create(model=MODEL, max_tokens=max_tokens, messages=[{"role": "user", "content": content}])


def test_with_no_key_a_request_never_recorded_goes_to_the_local_model_capped_and_is_kept_under_its_name(
    recordings, monkeypatch, capsys
):
    with StandinServer() as server:
        monkeypatch.setenv("WORKBOOK_LOCAL_MODEL", server.url)
        monkeypatch.setenv("WORKBOOK_LOCAL_REPLY_LIMIT", "40")
        client = get_client("lesson")
        banner = capsys.readouterr().out
        reply = ask(client, "Something never recorded")
        said = capsys.readouterr().out
        sent = [request for request in server.state.requests if request["path"] == "/v1/messages"]
        assert len(sent) == 1 and sent[0]["body"]["max_tokens"] == 40, "the local model is asked for at most the cap"
        assert sent[0]["body"]["model"] == LOCAL_MODEL, "and by its own name"
        again = ask(get_client("lesson", quiet=True), "Something never recorded")
        assert len([r for r in server.state.requests if r["path"] == "/v1/messages"]) == 1, "kept, then replayed"
    assert reply_text(again) == reply_text(reply)
    kept = recordings / IMPROVISED_FOLDER / LOCAL_MODEL / "lesson.json"
    data = json.loads(kept.read_text())
    assert data["provenance"] == "local" and data["models"] == [LOCAL_MODEL], "labelled as the local model's"
    assert data["interactions"][0]["server"], "with the server that answered"
    assert not (recordings / IMPROVISED_FOLDER / "lesson.json").exists(), "never where the API's replies are kept"
    for text in (banner, said):  # the banner, and the line of the request that went to the local model
        assert LOCAL_MODEL in text and LOCAL_MODEL_SIZE in text and "not Claude" in text, text
    assert "40" in banner and "40" not in said, "the cap is said once, in the banner"


def test_a_local_model_that_stopped_is_one_line_not_a_retried_traceback(recordings, monkeypatch):
    with StandinServer() as server:
        url = server.url
    monkeypatch.setenv("WORKBOOK_LOCAL_MODEL", url)  # nothing listens there any more
    with pytest.raises(LocalModelStoppedError) as raised:
        ask(get_client("lesson", quiet=True), "Anything")
    assert url in str(raised.value) and "\n" not in str(raised.value)


def test_live_on_the_local_model_every_request_goes_to_it_capped(recordings, monkeypatch):
    with StandinServer() as server:
        for name, value in local_model.live_settings(server.url).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("WORKBOOK_LOCAL_REPLY_LIMIT", "30")
        ask(get_client("lesson", quiet=True), "Hello", max_tokens=500)
        assert server.state.requests[-1]["body"]["max_tokens"] == 30
    assert list(recordings.iterdir()) == [], "live mode saves nothing"


def test_forget_drops_the_local_models_replies_too(recordings):
    from helpers.recordings import forget

    kept = recordings / IMPROVISED_FOLDER / LOCAL_MODEL / "03_statelessness.json"
    kept.parent.mkdir(parents=True)
    kept.write_text("{}")
    assert forget(recordings, ["03_statelessness"]) == [kept]


def test_a_damaged_model_file_is_one_line(tmp_path):
    truncated = tmp_path / local_model.MODEL_FILE
    truncated.write_bytes(b"GGUF" + b"\0" * 100)
    wrong = tmp_path / "other.gguf"
    wrong.write_bytes(b"JUNK" * (local_model.MODEL_BYTES // 4))
    for path in (truncated, wrong, tmp_path / "missing.gguf"):
        problem = local_model.model_problem(path)
        assert problem and str(path) in problem and "\n" not in problem, problem
        installed = local_model.Installed(server=Path(sys.executable), model=path, version="test")
        with pytest.raises(local_model.LocalModelError):
            local_model.LocalServer(installed, tmp_path / "log").start()


def test_a_port_in_use_is_refused_before_anything_starts(tmp_path, monkeypatch):
    monkeypatch.setattr(local_model, "model_problem", lambda path: None)  # no model file needed to see this
    installed = local_model.Installed(server=Path(sys.executable), model=tmp_path / "m.gguf", version="test")
    with socket.socket() as taken:
        taken.bind((local_model.HOST, 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(local_model.LocalModelError) as raised:
            local_model.LocalServer(installed, tmp_path / "log", port=port).start()
    assert str(port) in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize("platform", ["linux", "darwin", "win32"])
def test_no_compiler_is_one_line_per_system(platform, monkeypatch):
    monkeypatch.setenv("PATH", "")
    problem = local_model.compiler_problem(platform)
    assert problem and "\n" not in problem
    assert len({local_model.compiler_problem(p) for p in ("linux", "darwin", "win32")}) == 3, "each system its own"


def test_the_settings_go_to_env_only_when_asked_and_keep_every_other_line(tmp_path):
    env = tmp_path / ".env"
    env.write_text("ANTHROPIC_API_KEY=\nWORKBOOK_LOCAL_MODEL=http://127.0.0.1:1\n# a comment\n")
    local_model.write_env(env, local_model.explore_settings("http://127.0.0.1:8091"))
    assert env.read_text().splitlines() == [
        "ANTHROPIC_API_KEY=",
        "# a comment",
        "WORKBOOK_LOCAL_MODEL=http://127.0.0.1:8091",
    ]


def test_the_build_is_bounded_and_skips_what_the_server_does_not_need(monkeypatch):
    monkeypatch.delenv("LLAMA_CPP_BUILD_JOBS", raising=False)
    environment = local_model.build_environment({"CMAKE_ARGS": "-DGGML_METAL=ON"})
    assert 1 <= int(environment["LLAMA_CPP_BUILD_JOBS"]) <= 4
    assert "-DLLAMA_BUILD_TESTS=OFF" in environment["CMAKE_ARGS"] and "-DGGML_METAL=ON" in environment["CMAKE_ARGS"]


def test_the_default_install_stays_light():
    """`lab`, `test` and the student install never install the local model: only `local` does."""
    import workbook

    for install in (workbook.LESSONS, workbook.DEVELOPMENT):
        named = [(ROOT / name).read_text() for name in install.covers if name.startswith("requirements")]
        assert all("llama" not in text and "smollm" not in text for text in named), install.requirements
    pinned = [line for line in (ROOT / local_model.REQUIREMENTS).read_text().splitlines() if "==" in line]
    assert len(pinned) == 2, "the server and the model file, each at an exact version"


def test_lesson_00_shows_a_reply_recorded_from_the_local_model_to_the_same_question():
    from helpers.local_reply import recorded_local_reply
    from instructor.record_local_reply import hosted_question

    local = recorded_local_reply()
    assert local.question == hosted_question()[0], "the same question as the hosted call of lesson 00"
    assert local.model == LOCAL_MODEL and local.server, "with its provenance: the model and the server's build"
    assert reply_text(local.message), "and a reply"
