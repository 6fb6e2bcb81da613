"""What a call cost: token counts from `response.usage` turned into dollars, at the prices of each
model's record in helpers/models.py (where the sources are). Prices change: check the pages named
there before you budget with them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from anthropic.types import Usage

from .models import BATCH_DISCOUNT, DEFAULT_MODEL, MODELS, ModelFacts
from .settings import MODEL


@dataclass(frozen=True)
class Price:
    """Dollars per million tokens of each kind, for one model (see Price.of).

    A cache write (5-minute or 1-hour) or read costs the input price times the model's multiplier for
    it. The Message Batches API bills every token at BATCH_DISCOUNT of its price.
    """

    input: float
    output: float
    cache_write: float  # writing a prompt prefix to the 5-minute cache
    cache_write_1h: float  # writing it to the 1-hour cache
    cache_read: float  # reading it back on a later call

    @classmethod
    def of(cls, model: ModelFacts) -> Price:
        """The model's prices, each cache rate its input price times the model's own multiplier."""
        return cls(
            input=model.input_price,
            output=model.output_price,
            cache_write=model.input_price * model.cache_write_multiplier,
            cache_write_1h=model.input_price * model.cache_write_1h_multiplier,
            cache_read=model.input_price * model.cache_read_multiplier,
        )

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


PRICES: dict[str, Price] = {model_id: Price.of(model) for model_id, model in MODELS.items()}


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
            f"No price for {model!r} in helpers/models.py (a local model has none): "
            f"the dollar figures below use {DEFAULT_MODEL}'s prices, as an example."
        )
    return PRICES[priced_as(model)]


def usage_line(usage: Usage, model: str = MODEL, *, reported: str | None = None) -> str:
    """One readable line: the token counts and, when the price is known, the dollars.

    `model` is the one asked for (settings); `reported` the reply's own `model`, when known. A server that
    answers with another model (llama.cpp's reports its file's path) is not priced as the one asked for.
    The API may report a longer, dated name of the model asked for: that is the same model."""
    parts = [f"input_tokens={usage.input_tokens}", f"output_tokens={usage.output_tokens}"]
    if usage.cache_creation_input_tokens:
        parts.append(f"cache_write_tokens={usage.cache_creation_input_tokens}")
    if usage.cache_read_input_tokens:
        parts.append(f"cache_read_tokens={usage.cache_read_input_tokens}")
    if reported is not None and not reported.startswith(model):
        return "  ".join(parts) + f"  cost unknown (the server answered as {reported!r}, not {model!r})"
    cost = cost_usd(usage, model)
    money = f"cost=${cost:.6f}" if cost is not None else f"cost unknown (no price for {model!r} in helpers/models.py)"
    return "  ".join(parts) + "  " + money
