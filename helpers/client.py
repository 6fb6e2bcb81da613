"""get_client(): the one place lessons and scripts get an `anthropic.Anthropic`.

Only the HTTP transport underneath depends on the mode, so what a lesson shows
(the SDK's parsing, streaming, typed errors and retries) is what it would do
against the API.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import anthropic
import httpx2

from .errors import ALL_WORKBOOK_ERRORS, SettingsError, WorkbookError
from .recordings import RecordingFile, WorkbookTransport
from .settings import Mode, read_settings

# Long enough for a long answer, short enough that a dead network shows up in class.
DEFAULT_TIMEOUT = httpx2.Timeout(120.0, connect=5.0)

# Stands in for a key in replay, where nothing is sent anywhere.
_NO_KEY = "no-key-replay-only"

_PROVENANCE_TEXT = {
    "sample": "SAMPLE replies written offline, not real model output",
    "recorded": "replies recorded from the API",
    "mixed": "partly SAMPLE replies written offline, partly recorded from the API",
    "empty": "nothing recorded yet",
}


def get_client(
    lesson: str,
    *,
    max_retries: int | None = None,
    timeout: float | httpx2.Timeout | None = None,
    stream_speed: float | None = None,
    quiet: bool = False,
) -> anthropic.Anthropic:
    """A client for `lesson`, whose recordings live in recordings/<lesson>.json.

    max_retries: the SDK's own retries (default 2); lesson 05 sets 0 to show its own loop.
    stream_speed: pace replayed streams (0 instant, 1 as recorded); default from WORKBOOK_STREAM_SPEED.
    """
    settings = read_settings()
    _show_workbook_errors_briefly()
    if settings.mode in (Mode.RECORD, Mode.LIVE) and not settings.has_key:
        raise SettingsError(
            f"WORKBOOK_MODE={settings.mode.value} calls the API, which needs ANTHROPIC_API_KEY. Put it in "
            "the .env file (see .env.example); for a local server any non-empty value works. "
            "Or set WORKBOOK_MODE=auto to replay the recordings."
        )

    recording = RecordingFile(settings.recordings_dir / f"{lesson}.json")
    transport = WorkbookTransport(
        recording,
        settings.mode,
        has_key=settings.has_key,
        stream_speed=settings.stream_speed if stream_speed is None else stream_speed,
    )
    client = anthropic.Anthropic(
        api_key=settings.api_key or _NO_KEY,
        base_url=settings.base_url,
        max_retries=anthropic.DEFAULT_MAX_RETRIES if max_retries is None else max_retries,
        timeout=DEFAULT_TIMEOUT if timeout is None else timeout,
        http_client=anthropic.DefaultHttpxClient(transport=transport),
    )
    if not quiet:
        print(_banner(settings.mode, recording, settings.model, settings.base_url, settings.uses_default_endpoint))
    return client


def _banner(mode: Mode, recording: RecordingFile, model: str, base_url: str, default_endpoint: bool) -> str:
    lines = [
        f"Mode: {mode.value} ({mode.explanation}).",
        f"Recordings: recordings/{recording.path.name}, {_PROVENANCE_TEXT[recording.provenance]}.",
        f"Model: {model}" + ("" if default_endpoint else f" at {base_url}") + ".",
    ]
    if mode is Mode.LIVE:
        lines.pop(1)
    return "\n".join(lines)


def _show_workbook_errors_briefly() -> None:
    """In Jupyter, show a WorkbookError as its message alone: the traceback adds nothing to fix."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or getattr(shell, "_workbook_errors_brief", False):
        return

    def show(shell, etype, value, tb, tb_offset=None):
        message = f"\x1b[31m{etype.__name__}\x1b[0m: {value}"
        shell._showtraceback(etype, value, [message])
        return [message]

    shell.set_custom_exc(ALL_WORKBOOK_ERRORS, show)
    shell._workbook_errors_brief = True


def run_script(main: Callable[[], int | None]) -> int:
    """Run a script's main(); a problem the user can fix becomes one line on stderr and exit 1."""
    try:
        return main() or 0
    except WorkbookError as err:
        print(f"error: {err}", file=sys.stderr)
    except anthropic.APIStatusError as err:
        print(f"error: the API answered {err.status_code}: {err.message}", file=sys.stderr)
    except anthropic.APIConnectionError as err:
        print(f"error: could not reach the API ({err}). Check your network and ANTHROPIC_BASE_URL.", file=sys.stderr)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 1
