"""Show a streamed reply as it arrives, and time it.

In JupyterLab the text grows in place inside a widget (ipywidgets). Where widgets cannot
show (a terminal, a script) it is printed piece by piece instead; WORKBOOK_LIVE_DISPLAY=plain
asks for that in a notebook too (the tests set it, so stored outputs are text, not widgets).

    reply, timing = stream_live(client, model=MODEL, max_tokens=500, messages=[...])
    print(timing)   # first text after 0.61 s; whole reply after 3.20 s (57 pieces)
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import anthropic
import httpx2
from anthropic.types import Message

from .settings import setting
from .transport import REPLAYED_EVENTS

DisplayKind = Literal["widget", "plain"]


@dataclass
class StreamTiming:
    """When each piece of text arrived, in seconds after the request was sent."""

    arrivals: list[tuple[float, int]] = field(default_factory=list)  # (seconds, characters received so far)
    total: float = 0.0  # until the stream ended (message_stop)
    source: Literal["measured", "recorded"] = "measured"  # "recorded": a replay's times when it was recorded

    @property
    def first_text(self) -> float | None:
        """Time to first token: how long the reader waited before seeing anything."""
        return self.arrivals[0][0] if self.arrivals else None

    @property
    def characters(self) -> int:
        return self.arrivals[-1][1] if self.arrivals else 0

    def __str__(self) -> str:
        first = "no text" if self.first_text is None else f"first text after {self.first_text:.2f} s"
        counts = f"{len(self.arrivals)} pieces, {self.characters} characters"
        if self.source == "recorded":
            counts += "; times as recorded"
        return f"{first}; whole reply after {self.total:.2f} s ({counts})"


def recorded_timing(response: httpx2.Response) -> StreamTiming | None:
    """The stored arrival times of a replayed stream; None if `response` was not replayed."""
    events = response.extensions.get(REPLAYED_EVENTS)
    if not events:
        return None
    timing = StreamTiming(source="recorded")
    characters = 0
    for event in events:
        data = event.get("data")
        if event.get("event") == "content_block_delta" and isinstance(data, dict):
            delta = data.get("delta", {})
            if delta.get("type") == "text_delta" and delta.get("text"):
                characters += len(delta["text"])
                timing.arrivals.append((float(event.get("at", 0.0)), characters))
    timing.total = float(events[-1].get("at", 0.0))
    return timing


def describe_event(event: Any) -> str:
    """One short line for a raw stream event: its type, then what it carries."""
    kind = event.type
    if kind == "message_start":
        usage = event.message.usage
        detail = f"id={event.message.id}  input_tokens={usage.input_tokens}  output_tokens={usage.output_tokens}"
    elif kind == "content_block_start":
        detail = f"index={event.index}  type={event.content_block.type}"
    elif kind == "content_block_delta":
        delta = event.delta
        detail = f"index={event.index}  " + (f"text={delta.text!r}" if delta.type == "text_delta" else f"{delta.type}")
    elif kind == "content_block_stop":
        detail = f"index={event.index}"
    elif kind == "message_delta":
        detail = f"stop_reason={event.delta.stop_reason}  output_tokens={event.usage.output_tokens}"
    else:
        detail = ""
    return f"{kind:<20} {detail}".rstrip()


def print_events(events: list[Any], head: int = 6, tail: int = 4) -> None:
    """The first `head` and last `tail` events, one line each, and a count of those in between."""
    if not events:  # a server that ended the stream at once, say
        print("No events at all: the server's stream was empty.")
        return
    if len(events) <= head + tail:
        head, tail = len(events), 0
    for event in events[:head]:
        print(describe_event(event))
    if tail:
        skipped = events[head:-tail]
        kinds = " / ".join(sorted({event.type for event in skipped}))
        print(f"{'...':<20} {len(skipped)} more {kinds} events")
        for event in events[-tail:]:
            print(describe_event(event))
    print(f"{len(events)} events in all")


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def display_kind() -> DisplayKind:
    """'widget' in a Jupyter kernel with ipywidgets, unless WORKBOOK_LIVE_DISPLAY=plain; 'plain' anywhere else.

    A kernel cannot tell whether its front end draws widgets, so the tests, which only store outputs,
    set WORKBOOK_LIVE_DISPLAY=plain (TEST_ENVIRONMENT in workbook_base/environment.py).
    """
    if not _in_kernel() or (setting("WORKBOOK_LIVE_DISPLAY") or "auto").lower() == "plain":
        return "plain"
    try:
        import ipywidgets  # noqa: F401
    except ImportError:
        return "plain"
    return "widget"


class LiveText:
    """Text that grows as pieces are added: in place in a widget, or printed piece by piece."""

    CSS_CLASS = "workbook-live-text"  # lets a browser test find the box

    def __init__(self, kind: DisplayKind | None = None, *, out: Callable[[str], Any] | None = None) -> None:
        self.kind = kind or display_kind()
        self.text = ""
        self.status = ""
        self._out = out or (lambda piece: print(piece, end="", flush=True))
        self._body: Any = None
        self._status: Any = None

    def show(self) -> LiveText:
        if self.kind == "widget":
            import ipywidgets
            from IPython.display import display

            self._body = ipywidgets.HTML(value=self._html())
            self._body.add_class(self.CSS_CLASS)
            self._status = ipywidgets.Label(value="waiting for the first token ...")
            display(ipywidgets.VBox([self._body, self._status]))
        return self

    def append(self, piece: str) -> None:
        self.text += piece
        if self.kind == "widget":
            self._body.value = self._html()
        else:
            self._out(piece)

    def set_status(self, status: str) -> None:
        self.status = status
        if self.kind == "widget":
            self._status.value = status

    def finish(self, status: str) -> None:
        self.status = status
        if self.kind == "widget":
            self._status.value = status
        else:
            self._out(f"\n\n[{status}]\n")

    def _html(self) -> str:
        style = "white-space: pre-wrap; font-size: 1.1em; line-height: 1.45; max-width: 80ch; min-height: 1.5em"
        return f'<div style="{style}">{html.escape(self.text)}</div>'


def stream_live(
    client: anthropic.Anthropic,
    *,
    display: LiveText | None = None,
    clock: Callable[[], float] = time.monotonic,
    **request: Any,
) -> tuple[Message, StreamTiming]:
    """Send `request` with client.messages.stream, show its text as it arrives, and time it.

    Returns the final Message (with the whole text and the final usage) and the timing: measured
    here, or for a replayed stream the times stored in its recording (see the module's docstring).
    """
    live = (display or LiveText()).show()
    timing = StreamTiming()
    started = clock()
    with client.messages.stream(**request) as stream:
        for text in stream.text_stream:
            now = clock() - started
            live.append(text)
            timing.arrivals.append((now, len(live.text)))
            live.set_status(f"streaming: {len(live.text)} characters after {now:.1f} s")
        message = stream.get_final_message()
        response = stream.response
    timing.total = clock() - started
    timing = recorded_timing(response) or timing
    live.finish(str(timing))
    return message, timing
