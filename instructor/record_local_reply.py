"""Record the local model's reply that lesson 00 shows: lesson 00's first question, asked of SmolLM2.

    .venv/bin/python -m instructor.record_local_reply   # after `python3 workbook.py local` installed it once

It starts llama.cpp's llama-server as `python3 workbook.py local` does, sends the question of lesson
00's first call (read from recordings/00_where_models_run.json, so the two always ask the same) in
record mode, and replaces recordings/00_local_model.json with what came back, labelled `local`, with
the model's name and the server's build. Then rebuild the notebooks (`python -m tools.build_notebooks`).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from workbook_base import local_model

ROOT = Path(__file__).resolve().parent.parent
HOSTED = ROOT / "recordings" / "00_where_models_run.json"
LOCAL = ROOT / "recordings" / "00_local_model.json"
LESSON = LOCAL.stem


def hosted_question() -> tuple[str, int]:
    """The question and max_tokens of lesson 00's first call, as recorded."""
    body = json.loads(HOSTED.read_text(encoding="utf-8"))["interactions"][0]["request"]["body"]
    return body["messages"][-1]["content"], body["max_tokens"]


def main() -> int:
    installed = local_model.installed_in(ROOT / ".venv", ROOT)
    if installed is None:
        print("The local model is not installed: run `python3 workbook.py local` once first.", file=sys.stderr)
        return 1
    question, max_tokens = hosted_question()
    with (
        tempfile.TemporaryDirectory() as folder,
        local_model.LocalServer(installed, Path(folder) / "server.log") as server,
    ):
        settings = local_model.live_settings(server.url)
        os.environ.update({**settings, "WORKBOOK_MODE": "record", "WORKBOOK_RECORDINGS_DIR": folder})
        from helpers import MODEL, get_client, reply_text  # MODEL is read at import: after the settings

        client = get_client(LESSON)
        reply = client.messages.create(
            model=MODEL, max_tokens=max_tokens, messages=[{"role": "user", "content": question}]
        )
        print(f"{MODEL}: {reply_text(reply)}")
        shutil.copyfile(Path(folder) / f"{LESSON}.json", LOCAL)
    shutil.rmtree(folder, ignore_errors=True)
    print(f"Wrote {LOCAL.relative_to(ROOT)}; now rebuild the notebooks: .venv/bin/python -m tools.build_notebooks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
