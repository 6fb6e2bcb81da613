"""Plots for the lessons, drawn to be read on a projector from the back of the room.

Every plot starts from `projector_axes()`, so all lessons share one look: a modest
figure (small enough to keep notebooks light), large fonts, labelled axes.
Each plot's numbers are computed by a separate function, so tests check the data,
not the pixels.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import accumulate
from typing import TYPE_CHECKING, Any

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

if TYPE_CHECKING:  # only for the type hints: the plots read these objects, they do not make them
    from .retries import Attempt, RetryLog
    from .streaming import StreamTiming

# --- the shared style -----------------------------------------------------------

# Left out of every PNG shown inline: by default matplotlib writes its version into each one (the
# "Software" text chunk), and upgrading it would then change every plot stored in the notebooks.
PNG_METADATA: dict[str, str | None] = {"Software": None}


def _inline_pngs_without_software() -> None:
    """In Jupyter, make the inline backend save figures with PNG_METADATA, through its own configuration
    (what `%config InlineBackend.print_figure_kwargs` sets). Outside IPython there is nothing to set."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.config import InlineBackend
    except ImportError:
        return
    shell = get_ipython()
    if shell is None:
        return
    backend = InlineBackend.instance(parent=shell)  # as the backend itself gets it: with the shell's config
    backend.print_figure_kwargs = {**backend.print_figure_kwargs, "metadata": PNG_METADATA}


_inline_pngs_without_software()


FIGSIZE = (8.0, 4.5)  # inches: 16:9, like a projector
DPI = 90  # enough for a projector, small enough to keep the stored PNG in the notebook light

PROJECTOR_RC: dict[str, Any] = {
    "font.size": 14,
    "axes.titlesize": 16,
    "axes.titleweight": "bold",
    "axes.labelsize": 14,
    "xtick.labelsize": 13,
    "ytick.labelsize": 13,
    "legend.fontsize": 12,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 2.5,
    "lines.markersize": 8,
    "figure.facecolor": "white",
}


@contextmanager
def projector_axes(
    title: str, xlabel: str, ylabel: str, *, figsize: tuple[float, float] = FIGSIZE
) -> Iterator[tuple[Figure, Axes]]:
    """A titled, labelled figure in the shared style; draw on `ax` inside the `with` block.

    with projector_axes("Title", "x (unit)", "y (unit)") as (figure, ax):
        ax.plot(...)

    The style applies to everything drawn inside the block, and to nothing else.
    """
    with plt.rc_context(PROJECTOR_RC):
        figure, ax = plt.subplots(figsize=figsize, dpi=DPI, layout="constrained")
        # The first figure loads the backend, and Jupyter's inline backend then turns on
        # interactive mode. rc_context would undo that on exit, and later plots would not show.
        interactive = matplotlib.is_interactive()
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        yield figure, ax
    matplotlib.interactive(interactive)


# --- token growth ---------------------------------------------------------------


@dataclass(frozen=True)
class TokenGrowth:
    """Input tokens of each call of a conversation, and their running total."""

    per_turn: list[int]
    cumulative: list[int]

    @property
    def turns(self) -> list[int]:
        """Turn numbers, counted from 1 as a person would."""
        return list(range(1, len(self.per_turn) + 1))

    @property
    def total(self) -> int:
        """Every input token sent over the whole conversation: what you are billed for."""
        return self.cumulative[-1] if self.cumulative else 0


def _field(source: Any, name: str) -> int:
    value = source.get(name) if isinstance(source, Mapping) else getattr(source, name, None)
    return int(value or 0)


def input_tokens_of(item: Any) -> int:
    """All the input one call sent: a plain count, or the usage of a Message, Usage or dict.

    With prompt caching, `input_tokens` counts only the uncached part, so the tokens
    written to and read from the cache are added back: the model read them all.
    """
    if isinstance(item, bool):  # bool is an int in Python; a True here is surely a mistake
        raise TypeError(f"expected a token count or a usage, got {item!r}")
    if isinstance(item, int):
        if item < 0:
            raise ValueError(f"a token count cannot be negative: {item}")
        return item
    usage = item.get("usage", item) if isinstance(item, Mapping) else getattr(item, "usage", item)
    has_count = usage.get("input_tokens") is not None if isinstance(usage, Mapping) else hasattr(usage, "input_tokens")
    if not has_count:
        raise TypeError(
            f"expected a token count, a Message, or a usage with input_tokens; got {type(item).__name__}. "
            "Pass response.usage (or the response itself) for each call."
        )
    return (
        _field(usage, "input_tokens")
        + _field(usage, "cache_creation_input_tokens")
        + _field(usage, "cache_read_input_tokens")
    )


def token_growth(usages: Iterable[Any]) -> TokenGrowth:
    """Per-call and cumulative input tokens of a conversation, one entry per call, in order."""
    per_turn = [input_tokens_of(item) for item in usages]
    return TokenGrowth(per_turn=per_turn, cumulative=list(accumulate(per_turn)))


def plot_token_growth(usages: Iterable[Any], *, title: str = "Input tokens grow with every turn") -> Figure:
    """Bars: the input tokens each call sent. Line: the running total you pay for.

    `usages` is one entry per call: `response.usage`, the response itself, a usage dict
    from a recording, or a plain number. Returns the Figure; a notebook shows it, a
    script saves it with `figure.savefig("growth.png")`.
    """
    growth = token_growth(usages)
    if not growth.per_turn:
        raise ValueError("there is nothing to plot: pass the usage of at least one call")
    with projector_axes(title, "turn (one API call each)", "input tokens") as (figure, ax):
        ax.bar(growth.turns, growth.per_turn, color="#4C72B0", label="input tokens sent this turn")
        (line,) = ax.plot(
            growth.turns, growth.cumulative, marker="o", color="#DD8452", label="cumulative input tokens (billed)"
        )
        ax.annotate(
            f"{growth.total:,} in total",
            xy=(growth.turns[-1], growth.total),
            xytext=(-10, 8),
            textcoords="offset points",
            ha="right",
            color="#DD8452",
            fontweight="bold",
        )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter("{x:,.0f}")
        ax.set_ylim(0, growth.total * 1.15)
        ax.legend(loc="upper left")
        if len(growth.turns) <= 12:  # more labels than that would crowd the bars
            _label_bars(figure, ax, line, growth)
    return figure


COMPARED_COLOURS = ("#4C72B0", "#55A868", "#DD8452", "#8172B3")


def plot_token_growth_compared(
    runs: Mapping[str, Iterable[Any]], *, title: str = "Input tokens per call, compared"
) -> Figure:
    """Bars side by side: the input tokens of each call of several runs (up to four), labelled with
    each run's total. `runs` maps a label to one entry per call, as plot_token_growth takes them."""
    growths = {label: token_growth(usages) for label, usages in runs.items()}
    if not growths or not any(growth.per_turn for growth in growths.values()):
        raise ValueError("there is nothing to plot: pass at least one run with the usage of at least one call")
    if len(growths) > len(COMPARED_COLOURS):
        raise ValueError(f"compare at most {len(COMPARED_COLOURS)} runs in one plot")
    width = 0.8 / len(growths)
    with projector_axes(title, "call", "input tokens") as (figure, ax):
        for number, (label, growth) in enumerate(growths.items()):
            offset = (number - (len(growths) - 1) / 2) * width
            ax.bar(
                [turn + offset for turn in growth.turns],
                growth.per_turn,
                width=width,
                color=COMPARED_COLOURS[number],
                label=f"{label}: {growth.total:,} in total",
            )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_formatter("{x:,.0f}")
        ax.set_ylim(0, max(max(growth.per_turn, default=0) for growth in growths.values()) * 1.3)
        ax.legend(loc="upper left")
    return figure


def _label_bars(figure: Figure, ax: Axes, line: Any, growth: TokenGrowth) -> None:
    """Write each bar's count above it; where the line's marker sits on or just above the bar
    (always on the first bar, whose running total is its own count), above the marker instead."""
    fontsize, padding = 12, 3  # points
    figure.draw_without_rendering()  # lay the figure out, so a token's height in points is known
    points_per_token = ax.bbox.height * 72 / figure.dpi / growth.total / 1.15
    marker = line.get_markersize() / 2 + line.get_linewidth()  # points above the marker's centre
    for turn, sent, total in zip(growth.turns, growth.per_turn, growth.cumulative, strict=True):
        room = (total - sent) * points_per_token - marker  # points between the bar's top and the marker
        above_marker = room < padding + 1.4 * fontsize
        ax.annotate(
            f"{sent:,}",
            xy=(turn, total if above_marker else sent),
            xytext=(0, marker + padding if above_marker else padding),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=fontsize,
        )


# --- streaming: time to first token (lesson 04) ----------------------------------


def plot_stream_timing(timing: StreamTiming, *, title: str = "A streamed reply, piece by piece") -> Figure:
    """Characters received against time: the wait for the first token, then the text growing.

    `timing` comes from helpers.streaming.stream_live(). The dotted line marks the total time,
    when a call without streaming would have shown the whole reply at once. For a replayed stream
    the times are those stored in the recording, and the title says so.
    """
    times = [0.0] + [seconds for seconds, _ in timing.arrivals]
    characters = [0] + [count for _, count in timing.arrivals]
    span = max(timing.total, 1e-3)
    if timing.source == "recorded":
        title += "\n(replayed: the times it arrived when it was recorded)"
    with projector_axes(title, "time since the request was sent (s)", "characters received") as (figure, ax):
        ax.step(times, characters, where="post", color="#4C72B0", label="text received")
        if timing.first_text is not None:
            ax.axvspan(0, timing.first_text, color="#F2C14E", alpha=0.35, label="nothing to read yet")
            ax.annotate(
                f"first text\n{timing.first_text:.2f} s",
                xy=(timing.first_text, timing.characters * 0.6),
                xytext=(8, 0),
                textcoords="offset points",
            )
        ax.axvline(timing.total, color="#C44E52", linestyle=":", label="without streaming, all of it here")
        ax.annotate(
            f"whole reply\n{timing.total:.2f} s",
            xy=(timing.total, timing.characters * 0.1),
            xytext=(-8, 0),
            textcoords="offset points",
            ha="right",
        )
        if timing.total < 0.05:
            # Below the curve and above the "whole reply" label: the one empty corner of this plot.
            ax.text(
                0.93,
                0.32,
                "measured times near zero:\na replay at stream speed 0 is instant;\n"
                "set WORKBOOK_STREAM_SPEED=1 for the recorded pace",
                transform=ax.transAxes,
                ha="right",
                va="center",
                color="#555555",
                fontsize=11,
            )
        ax.set_xlim(0, span * 1.05)
        ax.set_ylim(0, max(timing.characters, 1) * 1.1)
        ax.legend(loc="upper left")
    return figure


# --- retries: attempts and waits (lesson 05) --------------------------------------

OUTCOME_COLOURS = {"ok": "#55A868", "transient": "#DD8452", "permanent": "#C44E52"}
WAIT_COLOUR = "#9E9E9E"


def attempt_kind(attempt: Attempt) -> str:
    """'ok', 'transient' or 'permanent': how an attempt is coloured on the timeline."""
    if attempt.outcome == "ok":
        return "ok"
    return "transient" if attempt.transient else "permanent"


def plot_retry_timeline(log: RetryLog, *, title: str = "Attempts and waits") -> Figure:
    """One row per attempt: a dot when the request was sent (coloured by outcome), a grey bar for the wait after.

    `log` is the RetryLog that helpers.retries.call_with_retries() filled in.
    """
    if not log.attempts:
        raise ValueError("there is nothing to plot: the log has no attempts")
    from matplotlib.patches import Patch

    rows = len(log.attempts)
    span = max(log.total, max(a.ended + a.wait for a in log.attempts), 1e-3)
    with projector_axes(title, "time since the first attempt (s)", "") as (figure, ax):
        for attempt in log.attempts:
            colour = OUTCOME_COLOURS[attempt_kind(attempt)]
            if attempt.ended - attempt.started > span * 0.01:  # the request itself, when it took visible time
                ax.barh(attempt.number, attempt.ended - attempt.started, left=attempt.started, height=0.5, color=colour)
            ax.plot(attempt.started, attempt.number, "o", color=colour, markersize=12)
            if attempt.wait:
                ax.barh(attempt.number, attempt.wait, left=attempt.ended, height=0.25, color=WAIT_COLOUR)
                ax.text(
                    attempt.ended + attempt.wait,
                    attempt.number,
                    f"  wait {attempt.wait:.2f} s ({attempt.waited_because})",
                    va="center",
                    fontsize=12,
                )
        ax.set_yticks(range(1, rows + 1), [f"{a.number}: {a.outcome}" for a in log.attempts])
        ax.set_ylim(rows + 1.3, 0.4)  # first attempt at the top; room at the bottom for the legend
        ax.set_xlim(-span * 0.03, span * 1.45)
        ax.grid(axis="y", visible=False)
        handles = [Patch(color=colour, label=kind) for kind, colour in OUTCOME_COLOURS.items()]
        handles.append(Patch(color=WAIT_COLOUR, label="waiting"))
        ax.legend(handles=handles, loc="lower right", ncols=4, fontsize=11)
    return figure


# --- many calls over time ---------------------------------------------------------------------

TIMELINE_COLOURS = ("#4C72B0", "#55A868", "#DD8452")


def plot_timelines(plans: Mapping[str, Sequence[tuple[float, float]]], *, title: str = "Calls over time") -> Figure:
    """One panel per plan, on one time axis: a bar from each call's start to its end (a Gantt chart),
    and the plan's total time. `plans` maps a label to (start, end) seconds per call, in call order."""
    if not plans or not any(plans.values()):
        raise ValueError("there is nothing to plot: pass at least one plan with one call")
    if len(plans) > len(TIMELINE_COLOURS):
        raise ValueError(f"plot at most {len(TIMELINE_COLOURS)} plans in one figure")
    longest = max(end for plan in plans.values() for _, end in plan)
    with plt.rc_context(PROJECTOR_RC):
        figure, axes = plt.subplots(
            len(plans), 1, figsize=FIGSIZE, dpi=DPI, layout="constrained", sharex=True, squeeze=False
        )
        interactive = matplotlib.is_interactive()
        figure.suptitle(title, fontweight="bold", fontsize=PROJECTOR_RC["axes.titlesize"])
        for ax, colour, (label, plan) in zip(axes[:, 0], TIMELINE_COLOURS, plans.items(), strict=False):
            calls = list(range(1, len(plan) + 1))
            ax.barh(calls, [end - start for start, end in plan], left=[start for start, _ in plan], color=colour)
            total = max(end for _, end in plan)
            ax.set_title(f"{label}: {total:.1f} s", loc="left", fontsize=PROJECTOR_RC["axes.labelsize"])
            ax.set_ylabel("call")
            ax.invert_yaxis()  # the first call on top, as it is read
            ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=4))
            ax.set_xlim(0, longest * 1.02)
        axes[-1, 0].set_xlabel("seconds from the first call")
    matplotlib.interactive(interactive)
    return figure
