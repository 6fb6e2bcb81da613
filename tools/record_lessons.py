"""Re-record every lesson's replies, then refresh the notebooks' stored outputs.

    .venv/bin/python -m tools.record_lessons            # from the API: needs ANTHROPIC_API_KEY
    .venv/bin/python -m tools.record_lessons --standin  # hand-written samples, offline

With a key (in .env or the shell, and ANTHROPIC_BASE_URL for another
Anthropic-compatible server), each lesson's solution edition is run in record mode,
so every request it makes is sent and saved; each companion script is run the same
way. Then both editions are re-run in replay mode to store their new outputs, and a
summary says what changed and what the recording cost.

--standin records from tools/standin_server.py instead: that is how the sample
recordings this repository ships were made, and they are labelled `sample`.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from anthropic.types import Usage

from helpers.costs import cost_usd
from helpers.recordings import recorded_message
from helpers.settings import RECORDINGS_DIR, read_settings
from tools import build_notebooks
from tools.standin_server import StandinServer

ROOT = build_notebooks.ROOT

# Each companion script, run with its default arguments, records into recordings/<name>.json.
SCRIPTS: dict[str, list[str]] = {
    "hello_api": ["scripts/hello_api.py"],
    "conversation": ["scripts/conversation.py"],
    "retry_pattern": ["scripts/retry_pattern.py"],
}


@dataclass
class Summary:
    name: str
    before: list[dict[str, Any]]
    after: list[dict[str, Any]]

    def changed(self) -> int:
        """How many requests are new or got a different reply (timings aside: they always differ)."""
        old = {json.dumps(item["request"], sort_keys=True): content(item["responses"]) for item in self.before}
        return sum(
            1
            for item in self.after
            if old.get(json.dumps(item["request"], sort_keys=True)) != content(item["responses"])
        )

    def usage(self) -> tuple[int, int, float]:
        """Input tokens, output tokens and dollars of every successful reply recorded."""
        tokens_in = tokens_out = 0
        dollars = 0.0
        for item in self.after:
            for response in item["responses"]:
                usage = usage_of(response)
                if usage is None:
                    continue
                tokens_in += usage.input_tokens
                tokens_out += usage.output_tokens
                dollars += cost_usd(usage, item.get("model") or "") or 0.0
        return tokens_in, tokens_out, dollars


def content(responses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Responses without their timings."""
    stripped = []
    for response in responses:
        response = {key: value for key, value in response.items() if key != "elapsed"}
        if "events" in response:
            response["events"] = [{k: v for k, v in event.items() if k != "at"} for event in response["events"]]
        stripped.append(response)
    return stripped


def usage_of(response: dict[str, Any]) -> Usage | None:
    """The usage of one recorded reply, or None for a failure."""
    message = recorded_message(response)
    return message.usage if message is not None else None


def _interactions(path: Path) -> list[dict[str, Any]]:
    return json.loads(path.read_text())["interactions"] if path.exists() else []


def record(environment: dict[str, str], only: list[str]) -> list[Summary]:
    summaries = []
    lessons = build_notebooks.all_lessons()
    for index, lesson in enumerate(lessons):
        if only and not any(lesson.name.startswith(prefix) for prefix in only):
            continue
        path = RECORDINGS_DIR / f"{lesson.name}.json"
        before = _interactions(path)
        path.unlink(missing_ok=True)  # the new file holds exactly what the lesson asks now
        print(f"recording {lesson.name} ...", flush=True)
        notebook = build_notebooks.build(lessons, index, "solution")
        build_notebooks.execute(notebook, build_notebooks.EDITIONS["solution"], environment)
        summaries.append(Summary(lesson.name, before, _interactions(path)))
    for name, command in SCRIPTS.items():
        if only and not any(name.startswith(prefix) for prefix in only):
            continue
        path = RECORDINGS_DIR / f"{name}.json"
        before = _interactions(path)
        path.unlink(missing_ok=True)
        print(f"recording {name} ...", flush=True)
        subprocess.run([sys.executable, *command], cwd=ROOT, env={**os.environ, **environment}, check=True)
        summaries.append(Summary(name, before, _interactions(path)))
    return summaries


def refresh_outputs(only: list[str]) -> None:
    """Re-run both editions in replay mode so their stored outputs show the new replies."""
    lessons = build_notebooks.all_lessons()
    for index, lesson in enumerate(lessons):
        if only and not any(lesson.name.startswith(prefix) for prefix in only):
            continue
        for edition, folder in build_notebooks.EDITIONS.items():
            print(f"refreshing {folder.name}/{lesson.filename} ...", flush=True)
            notebook = build_notebooks.execute(build_notebooks.build(lessons, index, edition), folder)
            nbformat.write(notebook, folder / lesson.filename)


def print_summary(summaries: list[Summary]) -> None:
    print()
    print(f"{'recording':<24}{'requests':>9}{'changed':>9}{'input tok':>11}{'output tok':>11}{'cost':>11}")
    total = 0.0
    for summary in summaries:
        tokens_in, tokens_out, dollars = summary.usage()
        total += dollars
        print(
            f"{summary.name:<24}{len(summary.after):>9}{summary.changed():>9}{tokens_in:>11}{tokens_out:>11}"
            f"{'$' + format(dollars, '.4f'):>11}"
        )
    print(f"{'total':<74}{'$' + format(total, '.4f'):>11}")
    print("Review the changes with `git diff recordings/`, then commit them with the refreshed notebooks.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("only", nargs="*", help="prefixes of the lessons or scripts to record (default: all)")
    parser.add_argument("--standin", action="store_true", help="record the hand-written samples, offline")
    args = parser.parse_args()

    base = {"WORKBOOK_MODE": "record", "WORKBOOK_STREAM_SPEED": "0", "WORKBOOK_RECORDINGS_DIR": ""}
    if args.standin:
        # Paced like a real model, so replayed streams in lecture mode look like streams.
        with StandinServer(pace=0.04, first_token_delay=0.6) as server:
            environment = {
                **base,
                "ANTHROPIC_BASE_URL": server.url,
                "ANTHROPIC_API_KEY": "standin",
                "WORKBOOK_MODEL": "",
            }
            summaries = record(environment, args.only)
    else:
        settings = read_settings()
        if not settings.has_key:
            raise SystemExit(
                "Recording needs ANTHROPIC_API_KEY (in .env or your shell). For a local "
                "Anthropic-compatible server, set ANTHROPIC_BASE_URL too; any non-empty key works."
            )
        summaries = record(
            {**base, "ANTHROPIC_API_KEY": settings.api_key or "", "ANTHROPIC_BASE_URL": settings.base_url}, args.only
        )
    refresh_outputs(args.only)
    print_summary(summaries)


if __name__ == "__main__":
    main()
