"""What a call cost: token counts from `response.usage` turned into dollars.

Prices are US dollars per million tokens, from Anthropic's public pricing page
(checked 2026-11-25). Prices change: check the page before you budget with them.
"""

from __future__ import annotations

from dataclasses import dataclass

from anthropic.types import Usage

from .settings import MODEL


@dataclass(frozen=True)
class Price:
    """Dollars per million tokens of each kind."""

    input: float
    output: float
    cache_write: float  # writing a prompt prefix to the 5-minute cache
    cache_read: float  # reading it back on a later call


PRICES: dict[str, Price] = {
    "claude-sonnet-4-6": Price(input=3.00, output=15.00, cache_write=3.75, cache_read=0.30),
    "claude-haiku-4-5": Price(input=1.00, output=5.00, cache_write=1.25, cache_read=0.10),
    "claude-opus-4-6": Price(input=5.00, output=25.00, cache_write=6.25, cache_read=0.50),
    "claude-sonnet-5-5": Price(input=2.00, output=10.00, cache_write=2.50, cache_read=0.20),
    "claude-opus-5-5": Price(input=4.00, output=20.00, cache_write=5.00, cache_read=0.40),
}


def cost_usd(usage: Usage, model: str = MODEL) -> float | None:
    """The dollar cost of one call, or None when the model's price is not in the table."""
    price = PRICES.get(model)
    if price is None:
        return None
    per_token = 1 / 1_000_000
    return (
        usage.input_tokens * price.input
        + usage.output_tokens * price.output
        + (usage.cache_creation_input_tokens or 0) * price.cache_write
        + (usage.cache_read_input_tokens or 0) * price.cache_read
    ) * per_token


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
