"""Exercise checks: each prints a clear pass or 'not yet' with a hint, and never raises.

A check never stops Run All: whatever the student's code does (returns the wrong
thing, raises, is still `...`), the check reports it and the notebook goes on.
One module per lesson: `from helpers.checks.lesson01 import check_request`. Each check is
registered with `@exercise(number, title)`, which also publishes its verdict for programs
(helpers/checks/verdicts.py) and for `progress("01")`, the line at the end of every lesson.

A notebook calls a check with the *name* of what it checks, as a string:
`check_request("my_request")`. The check looks the name up where it was called from (the
notebook's variables), so when an earlier cell failed and the name does not exist, the check
says "run the cells above first" instead of the cell stopping Run All with a NameError. Any
other argument is taken as the value itself (the tests pass values).
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import inspect
import os
import sysconfig
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType, ModuleType
from typing import Any

import anthropic
import httpx2

from ..client import build_client
from ..errors import MissingRecordingError
from ..models import MODELS
from ..settings import MODEL
from .verdicts import Exercise, Verdict, progress_line, publish, register

PASS = "✅ Correct"
NOT_YET = "❌ Not yet"


@dataclass(frozen=True)
class Outcome:
    passed: bool
    message: str


def report(passed: bool, message: str) -> Outcome:
    """Print the student's line; a check returns what this returns."""
    print(f"{PASS}: {message}" if passed else f"{NOT_YET}: {message}")
    return Outcome(passed, message)


def unanswered(value: Any) -> bool:
    return value is ... or value is None


def text_of(content: Any) -> str | None:
    """The text of a string, or of a non-empty list of text blocks (valid in the API too); else None."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list) or not content:
        return None
    if not all(isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str) for b in content):
        return None
    return "".join(block["text"] for block in content)


class _Missing:
    """What a name that the notebook has not defined looks up to."""


MISSING: Any = _Missing()


def lookup(name: str, frame: FrameType | None) -> Any:
    """The value `name` has where `frame` runs (its local names, then its module's), or MISSING."""
    if frame is None:
        return MISSING
    if name in frame.f_locals:
        return frame.f_locals[name]
    return frame.f_globals.get(name, MISSING)


def not_run_yet(name: str) -> str:
    return (
        f"`{name}` does not exist yet: run the cells above first (from the top, or Run All), then this "
        "one. If a cell above failed, its message says what to fix."
    )


_HELPERS = os.path.realpath(os.path.dirname(os.path.dirname(__file__))) + os.sep
_LIBRARIES = tuple(
    os.path.realpath(path) + os.sep
    for path in {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
)


def _in_students_code(err: BaseException) -> bool:
    """Whether `err` passed through code that is neither the workbook's helpers nor a library: the student's."""
    for frame, _ in traceback.walk_tb(err.__traceback__):
        filename = frame.f_code.co_filename
        if filename.startswith("<frozen"):
            continue
        path = os.path.realpath(filename)
        if not path.startswith(_HELPERS) and not path.startswith(_LIBRARIES):
            return True
    return False


INPUT_NOTE = "workbook_input"  # the attribute `given` puts on an exception: the input it was raised on


@contextlib.contextmanager
def given(what: str) -> Iterator[None]:
    """Run the student's code on one input: an exception it raises carries `what` (e.g. "a history with no
    messages"), so the hint can say which input the code crashed on."""
    try:
        yield
    except Exception as err:
        if not hasattr(err, INPUT_NOTE):
            setattr(err, INPUT_NOTE, what)
        raise


def _thinking_hint(err: BaseException) -> str | None:
    """The hint for `.text` read off a thinking block: the mistake lesson 01 warns about most."""
    if isinstance(err, AttributeError) and "ThinkingBlock" in str(err) and "text" in str(err):
        return (
            "your code read `.text` off a thinking block: the default model thinks first, so a reply's "
            "content[0] is often a thinking block, which has no text. Take the text from the blocks whose "
            "type is 'text' (lesson 01 shows how; helpers.replies.reply_text does it), not from a position."
        )
    return None


def explain(err: BaseException) -> str:
    """The hint for an exception raised while a check ran the student's code (and on which input, if known)."""
    hint = _explain(err)
    where = getattr(err, INPUT_NOTE, None)
    return f"for {where}, {hint}" if where else hint


def _explain(err: BaseException) -> str:
    thinking = _thinking_hint(err)
    if thinking is not None:
        return thinking
    if isinstance(err, MissingRecordingError) and _in_students_code(err):
        return (
            "your function called the API through a client of its own (the notebook's `client`, say), and "
            "nothing is recorded for that request. Use the client passed to your function: the check hands "
            "it a scripted model that answers every request."
        )
    name, text = type(err).__name__, str(err).strip()
    if not text:
        return f"your code raised {name}. Find the line it came from, fix it, run again."
    stop = "" if text.endswith((".", "!", "?")) else "."
    advice = "Read the message, fix, run again."
    if isinstance(err, NameError):
        home = _helpers_module_with(err.name)
        if home is not None:
            advice = f"Import it first: from {home} import {err.name}"
        else:
            advice = "If that name is defined in a cell above, run the cells above first; else fix the name."
    return f"your code raised {name}: {text}{stop} {advice}"


def _helpers_module_with(name: str | None) -> str | None:
    """The workbook module a lesson imports `name` from (helpers.retries for is_transient...), or None."""
    import pkgutil

    if not name:
        return None
    package = importlib.import_module("helpers")
    for module in pkgutil.iter_modules(package.__path__, "helpers."):
        if module.ispkg or module.name.rpartition(".")[2].startswith("_"):  # not __main__: it runs a command
            continue
        try:
            found = importlib.import_module(module.name)
        except Exception:  # a module that cannot be imported here (a missing optional package) holds nothing
            continue
        value = getattr(found, "__dict__", {}).get(name)
        if isinstance(value, ModuleType):  # `json` imported by a helpers module is the standard library's
            return None
        if value is not None and not name.startswith("_"):
            home = getattr(found.__dict__[name], "__module__", None)  # where a function or class is defined
            return home if isinstance(home, str) and home.startswith("helpers.") else module.name
    return None


def _run_check(
    check: Callable[..., Outcome], args: tuple[Any, ...], kwargs: dict[str, Any], caller: FrameType
) -> Outcome:
    values = [lookup(arg, caller) if isinstance(arg, str) else arg for arg in args]
    for arg, value in zip(args, values, strict=True):
        if value is MISSING:
            return report(False, not_run_yet(arg))
    try:
        outcome = check(*values, **kwargs)
    except (Exception, SystemExit) as err:  # the student's code may raise anything, or call sys.exit()
        return report(False, explain(err))
    if not isinstance(outcome, Outcome):
        raise TypeError(f"{check.__name__} must return report(...)")  # the workbook's bug, not the student's
    return outcome


def safely(check: Callable[..., Outcome]) -> Callable[..., Outcome]:
    """Look up the names a check is given; turn any exception inside it (usually the student's code's) into a hint."""

    @functools.wraps(check)
    def wrapper(*args: Any, **kwargs: Any) -> Outcome:
        caller = inspect.currentframe().f_back  # the caller's frame (public API)
        try:
            return _run_check(check, args, kwargs, caller)
        finally:
            del caller  # a frame kept alive would keep every notebook variable alive with it

    return wrapper


def exercise(number: int, title: str) -> Callable[[Callable[..., Outcome]], Callable[..., None]]:
    """Register a check as exercise `number` of its lesson (its module, lessonNN), and run it `safely`.

    Its verdict is published (for the progress line and the grader); the notebook sees None, so a
    check cell shows only the student's line.
    """

    def decorate(check: Callable[..., Outcome]) -> Callable[..., None]:
        lesson = check.__module__.rpartition(".lesson")[2]
        info = Exercise(lesson, number, title, check.__name__)
        register(info)

        @functools.wraps(check)
        def wrapper(*args: Any, **kwargs: Any) -> None:
            caller = inspect.currentframe().f_back  # the caller's frame (public API)
            try:
                outcome = _run_check(check, args, kwargs, caller)
            finally:
                del caller
            publish(Verdict(lesson, number, title, outcome.passed, outcome.message))

        wrapper.exercise = info  # type: ignore[attr-defined]
        return wrapper

    return decorate


def progress(lesson: str) -> None:
    """Print how many of a lesson's exercises pass right now: the line at the end of every lesson."""
    importlib.import_module(f"{__name__}.lesson{lesson}")  # registers its exercises, if no check ran yet
    print(progress_line(lesson))


SCRIPTED_THINKING = {"type": "thinking", "thinking": "", "signature": "c2NyaXB0ZWQgYnkgdGhlIGNoZWNr"}


def message_json(
    text: str, *, stop_reason: str = "end_turn", usage: dict[str, int] | None = None, model: str = MODEL
) -> dict[str, Any]:
    """A Message as the API sends it, for the scripted models the checks drive students' code with: it
    opens with a thinking block (empty, as the default display sends it) when `model` thinks by default,
    so code that reads content[0].text fails here as it would on the real model."""
    facts = MODELS.get(model)
    thinks = facts is not None and facts.adaptive_thinking_by_default
    content = [{"type": "text", "text": text}]
    if thinks:
        content.insert(0, SCRIPTED_THINKING)
    return {
        "id": "msg_check",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": usage or {"input_tokens": 10, "output_tokens": 5},
    }


def scripted_client(answer: Callable[[httpx2.Request], httpx2.Response]) -> anthropic.Anthropic:
    """A real SDK client whose every request is answered by `answer`: no recordings, no network, no retries."""
    return build_client(httpx2.MockTransport(answer), api_key="check", max_retries=0)
