"""Costs: one price table, one readable line per call."""

import pytest
from anthropic.types import CacheCreation, Usage

from helpers import PRICES, cost_usd, usage_line
from helpers.models import MODELS


def test_cost_is_input_and_output_tokens_at_their_prices():
    price = PRICES["claude-sonnet-4-6"]
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert cost_usd(usage, "claude-sonnet-4-6") == price.input + price.output


def test_cache_writes_and_reads_are_priced_separately():
    price = PRICES["claude-sonnet-4-6"]
    usage = Usage(
        input_tokens=0, output_tokens=0, cache_creation_input_tokens=1_000_000, cache_read_input_tokens=1_000_000
    )
    assert cost_usd(usage, "claude-sonnet-4-6") == price.cache_write + price.cache_read


def test_usage_line_shows_tokens_and_dollars():
    line = usage_line(Usage(input_tokens=42, output_tokens=148), "claude-sonnet-4-6")
    assert line == "input_tokens=42  output_tokens=148  cost=$0.002346"


def test_usage_line_mentions_cache_tokens_only_when_there_are_some():
    line = usage_line(Usage(input_tokens=10, output_tokens=5, cache_read_input_tokens=2000), "claude-sonnet-4-6")
    assert "cache_read_tokens=2000" in line and "cache_write" not in line


def test_an_unknown_model_says_so_instead_of_inventing_a_price():
    line = usage_line(Usage(input_tokens=10, output_tokens=5), "llama3.2:3b")
    assert "cost unknown" in line and "llama3.2:3b" in line
    assert cost_usd(Usage(input_tokens=10, output_tokens=5), "llama3.2:3b") is None


def test_every_price_keeps_the_usual_ratios():
    for model, price in PRICES.items():
        assert price.output > price.input > price.cache_read, model
        assert price.cache_write > price.input, model


def test_a_one_hour_cache_write_costs_twice_the_input_price_and_a_five_minute_one_a_quarter_more():
    price = PRICES["claude-sonnet-5-5"]
    assert (price.cache_write, price.cache_write_1h, price.cache_read) == (
        pytest.approx(price.input * 1.25),
        pytest.approx(price.input * 2),
        pytest.approx(price.input * 0.1),
    )
    usage = Usage(
        input_tokens=0,
        output_tokens=0,
        cache_creation_input_tokens=3_000_000,
        cache_creation=CacheCreation(ephemeral_5m_input_tokens=1_000_000, ephemeral_1h_input_tokens=2_000_000),
    )
    assert cost_usd(usage, "claude-sonnet-5-5") == pytest.approx(price.cache_write + 2 * price.cache_write_1h)


def test_opus_5_5_reads_its_cache_at_a_twentieth_of_its_input_price():
    """Most models read a cached prefix at 0.1x their input price; Claude Opus 5.5 at 0.05x (its overview page)."""
    opus = MODELS["claude-opus-5-5"]
    reads = Usage(input_tokens=0, output_tokens=0, cache_read_input_tokens=1_000_000)
    assert cost_usd(reads, opus.id) == pytest.approx(opus.input_price * 0.05), (
        "a million cache-read tokens on claude-opus-5-5 should cost 0.05x its input price"
    )
    both = Usage(input_tokens=1_000_000, output_tokens=0, cache_read_input_tokens=1_000_000)
    assert cost_usd(both, opus.id) == pytest.approx(opus.input_price * 1.05), "reads are priced apart from input"


def test_the_batch_api_halves_the_cost():
    usage = Usage(input_tokens=1_000_000, output_tokens=1_000_000)
    assert cost_usd(usage, "claude-sonnet-5-5", batch=True) == pytest.approx(cost_usd(usage, "claude-sonnet-5-5") / 2)


def test_an_end_of_life_date_reads_retired_once_past_on_the_day_it_runs():
    import datetime

    from helpers.models import END_OF_LIFE, end_of_life

    model, day = next(iter(END_OF_LIFE.items()))
    assert end_of_life(model, today=day - datetime.timedelta(days=1)).startswith("retires on ")
    assert end_of_life(model, today=day).startswith("retired on ")
    assert end_of_life("claude-sonnet-5-5") is None


def test_each_model_reads_its_cache_at_its_own_rate():
    assert MODELS["claude-opus-5-5"].cache_read_multiplier == 0.05
    assert PRICES["claude-opus-5-5"].cache_read == pytest.approx(MODELS["claude-opus-5-5"].input_price * 0.05)
