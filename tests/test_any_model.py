"""Every lesson and script runs to its end against any Anthropic-compatible server, whatever the model replies.

The stand-in server in plain-text mode plays a small local model (qwen3:8b through Ollama, say):
every request gets a short plain-text reply, with no tool call, no JSON, no thinking and no cache
fields, and the model's name is one helpers/models.py has no record (so no price) for. Each solution
notebook (the student edition's exercise checks would print ❌) and each script must still run to its
end, with no error output: where a reply does not allow a step, the lesson says so and goes on.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tools.standin.http import StandinServer

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
LESSONS = sorted(path.name for path in SOLUTIONS.glob("[0-9][0-9]_*.ipynb"))
# Each script with its default arguments; retry_pattern with shorter waits before its injected 429 and 529.
# agent.py: the model answers in plain text at once, and count_tokens answers 404 (one line says so).
# batch_run.py: no reply names a category, so every ticket shows "(no category)" (one line says how many);
# many calls at once, as a local server has no Message Batches.
SCRIPTS = {
    "hello_api.py": [],
    "conversation.py": [],
    "retry_pattern.py": ["--base-delay", "0.01"],
    "agent.py": [],
    "batch_run.py": [],
}
UNPRICED_MODEL = "qwen3:8b"
ALLOWED_TO_RAISE = "raises-exception"  # nbclient's own tag for a cell meant to fail


@pytest.fixture(scope="module")
def local_model() -> Iterator[StandinServer]:
    with StandinServer(plain_text=True) as server:
        yield server


def environment(server: StandinServer, recordings: Path) -> dict[str, str]:
    """The environment of an instructor who points the workbook at a local model."""
    return {
        **os.environ,
        "WORKBOOK_MODE": "live",
        "ANTHROPIC_API_KEY": "ollama",
        "WORKBOOK_MODEL": UNPRICED_MODEL,
        "ANTHROPIC_BASE_URL": server.url,
        "WORKBOOK_RECORDINGS_DIR": str(recordings),
        "WORKBOOK_STREAM_SPEED": "0",
        "WORKBOOK_LIVE_DISPLAY": "plain",
        "IPYKERNEL_CELL_NAME": "<IPY-INPUT>",
        "MPLBACKEND": "Agg",
    }


def run_every_cell(path: Path, env: dict[str, str], timeout_s: float) -> nbformat.NotebookNode:
    """The notebook at `path` run in a kernel with `env`, every cell even after an error (so a report
    names every failure at once), from its own folder."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=timeout_s,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute(env=env)
    return notebook


def run_script_with_env(
    name: str, arguments: list[str], env: dict[str, str], timeout_s: float
) -> subprocess.CompletedProcess:
    """scripts/`name` run to its end as a user runs it, with what it printed captured."""
    command = [sys.executable, str(ROOT / "scripts" / name), *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout_s, env=env, cwd=ROOT)


def error_outputs(notebook: nbformat.NotebookNode) -> list[str]:
    """Every error and stderr output of the notebook's cells, as `cell-id: text`."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or ALLOWED_TO_RAISE in cell.metadata.get("tags", []):
            continue
        for output in cell.get("outputs", []):
            if output.output_type == "error":
                found.append(f"{cell.id}: {output.ename}: {output.evalue}")
            elif output.output_type == "stream" and output.name == "stderr":
                found.append(f"{cell.id}: stderr: {output.text}")
    return found


@pytest.mark.release
@pytest.mark.parametrize("lesson", LESSONS)
def test_every_solution_notebook_runs_to_its_end_on_a_plain_text_model(lesson, local_model, tmp_path):
    notebook = run_every_cell(SOLUTIONS / lesson, environment(local_model, tmp_path), timeout_s=120)
    errors = error_outputs(notebook)
    assert not errors, f"{lesson} on a plain-text model:\n" + "\n".join(errors)
    assert list(tmp_path.iterdir()) == [], "live mode must save nothing"


@pytest.mark.release
@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_runs_to_its_end_on_a_plain_text_model(script, local_model, tmp_path):
    result = run_script_with_env(script, SCRIPTS[script], environment(local_model, tmp_path), timeout_s=120)
    assert result.returncode == 0 and not result.stderr, f"{script}: exit {result.returncode}\n{result.stderr}"
    assert "Traceback" not in result.stdout and "error:" not in result.stdout, result.stdout


def test_the_plain_text_stand_in_answers_like_a_small_local_model(local_model, monkeypatch, tmp_path):
    from helpers import get_client

    monkeypatch.setenv("ANTHROPIC_BASE_URL", local_model.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "ollama")
    monkeypatch.setenv("WORKBOOK_MODE", "live")
    monkeypatch.setenv("WORKBOOK_RECORDINGS_DIR", str(tmp_path))
    client = get_client("lesson", quiet=True)
    tools = [{"name": "lookup", "description": "Look it up.", "input_schema": {"type": "object"}}]
    request = {"model": UNPRICED_MODEL, "max_tokens": 200, "messages": [{"role": "user", "content": "Reply in JSON."}]}
    reply = client.messages.create(**request, tools=tools)
    with client.messages.stream(**request) as stream:
        streamed = stream.get_final_message()
    for message in (reply, streamed):
        assert [block.type for block in message.content] == ["text"], "text only: no thinking, no tool call"
        assert message.model == UNPRICED_MODEL and message.stop_reason == "end_turn"
        assert message.usage.cache_creation_input_tokens is None and message.usage.cache_read_input_tokens is None
        assert not message.content[0].text.lstrip().startswith(("{", "[", "`")), "never JSON"
