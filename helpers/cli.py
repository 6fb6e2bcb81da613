"""Running a script's main(): any failure becomes one line on stderr that says what to do.

    if __name__ == "__main__":
        raise SystemExit(run_script(main))

Each line reads `error: <what happened>. <what to do>.`: a 401 says to check the key, a 404 the
model name, a 429 or 529 to try again later, and so on (explain_error). A script never shows a
traceback, not even for a bug of its own, which then shows as one `unexpected` line; set
WORKBOOK_DEBUG=1 to see the traceback.
"""

from __future__ import annotations

import json
import re
import sys
import traceback
from collections.abc import Callable

import anthropic
import httpx2
import pydantic

from .errors import WorkbookError
from .retries import RETRYABLE_ERROR_TYPES, retry_after_seconds
from .settings import MODEL, setting
from .wire import error_message, error_type

MAX_QUOTE = 200  # the most of a server's own message a line quotes

_BASE_URL_HINT = "Check that ANTHROPIC_BASE_URL points at the Anthropic API or a server compatible with it"


def run_script(main: Callable[[], int | None]) -> int:
    """Run a script's main() and return its exit status: 0, main's own, 1 after a failure, 130 on Ctrl-C."""
    try:
        return main() or 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as err:  # everything, so a script never ends in a traceback (see the module's docstring)
        if (setting("WORKBOOK_DEBUG") or "0") != "0":
            traceback.print_exc()
        print(explain_error(err), file=sys.stderr)
        return 1


def explain_error(error: BaseException) -> str:
    """One line for any failure a script can meet: `error: <what happened>. <what to do>.`"""
    return "error: " + _one_line(_explain(error))


def _explain(error: BaseException) -> str:
    if isinstance(error, WorkbookError):  # its message already says what to do
        return str(error)
    if isinstance(error, anthropic.APIStatusError):
        return _explain_status(error)
    if isinstance(error, anthropic.APITimeoutError):
        return f"no answer from {_server(error)} in time. Try again; if it keeps happening, check ANTHROPIC_BASE_URL"
    if isinstance(error, anthropic.APIConnectionError):
        cause = error.__cause__
        if isinstance(cause, httpx2.ConnectError) or not isinstance(cause, httpx2.TransportError):
            return (
                f"could not reach the server at {_server(error)}{_detail(cause)}. "
                "Check the network and ANTHROPIC_BASE_URL"
            )
        return (
            f"the connection to {_server(error)} broke off before the reply was complete{_detail(cause)}. "
            "Try again; if it keeps happening, check ANTHROPIC_BASE_URL"
        )
    if isinstance(error, httpx2.TransportError):  # raised as it is while a stream is being read
        timed_out = isinstance(error, httpx2.TimeoutException)
        what = "no more of it arrived in time" if timed_out else "the connection failed"
        return f"the reply broke off: {what}{_detail(error)}. Try again"
    if isinstance(error, json.JSONDecodeError | anthropic.APIResponseValidationError | pydantic.ValidationError):
        return f"the server's reply was not in the Messages API format{_detail(error)}. {_BASE_URL_HINT}"
    return f"unexpected {type(error).__name__}: {_quote(str(error)) or 'no message'}. Set WORKBOOK_DEBUG=1 to see where"


def _explain_status(error: anthropic.APIStatusError) -> str:
    status = error.status_code
    said = _said(error)
    if status == 200:  # an `error` event inside a stream that had started well
        kind = error_type(error)
        advice = "Try again later" if kind in RETRYABLE_ERROR_TYPES else "Try again"
        return f"the reply broke off with an error inside the stream{said}. {advice}"
    if status == 400:
        return f"the API rejected the request{said}. Change what the message names, and send it again"
    if status == 401:
        return f"the API did not accept the key{said}. Check ANTHROPIC_API_KEY in .env"
    if status == 402:
        return f"the account cannot pay for this request{said}. Check the billing page of the Anthropic Console"
    if status == 403:
        return (
            f"the key lacks permission for this request{said}. "
            "Check the key's workspace and permissions in the Anthropic Console, or use another key"
        )
    if status == 404:
        return (
            f"the API found no such model or address{said}. "
            f"Check the model name WORKBOOK_MODEL ({MODEL}), or ANTHROPIC_BASE_URL"
        )
    if status == 413:
        return f"the request is too large for the API{said}. Send less: a shorter prompt or fewer, smaller files"
    if status == 429:
        asked = retry_after_seconds(error)
        wait = f"Wait {_seconds(asked)} (the server's retry-after)" if asked is not None else "Wait a minute"
        return f"rate limited{said}. {wait} and try again later"
    if status == 529:
        return f"the service is overloaded{said}. Try again later"
    if status >= 500:
        return f"the service had a problem{said}. Try again later"
    if status in (408, 409):  # the server timed out, or met a conflicting request: worth another try
        return f"the API could not handle the request just now{said}. Try again"
    return f"the API refused the request{said}. The message says what is wrong"


def _said(error: anthropic.APIStatusError) -> str:
    """' (429 rate_limit_error: <the API's message>; request-id req_...)', never the raw body."""
    kind = error_type(error)
    head = f"{error.status_code} {kind or error.response.reason_phrase or 'error'}".strip()
    message = _quote(error_message(error) or "")
    if kind is None and not message and error.body is not None:  # an HTML page from a proxy, say
        content_type = error.response.headers.get("content-type", "").split(";")[0].strip() or "unknown"
        message = f"a {content_type} reply, not the API's error format"
    parts = [f"{head}: {message}" if message else head]
    if error.request_id:
        parts.append(f"request-id {error.request_id}")
    return f" ({'; '.join(parts)})"


def _detail(error: BaseException | None) -> str:
    """' (ReadTimeout: timed out)' for a lower-level error, or '' when there is none."""
    if error is None:
        return ""
    text = _quote(str(error))
    return f" ({type(error).__name__}: {text})" if text else f" ({type(error).__name__})"


def _server(error: anthropic.APIError) -> str:
    """The scheme, host and port the request went to, without any user:password@ in the URL."""
    url = error.request.url
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


def _quote(text: str) -> str:
    """A server's text made fit for one line: whitespace collapsed, a final period dropped, capped."""
    text = " ".join(text.split()).rstrip(". ")
    return text if len(text) <= MAX_QUOTE else text[: MAX_QUOTE - 1].rstrip() + "…"


def _one_line(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _seconds(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.2g} s"
