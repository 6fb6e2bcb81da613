"""helpers.streaming and the lesson 04/05 plots: the live display, its fallback, and the timings."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import matplotlib
import pytest

from helpers import MODEL, get_client, reply_text
from helpers.faults import with_faults
from helpers.plots import attempt_kind, plot_retry_timeline, plot_stream_timing
from helpers.retries import Attempt, RetryLog
from helpers.streaming import LiveText, StreamTiming, display_kind, print_events, stream_live

matplotlib.use("Agg")

STORY = (
    "In about 150 words, describe what happens between pressing Enter in a chat app and seeing the model's first word."
)
REQUEST = {"model": MODEL, "max_tokens": 600, "messages": [{"role": "user", "content": STORY}]}


def lesson_client(monkeypatch, speed: float = 0):
    monkeypatch.setenv("WORKBOOK_MODE", "replay")
    return get_client("04_streaming", quiet=True, stream_speed=speed, max_retries=0)


def test_outside_jupyter_the_display_is_plain_text():
    assert display_kind() == "plain"


def test_plain_display_prints_each_piece_then_a_status_line(monkeypatch):
    out = io.StringIO()
    with redirect_stdout(out):
        reply, timing = stream_live(lesson_client(monkeypatch), **REQUEST)
    text = reply_text(reply)
    assert out.getvalue().startswith(text), "the pieces, printed in order, make up the whole reply"
    assert "first text after" in out.getvalue().splitlines()[-1]
    assert timing.characters == len(text) and len(timing.arrivals) == len(recorded_text_deltas())


def test_the_widget_grows_in_place_as_pieces_arrive():
    pytest.importorskip("ipywidgets")
    live = LiveText("widget")
    live.show = lambda: live  # no front end here: build the widgets without displaying them
    import ipywidgets

    live._body, live._status = ipywidgets.HTML(), ipywidgets.Label()
    seen = []
    live._body.observe(lambda change: seen.append(change["new"]), names="value")
    for piece in ["Hello", ", ", "<world>"]:
        live.append(piece)
    assert len(seen) == 3, "one update per piece: the text grows in place"
    assert "Hello, &lt;world&gt;" in seen[-1], "the text is escaped, not interpreted as HTML"
    live.finish("done")
    assert live._status.value == "done"


def recorded_events():
    import json
    from pathlib import Path

    data = json.loads((Path(__file__).resolve().parent.parent / "recordings" / "04_streaming.json").read_text())
    for item in data["interactions"]:
        if item["request"]["body"]["messages"][0]["content"] == STORY:
            return item["responses"][0]["events"]
    raise AssertionError("the lesson's story request is not recorded")


def recorded_text_deltas():
    """The recorded story's pieces of text (the deltas that carry some), whatever their number and size."""
    return [
        event
        for event in recorded_events()
        if event["data"].get("delta", {}).get("type") == "text_delta" and event["data"]["delta"].get("text")
    ]


def test_an_instant_replay_reports_the_recorded_times(monkeypatch):
    with redirect_stdout(io.StringIO()) as out:
        _, timing = stream_live(lesson_client(monkeypatch, speed=0), **REQUEST)
    events, deltas = recorded_events(), recorded_text_deltas()
    assert timing.source == "recorded", "an instant replay reports the times the events were recorded at"
    assert timing.first_text == deltas[0]["at"] and timing.total == events[-1]["at"]
    assert [t for t, _ in timing.arrivals] == [delta["at"] for delta in deltas]
    times = [t for t, _ in timing.arrivals]
    assert times == sorted(times)
    assert "times as recorded" in out.getvalue().splitlines()[-1]


def test_paced_replay_also_reports_the_recorded_times(monkeypatch, sleeps):
    with redirect_stdout(io.StringIO()):
        _, timing = stream_live(lesson_client(monkeypatch, speed=8), **REQUEST)
    assert timing.source == "recorded" and timing.total == recorded_events()[-1]["at"]
    assert sleeps and sum(sleeps) == pytest.approx(timing.total / 8), "a replay at speed 8 waits an eighth of the time"


def test_a_reply_not_replayed_is_timed_by_the_clock():
    from helpers.checks.lesson04 import recording_client

    ticks = iter(range(1000))
    with redirect_stdout(io.StringIO()):
        _, timing = stream_live(recording_client([]), clock=lambda: float(next(ticks)), **REQUEST)
    assert timing.source == "measured"
    assert timing.first_text == 1.0, "one tick after the start"
    assert "as recorded" not in str(timing)


def test_a_stream_refused_as_overloaded_raises_the_sdks_error(monkeypatch):
    import anthropic

    client = with_faults(lesson_client(monkeypatch), ["529"])
    with pytest.raises(anthropic.OverloadedError), redirect_stdout(io.StringIO()):
        stream_live(client, **REQUEST)


def test_print_events_shows_start_and_end_and_counts_the_middle(monkeypatch):
    client = lesson_client(monkeypatch)
    events = list(
        client.messages.create(
            model=MODEL,
            max_tokens=100,
            messages=[{"role": "user", "content": "In one sentence, what is a token?"}],
            stream=True,
        )
    )
    out = io.StringIO()
    with redirect_stdout(out):
        print_events(events, head=3, tail=2)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("message_start") and lines[-2].startswith("message_stop")
    assert f"{len(events) - 5} more" in lines[3]
    assert lines[-1] == f"{len(events)} events in all"


def test_the_timing_plot_has_labelled_axes_with_units():
    timing = StreamTiming(arrivals=[(0.6, 10), (0.7, 25), (1.5, 80)], total=1.6)
    ax = plot_stream_timing(timing).axes[0]
    assert "(s)" in ax.get_xlabel() and ax.get_ylabel()
    assert str(timing) == "first text after 0.60 s; whole reply after 1.60 s (3 pieces, 80 characters)"


def test_the_timing_plot_says_when_times_are_recorded_and_when_they_are_near_zero():
    recorded = StreamTiming(arrivals=[(0.6, 10), (1.5, 80)], total=1.6, source="recorded")
    assert "recorded" in plot_stream_timing(recorded).axes[0].get_title()
    instant = StreamTiming(arrivals=[(0.001, 10), (0.002, 80)], total=0.003)
    texts = [text.get_text() for text in plot_stream_timing(instant).axes[0].texts]
    assert any("stream speed 0 is instant" in text for text in texts)


def test_a_reply_without_text_has_no_first_text_time():
    timing = StreamTiming(total=0.4)
    assert timing.first_text is None and str(timing).startswith("no text;")


def test_the_retry_timeline_has_one_row_per_attempt():
    log = RetryLog(
        attempts=[
            Attempt(1, 0.0, 0.01, "429 rate_limit_error", True, 1.0, "retry-after"),
            Attempt(2, 1.01, 1.02, "400 invalid_request_error", False),
        ]
    )
    ax = plot_retry_timeline(log).axes[0]
    assert [label.get_text() for label in ax.get_yticklabels()] == [
        "1: 429 rate_limit_error",
        "2: 400 invalid_request_error",
    ]
    assert "(s)" in ax.get_xlabel()
    assert [attempt_kind(a) for a in log.attempts] == ["transient", "permanent"]
    with pytest.raises(ValueError):
        plot_retry_timeline(RetryLog())
