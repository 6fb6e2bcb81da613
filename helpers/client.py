"""get_client() and get_async_client(): the one place lessons and scripts get a client.

Only the HTTP transport underneath depends on the mode, so what a lesson shows
(the SDK's parsing, streaming, typed errors and retries) is what it would do
against the API.
"""

from __future__ import annotations

import contextlib
import html
from pathlib import Path
from typing import Any

import anthropic
import httpx2

from workbook_base.local_model import LOCAL_MODEL_SIZE

from .errors import SettingsError
from .provenance import PROVENANCE_TEXT, recording_text  # noqa: F401 - PROVENANCE_TEXT: its home, re-exported
from .recordings import IMPROVISED_FOLDER, LessonRecordings
from .settings import Mode, Settings, read_settings, redact_url
from .transport import AsyncWorkbookTransport, LocalModel, WorkbookTransport

# Long enough for a long answer, short enough that a dead network shows up in class.
DEFAULT_TIMEOUT = httpx2.Timeout(120.0, connect=5.0)

# Stands in for a key in replay, where nothing is sent anywhere.
_NO_KEY = "no-key-replay-only"


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
    settings, transport = _workbook_transport(lesson, stream_speed, quiet)
    return build_client(transport, **_options(settings, max_retries, timeout))


def get_async_client(
    lesson: str,
    *,
    max_retries: int | None = None,
    timeout: float | httpx2.Timeout | None = None,
    stream_speed: float | None = None,
    quiet: bool = False,
) -> anthropic.AsyncAnthropic:
    """get_client() for asyncio: an `anthropic.AsyncAnthropic` over the same recordings, modes and
    checks (one transport, two faces). Replayed timings are waited with asyncio.sleep, so calls
    replayed at the same time overlap as they did when they were recorded."""
    settings, core = _workbook_transport(lesson, stream_speed, quiet)
    return build_async_client(AsyncWorkbookTransport(core), **_options(settings, max_retries, timeout))


def _workbook_transport(lesson: str, stream_speed: float | None, quiet: bool) -> tuple[Settings, WorkbookTransport]:
    """The settings, and the transport that replays, records or forwards `lesson`'s requests."""
    settings = read_settings()
    _show_workbook_errors_briefly()
    if settings.mode in (Mode.RECORD, Mode.LIVE) and not settings.has_key:
        raise SettingsError(
            f"WORKBOOK_MODE={settings.mode.value} calls the API, which needs ANTHROPIC_API_KEY. Put it in "
            "the .env file (see .env.example); for a local server any non-empty value works. "
            "Or set WORKBOOK_MODE=auto to replay the recordings."
        )

    _check_recordings_folder(settings)
    local = None
    if settings.targets_local_model:
        every_request = not settings.explores_locally
        local = LocalModel(settings.local_model_url, settings.local_model, settings.local_max_tokens, every_request)
    recordings = LessonRecordings(settings.recordings_dir, lesson, settings.local_model if local else None)
    transport = WorkbookTransport(
        recordings,
        settings.mode,
        has_key=settings.has_key,
        base_path=settings.base_path,
        stream_speed=settings.stream_speed if stream_speed is None else stream_speed,
        local=local,
    )
    if not quiet:
        print(_banner(settings, recordings))
    return settings, transport


def _options(settings: Settings, max_retries: int | None, timeout: float | httpx2.Timeout | None) -> dict[str, Any]:
    return {
        "api_key": settings.api_key or _NO_KEY,
        "base_url": settings.base_url,
        "max_retries": anthropic.DEFAULT_MAX_RETRIES if max_retries is None else max_retries,
        "timeout": DEFAULT_TIMEOUT if timeout is None else timeout,
    }


class WorkbookClient(anthropic.Anthropic):
    """An `anthropic.Anthropic` that remembers the httpx2 transport it was built on, so that a layer
    can be composed on top of it later (helpers.faults.with_faults). Everything else is the SDK's."""

    def __init__(self, *args: Any, transport: httpx2.BaseTransport | None = None, **options: Any) -> None:
        if transport is not None:
            options["http_client"] = anthropic.DefaultHttpxClient(transport=transport)
        super().__init__(*args, **options)
        self.transport = transport

    def copy(self, **changes: Any) -> WorkbookClient:  # type: ignore[override]
        """The SDK's copy; it keeps the transport unless given another http_client."""
        copy = super().copy(**changes)
        if changes.get("http_client") is None:
            copy.transport = self.transport
        return copy

    with_options = copy


class AsyncWorkbookClient(anthropic.AsyncAnthropic):
    """WorkbookClient's async twin: an `anthropic.AsyncAnthropic` that keeps its httpx2 async transport."""

    def __init__(self, *args: Any, transport: httpx2.AsyncBaseTransport | None = None, **options: Any) -> None:
        if transport is not None:
            options["http_client"] = anthropic.DefaultAsyncHttpxClient(transport=transport)
        super().__init__(*args, **options)
        self.transport = transport

    def copy(self, **changes: Any) -> AsyncWorkbookClient:  # type: ignore[override]
        copy = super().copy(**changes)
        if changes.get("http_client") is None:
            copy.transport = self.transport
        return copy

    with_options = copy


def build_async_client(transport: httpx2.AsyncBaseTransport, **options: Any) -> AsyncWorkbookClient:
    """An async client whose requests all go through `transport` (options as for anthropic.AsyncAnthropic)."""
    return AsyncWorkbookClient(transport=transport, **options)


def build_client(transport: httpx2.BaseTransport, **options: Any) -> WorkbookClient:
    """A client whose requests all go through `transport` (options as for anthropic.Anthropic)."""
    return WorkbookClient(transport=transport, **options)


def rebuild_client(client: Any, transport: Any) -> Any:
    """A copy of `client` (same key, base URL, retries and timeout) whose requests go through `transport`:
    a WorkbookClient over an httpx2.BaseTransport, or an AsyncWorkbookClient over an AsyncBaseTransport."""
    if isinstance(client, AsyncWorkbookClient):
        copy = client.copy(http_client=anthropic.DefaultAsyncHttpxClient(transport=transport))
    elif isinstance(client, WorkbookClient):
        copy = client.copy(http_client=anthropic.DefaultHttpxClient(transport=transport))
    else:
        raise TypeError("this client was not made by helpers.get_client(); make it with get_client()")
    copy.transport = transport
    return copy


def client_transport(client: Any) -> Any:
    """The transport under a client from get_client() or get_async_client() (or build_client())."""
    transport = getattr(client, "transport", None) if isinstance(client, WorkbookClient | AsyncWorkbookClient) else None
    if transport is None:
        raise TypeError("this client was not made by helpers.get_client(); make it with get_client()")
    return transport


def replays_only(client: Any) -> bool:
    """Whether every request of this client (from get_client or get_async_client) is answered from the
    recordings: replay mode, or auto mode with no key. Then waits that stand for the server's time
    can be simulated; with a key, a request may reach the server, and its waits must be real."""
    transport = client_transport(client)
    while not isinstance(transport, WorkbookTransport | AsyncWorkbookTransport):  # under with_faults
        transport = getattr(transport, "inner", None)
        if transport is None:
            return False
    core = transport.core if isinstance(transport, AsyncWorkbookTransport) else transport
    return core.mode is Mode.REPLAY or (core.mode is Mode.AUTO and not core.has_key)


def _check_recordings_folder(settings: Settings) -> None:
    folder = settings.recordings_dir
    if settings.mode is Mode.LIVE or folder.is_dir():
        return
    problem = "is a file, not a folder" if folder.exists() else "does not exist"
    raise SettingsError(
        f"The recordings folder {folder} {problem}. Restore it with `git checkout -- recordings` in the "
        "workbook's folder, or point WORKBOOK_RECORDINGS_DIR at a folder that holds recordings."
    )


def what_happens(settings: Settings, recordings: LessonRecordings) -> str:
    """What the client's requests will do, in one sentence: the banner's first line.

    Replay mode and auto mode without a key say the same, as they do the same: so the banner stored
    in the notebooks (built in replay mode) is the one a student without a key sees.
    """
    mode, has_key = settings.mode, settings.has_key
    target = "the API" if settings.uses_default_endpoint else "the server"
    if settings.targets_local_model:
        return _what_the_local_model_does(settings, recordings)
    if mode is Mode.RECORD:
        saved_in = f"recordings/{recordings.shipped.path.name}"
        return f"Sending every request to {target} and saving each reply in {saved_in} (WORKBOOK_MODE=record)."
    if mode is Mode.LIVE:
        return f"Sending every request to {target} and saving nothing (WORKBOOK_MODE=live)."
    if not has_key:
        return (
            "Replaying recorded replies; no API key, so nothing is sent: a request never recorded stops with a message."
        )
    if mode is Mode.REPLAY:
        return "Replaying recorded replies only; nothing is sent, though a key is set (WORKBOOK_MODE=replay)."
    return (
        f"Replaying recorded replies; a request never recorded goes to {target}, and its reply is kept in "
        f"recordings/{IMPROVISED_FOLDER}/."
    )


def improvised_folder(recordings: LessonRecordings) -> Path:
    """Where auto mode keeps what it adds, as the recordings folder's name and what is below it."""
    return recordings.improvised.path.parent.relative_to(recordings.shipped.path.parent.parent)


def _what_the_local_model_does(settings: Settings, recordings: LessonRecordings) -> str:
    model = (
        f"the local model at {redact_url(settings.local_model_url)}: {settings.local_model}, a {LOCAL_MODEL_SIZE} "
        f"model on your machine, not Claude, its replies real output from it, capped at {settings.local_max_tokens} "
        "tokens so a CPU answers in seconds"
    )
    folder = improvised_folder(recordings)
    if settings.explores_locally:
        return (
            f"Replaying recorded replies; with no API key, a request never recorded goes to {model}. Kept in {folder}/."
        )
    mode = settings.mode
    saved = {
        Mode.RECORD: f"saving each reply in recordings/{recordings.shipped.path.name}",
        Mode.LIVE: "saving nothing",
    }.get(mode, f"replaying what is recorded first, and keeping the rest in {folder}/")
    return f"Sending every request to {model}; {saved} (WORKBOOK_MODE={mode.value})."


def _banner(settings: Settings, recordings: LessonRecordings) -> str:
    mode, shipped = settings.mode, recordings.shipped
    lines = [what_happens(settings, recordings)]
    if mode is not Mode.LIVE:
        held = recording_text(shipped.provenance, shipped.sources)
        lines.append(f"Recordings: recordings/{shipped.path.name}, {held}.")
    improvised = len(recordings.improvised.data["interactions"])
    if mode is Mode.AUTO and improvised:
        requests = "1 request" if improvised == 1 else f"{improvised} requests"
        lines.append(
            f"Improvised: {requests} recorded in class, in {improvised_folder(recordings)}/, replayed first "
            "(`python3 workbook.py forget` drops them)."
        )
    where = "" if settings.uses_default_endpoint else f" at {redact_url(settings.base_url)}"
    if settings.explores_locally:  # what is sent names the default model, so that recordings match
        where += f" for what is recorded; {settings.local_model} for the rest"
    lines.append(f"Model: {settings.model}{where}.")
    return "\n".join(lines)


# What a failed call raises in a notebook cell: the SDK's errors (the workbook's own among them), and the
# transport's, which a stream being read raises as they are. Each is shown as one line (helpers.cli).
_CALL_ERRORS: tuple[type[BaseException], ...] = (anthropic.AnthropicError, httpx2.TransportError)


def _show_workbook_errors_briefly() -> None:
    """In Jupyter, show a failed call as the one line a script prints (helpers.cli.explain_error), with the
    whole traceback folded away below it, and kept for `%tb`.

    Through IPython's public hooks: set_custom_exc catches the errors, and showtraceback() shows them, as
    the exception's own `_render_traceback_` (IPython's protocol for an exception that renders itself)
    says: the one line. The line is rendered once, so `%tb` afterwards shows the whole traceback.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or _CALL_ERRORS[0] in (shell.custom_exceptions or ()):
        return
    shell.set_custom_exc(_CALL_ERRORS, _show_one_line)


def _show_one_line(shell: Any, etype: type[BaseException], value: BaseException, tb: Any, tb_offset: Any = None):
    import traceback

    from IPython.display import display

    from .cli import explain_error

    line = f"\x1b[31m{etype.__name__}\x1b[0m: {explain_error(value)}"

    def render_once() -> list[str]:
        with contextlib.suppress(AttributeError):
            del value._render_traceback_  # type: ignore[attr-defined]
        return [line]

    try:
        value._render_traceback_ = render_once  # type: ignore[attr-defined]
    except AttributeError:  # an exception that takes no attributes: IPython's own traceback, then
        shell.showtraceback((etype, value, tb))
        return None
    shell.showtraceback((etype, value, tb))
    full = "".join(traceback.format_exception(etype, value, tb))
    folded = (
        "<details><summary>Full traceback (or run <code>%tb</code> in a new cell)</summary>"
        f"<pre>{html.escape(full)}</pre></details>"
    )
    display({"text/plain": "Full traceback: run %tb in a new cell.", "text/html": folded}, raw=True)
    return None
