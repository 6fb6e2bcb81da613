"""What a call cost: token counts from `response.usage` turned into dollars.

Prices are US dollars per million tokens, from Anthropic's public pricing and model overview
pages (checked 2026-11-26; source: https://platform.claude.com/docs/en/about-claude/pricing and
each model's overview, e.g. https://platform.claude.com/docs/en/models/sonnet-5-5/overview).
Prices change: check the page before you budget with them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from anthropic.types import Usage

from .settings import DEFAULT_MODEL, MODEL


@dataclass(frozen=True)
class Price:
    """Dollars per million tokens of each kind.

    Cache writes cost 1.25x the input price for the 5-minute cache and 2x for the 1-hour one;
    cache reads 0.1x. The Message Batches API halves every rate (BATCH_DISCOUNT).
    """

    input: float
    output: float
    cache_write: float  # writing a prompt prefix to the 5-minute cache
    cache_write_1h: float  # writing it to the 1-hour cache
    cache_read: float  # reading it back on a later call

    def cost(self, usage: Usage, *, batch: bool = False) -> float:
        """The dollar cost of one call's usage at these prices (see cost_usd)."""
        written = usage.cache_creation_input_tokens or 0
        hour_long = usage.cache_creation.ephemeral_1h_input_tokens if usage.cache_creation else 0
        dollars = (
            usage.input_tokens * self.input
            + usage.output_tokens * self.output
            + (written - hour_long) * self.cache_write
            + hour_long * self.cache_write_1h
            + (usage.cache_read_input_tokens or 0) * self.cache_read
        ) / 1_000_000
        return dollars * (BATCH_DISCOUNT if batch else 1)


def _price(input: float, output: float) -> Price:
    """A model's prices from its input and output rates, with the documented cache multipliers."""
    return Price(input, output, cache_write=input * 1.25, cache_write_1h=input * 2, cache_read=input * 0.1)


PRICES: dict[str, Price] = {
    "claude-sonnet-5-5": _price(2.00, 10.00),
    "claude-opus-5-5": _price(4.00, 20.00),
    "claude-sonnet-4-6": _price(3.00, 15.00),
    "claude-opus-4-6": _price(5.00, 25.00),
    "claude-haiku-4-5": _price(1.00, 5.00),
}

BATCH_DISCOUNT = 0.5  # the Message Batches API bills every token at half price


def cost_usd(usage: Usage, model: str = MODEL, *, batch: bool = False) -> float | None:
    """The dollar cost of one call, or None when the model's price is not in the table.

    Cache writes are priced by their lifetime when the usage says (`cache_creation`); a usage
    without that breakdown is priced as 5-minute writes. `batch=True` applies the batch discount.
    """
    price = PRICES.get(model)
    return None if price is None else price.cost(usage, batch=batch)


def priced_as(model: str = MODEL) -> str:
    """The model whose prices price_for(model) gives: the model itself, or DEFAULT_MODEL standing in."""
    return model if model in PRICES else DEFAULT_MODEL


def price_for(model: str = MODEL, *, say: Callable[[str], object] | None = print) -> Price:
    """The model's prices; for a model the table does not know (a local one, say), DEFAULT_MODEL's
    stand in, so a lesson's arithmetic still runs, and `say` gets one line that says so."""
    if priced_as(model) != model and say is not None:
        say(
            f"No price for {model!r} in helpers/costs.py (a local model has none): "
            f"the dollar figures below use {DEFAULT_MODEL}'s prices, as an example."
        )
    return PRICES[priced_as(model)]


def usage_line(usage: Usage, model: str = MODEL) -> str:
    """One readable line: the token counts and, when the price is known, the dollars."""
    parts = [f"input_tokens={usage.input_tokens}", f"output_tokens={usage.output_tokens}"]
    if usage.cache_creation_input_tokens:
        parts.append(f"cache_write_tokens={usage.cache_creation_input_tokens}")
    if usage.cache_read_input_tokens:
        parts.append(f"cache_read_tokens={usage.cache_read_input_tokens}")
    cost = cost_usd(usage, model)
    money = f"cost=${cost:.6f}" if cost is not None else f"cost unknown (no price for {model!r} in helpers/costs.py)"
    return "  ".join(parts) + "  " + money
