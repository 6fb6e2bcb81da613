"""Exercise checks: each prints a clear pass or 'not yet' with a hint, and never raises.

A check never stops Run All: whatever the student's code does (returns the wrong
thing, raises, is still `...`), the check reports it and the notebook goes on.
One module per lesson: `from helpers.checks.lesson01 import check_request`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import anthropic
import httpx2

from ..client import build_client
from ..settings import MODEL

PASS = "✅ Correct"
NOT_YET = "❌ Not yet"


def report(passed: bool, message: str) -> None:
    print(f"{PASS}: {message}" if passed else f"{NOT_YET}: {message}")


def unanswered(value: Any) -> bool:
    return value is ... or value is None


def safely(check: Callable[..., None]) -> Callable[..., None]:
    """Turn any exception inside a check (usually from the student's code) into a hint."""

    @functools.wraps(check)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            return check(*args, **kwargs)
        except Exception as err:  # the student's code may raise anything
            return report(False, f"your code raised {type(err).__name__}: {err}. Read the message, fix, run again.")

    return wrapper


def message_json(
    text: str, *, stop_reason: str = "end_turn", usage: dict[str, int] | None = None, model: str = MODEL
) -> dict[str, Any]:
    """A Message as the API sends it, for the scripted models the checks drive students' code with."""
    return {
        "id": "msg_check",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage or {"input_tokens": 10, "output_tokens": 5},
    }


def scripted_client(answer: Callable[[httpx2.Request], httpx2.Response]) -> anthropic.Anthropic:
    """A real SDK client whose every request is answered by `answer`: no recordings, no network, no retries."""
    return build_client(httpx2.MockTransport(answer), api_key="check", max_retries=0)
