"""The local-model path of lesson 00: the same code against any server that speaks the Messages API.

The stand-in server on 127.0.0.1 plays the part of Ollama or vLLM.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import MODEL, get_client, read_settings
from helpers.setup_check import setup_report
from tools.standin.http import StandinServer

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
