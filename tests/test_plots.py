"""helpers.plots: the numbers behind the token-growth plot, and the labels a projector audience reads."""

from __future__ import annotations

import base64
import struct

import matplotlib

matplotlib.use("Agg")  # no window, whatever machine runs the tests

import matplotlib.pyplot as plt
import nbformat
import pytest
from anthropic.types import Message, Usage

from helpers import MODEL
from helpers.plots import (
    DPI,
    FIGSIZE,
    input_tokens_of,
    plot_token_growth,
    plot_token_growth_compared,
    projector_axes,
    token_growth,
)
from tools import build_notebooks


def message_with(usage: Usage) -> Message:
    return Message(
        id="msg_test",
        type="message",
        role="assistant",
        model=MODEL,
        content=[],
        stop_reason="end_turn",
        stop_sequence=None,
        usage=usage,
    )


def test_per_turn_and_cumulative_input_tokens_from_plain_numbers():
    growth = token_growth([30, 52, 95])
    assert growth.per_turn == [30, 52, 95]
    assert growth.cumulative == [30, 82, 177], "each cumulative entry is the sum of every turn so far"
    assert growth.turns == [1, 2, 3], "turns are counted from 1"
    assert growth.total == 177


def test_usages_messages_and_recorded_dicts_all_count_the_same():
    usage = Usage(input_tokens=40, output_tokens=9)
    recorded = {"usage": {"input_tokens": 40, "output_tokens": 9}}
    growth = token_growth([usage, message_with(usage), recorded, {"input_tokens": 40}])
    assert growth.per_turn == [40, 40, 40, 40]


def test_cached_tokens_count_as_input_the_model_read():
    # With caching, input_tokens is only the uncached part; the plot shows everything sent.
    written = Usage(input_tokens=20, output_tokens=5, cache_creation_input_tokens=1500, cache_read_input_tokens=0)
    read = Usage(input_tokens=60, output_tokens=5, cache_creation_input_tokens=0, cache_read_input_tokens=1500)
    assert input_tokens_of(written) == 1520
    assert input_tokens_of(read) == 1560


def test_an_empty_conversation_has_no_turns_and_a_zero_total():
    growth = token_growth([])
    assert (growth.per_turn, growth.cumulative, growth.total) == ([], [], 0)


@pytest.mark.parametrize("bad", [True, "120", None, object()])
def test_something_that_is_not_a_count_or_usage_is_refused_with_a_hint(bad):
    with pytest.raises(TypeError, match="usage"):
        token_growth([bad])


def test_a_negative_count_is_refused():
    with pytest.raises(ValueError, match="negative"):
        input_tokens_of(-1)


def test_the_plot_draws_one_bar_per_turn_and_the_running_total():
    figure = plot_token_growth([30, 52, 95])
    ax = figure.axes[0]
    bar_heights = [patch.get_height() for patch in ax.patches]
    assert bar_heights == [30, 52, 95]
    (line,) = ax.get_lines()
    assert list(line.get_ydata()) == [30, 82, 177], "the line should be the cumulative total"
    plt.close(figure)


def test_the_plot_labels_its_axes_with_units_and_has_a_legend():
    figure = plot_token_growth([Usage(input_tokens=10, output_tokens=1)])
    ax = figure.axes[0]
    assert "turn" in ax.get_xlabel()
    assert "tokens" in ax.get_ylabel()
    assert ax.get_title(), "a projected plot needs a title"
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert any("cumulative" in label for label in labels), labels
    plt.close(figure)


def test_the_plot_uses_the_shared_projector_style():
    figure = plot_token_growth([1, 2])
    assert tuple(figure.get_size_inches()) == FIGSIZE
    assert figure.dpi == DPI
    assert figure.axes[0].xaxis.label.get_fontsize() >= 14, "labels must be readable from the back of a room"
    plt.close(figure)


def test_the_shared_style_does_not_leak_into_other_plots():
    before = plt.rcParams["font.size"]
    with projector_axes("t", "x", "y") as (figure, _ax):
        assert plt.rcParams["font.size"] == 14
    plt.close(figure)
    assert plt.rcParams["font.size"] == before


def test_an_empty_conversation_cannot_be_plotted():
    with pytest.raises(ValueError, match="at least one call"):
        plot_token_growth([])


@pytest.mark.parametrize(
    "counts",
    [[36], [36, 60, 149], [677, 714, 772, 967, 1077, 1107], [10, 500, 520], [1, 2]],
    ids=["one-turn", "chat", "agent", "small-first", "tiny"],
)
def test_no_bar_label_overlaps_a_marker_of_the_line(counts):
    figure = plot_token_growth(counts)
    ax = figure.axes[0]
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    (line,) = ax.get_lines()
    radius = line.get_markersize() / 2 * figure.dpi / 72 + 1  # in pixels, with a pixel to spare
    markers = ax.transData.transform(list(zip(line.get_xdata(), line.get_ydata(), strict=True)))
    labels = [text for text in ax.texts if text.get_text().replace(",", "").isdigit()]
    assert [text.get_text() for text in labels] == [f"{count:,}" for count in counts]
    for text in labels:
        box = text.get_window_extent(renderer)
        for x, y in markers:
            apart = x + radius < box.x0 or x - radius > box.x1 or y + radius < box.y0 or y - radius > box.y1
            assert apart, f"the label {text.get_text()!r} overlaps the line's marker at ({x:.0f}, {y:.0f})"
    plt.close(figure)


def test_the_comparison_draws_each_runs_bars_side_by_side_with_its_total_in_the_legend():
    figure = plot_token_growth_compared({"whole": [100, 200, 300], "summarized": [100, 150]})
    ax = figure.axes[0]
    heights = [[bar.get_height() for bar in container] for container in ax.containers]
    assert heights == [[100, 200, 300], [100, 150]]
    first_call = [container[0].get_x() + container[0].get_width() / 2 for container in ax.containers]
    assert first_call[0] < 1 < first_call[1], "the runs' bars for one call stand side by side around it"
    assert [text.get_text() for text in ax.get_legend().get_texts()] == [
        "whole: 600 in total",
        "summarized: 250 in total",
    ]
    plt.close(figure)


@pytest.mark.parametrize("runs", [{}, {"empty": []}, {str(n): [1] for n in range(5)}])
def test_a_comparison_of_nothing_or_too_much_is_refused(runs):
    with pytest.raises(ValueError):
        plot_token_growth_compared(runs)


# --- the stored PNGs ------------------------------------------------------------

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
TEXT_CHUNKS = (b"tEXt", b"zTXt", b"iTXt")


def png_text_keys(png: bytes) -> list[str]:
    """The keywords of a PNG's text chunks (tEXt, zTXt, iTXt), in order: e.g. ["Software"]."""
    assert png.startswith(PNG_SIGNATURE), "not a PNG"
    keys, at = [], len(PNG_SIGNATURE)
    while at < len(png):
        length, kind = struct.unpack(">I4s", png[at : at + 8])
        if kind in TEXT_CHUNKS:
            keys.append(png[at + 8 : at + 8 + length].split(b"\0", 1)[0].decode("latin-1"))
        at += 12 + length  # length and type, the data, its CRC
    return keys


def stored_pngs(notebook: nbformat.NotebookNode) -> list[bytes]:
    return [
        base64.b64decode(output["data"]["image/png"])
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {})
    ]


def test_a_plot_shown_inline_in_a_notebook_carries_no_software_version():
    # Run in a kernel the way the notebooks are built, so the PNG is the one the inline backend stores.
    code = "from helpers.plots import plot_token_growth\n\nfigure = plot_token_growth([30, 52, 95])"
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    pngs = stored_pngs(build_notebooks.execute(notebook, build_notebooks.ROOT))
    assert len(pngs) == 1, f"the plot was not shown inline once but {len(pngs)} times"
    assert "Software" not in png_text_keys(pngs[0]), "the inline PNG names the matplotlib version that drew it"


def test_no_png_stored_in_the_notebooks_names_the_software_that_drew_it():
    notebooks = [path for folder in build_notebooks.EDITIONS.values() for path in sorted(folder.glob("*.ipynb"))]
    pngs = {path: stored_pngs(nbformat.read(path, as_version=4)) for path in notebooks}
    assert any(pngs.values()), "no notebook stores a PNG: nothing was checked"
    naming = [
        f"{path.parent.name}/{path.name}"
        for path, found in pngs.items()
        if any("Software" in png_text_keys(png) for png in found)
    ]
    assert not naming, f"these notebooks store PNGs with a Software chunk (rebuild them): {naming}"
