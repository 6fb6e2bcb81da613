"""Costs: one price table, one readable line per call."""

from anthropic.types import Usage

from helpers import PRICES, cost_usd, usage_line


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
