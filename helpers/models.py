"""What the workbook knows of each model, one record per model, and the one place the code names them.

The prices (US dollars per million tokens, and each model's multipliers for cache writes and reads),
the context window, the shortest prompt prefix the API caches, and what the API does with a request
to the model: whether it thinks by default, and which requests it refuses. helpers/costs.py prices a
call from these records, the stand-in server (tools/standin/) plays the API by them, and the README's
model table is generated from them (tools/readme_tables.py).

Sources (prices checked 2026-11-26; the context windows and Opus 5.5's cache-read rate 2026-12-02):
- prices: https://platform.claude.com/docs/en/about-claude/pricing, and each model's overview, e.g.
  https://platform.claude.com/docs/en/models/sonnet-5-5/overview and
  https://platform.claude.com/docs/en/models/opus-5-5/overview (Opus 5.5 reads its cache at $0.20, 0.05x input);
- context windows and thinking by default: each model's overview page and the table of models on it
  (Haiku 4.5: 200K tokens), and anthropic/types/thinking_config_adaptive_param.py;
- the shortest cacheable prefix: https://platform.claude.com/docs/en/build-with-claude/prompt-caching;
- what each model refuses (sampling parameters, forced tool use, prefill, a system turn inside
  `messages`): the overview and migration guide of each model, e.g.
  https://platform.claude.com/docs/en/about-claude/models/migration-guide;
- thinking blocks bound to the conversation before them (preserved thinking; the 5.5 models run the
  prefix check, which new accounts get as a 400 by default):
  https://platform.claude.com/docs/en/build-with-claude/preserved-thinking/prefix-checks;
- Sonnet 5.5's text between tool calls inside thinking blocks, its `between_tools` setting, and the 400
  for thinking "disabled" (and for between_tools at effort xhigh or max):
  https://platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5 (checked 2026-12-07);
- the end-of-life dates: https://platform.claude.com/docs/en/about-claude/model-deprecations (the
  same dates the SDK warns with when a model in its deprecated list is called);
- the batch discount: https://platform.claude.com/docs/en/build-with-claude/batch-processing.
Prices change: check the pages before you budget with them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

# The model every lesson and script uses unless WORKBOOK_MODEL names another (helpers/settings.py).
DEFAULT_MODEL = "claude-sonnet-5-5"

BATCH_DISCOUNT = 0.5  # the Message Batches API bills every token at half price


@dataclass(frozen=True)
class ModelFacts:
    """One model as the workbook knows it. Prices are dollars per million tokens; a cache write or read
    costs the input price times the model's multiplier."""

    id: str
    name: str
    input_price: float
    output_price: float
    context_window: int  # tokens the model reads in one call: system, tools, messages and the reply
    min_cacheable_tokens: int  # a shorter prefix marked for caching is not cached, without an error
    adaptive_thinking_by_default: bool  # it thinks before answering unless the request turns thinking off
    rejects_sampling_parameters: bool  # temperature, top_p or top_k get a 400
    rejects_forced_tool_use: bool  # tool_choice "any" or "tool" gets a 400
    rejects_prefill: bool  # a conversation that ends with an assistant turn gets a 400
    accepts_mid_conversation_system: bool  # a system message inside `messages` (never the first) is taken
    # What the model writes between tool calls ("I'll look up the order first") comes back inside a
    # thinking block, not a text block: empty under the default display ("omitted"), shown under
    # "summarized", and shown as summary text under thinking {"type": "between_tools"}.
    text_between_tools_in_thinking: bool = False
    # thinking {"type": "disabled"} gets a 400 that points to {"type": "between_tools"}, the lowest
    # setting; between_tools itself gets a 400 at effort "xhigh" or "max".
    rejects_disabled_thinking: bool = False
    # What the API does with a thinking block sent back after its prefix (system, tools, earlier turns)
    # changed: "reject" (400 "Invalid `signature` in `thinking` block"), "drop" (ignore it, no error),
    # or None for a model without preserved thinking, which runs no prefix check. A request can ask
    # for "drop" (helpers/api_rules.py: prefix_mismatch_behavior).
    thinking_prefix_check: str | None = None
    cache_write_multiplier: float = 1.25  # writing a prefix to the 5-minute cache
    cache_write_1h_multiplier: float = 2.0  # writing it to the 1-hour cache
    cache_read_multiplier: float = 0.1  # reading it back on a later call


MODELS: dict[str, ModelFacts] = {
    facts.id: facts
    for facts in (
        ModelFacts(
            id="claude-sonnet-5-5",
            name="Claude Sonnet 5.5",
            input_price=2.00,
            output_price=10.00,
            context_window=1_000_000,
            min_cacheable_tokens=512,
            adaptive_thinking_by_default=True,
            rejects_sampling_parameters=True,
            rejects_forced_tool_use=True,
            rejects_prefill=True,
            accepts_mid_conversation_system=True,
            thinking_prefix_check="reject",
            text_between_tools_in_thinking=True,
            rejects_disabled_thinking=True,
        ),
        ModelFacts(
            id="claude-opus-5-5",
            name="Claude Opus 5.5",
            input_price=4.00,
            output_price=20.00,
            context_window=1_000_000,
            min_cacheable_tokens=512,
            adaptive_thinking_by_default=True,
            rejects_sampling_parameters=True,
            rejects_forced_tool_use=True,
            rejects_prefill=True,
            accepts_mid_conversation_system=True,
            thinking_prefix_check="reject",
            cache_read_multiplier=0.05,
        ),
        ModelFacts(
            id="claude-sonnet-4-6",
            name="Claude Sonnet 4.6",
            input_price=3.00,
            output_price=15.00,
            context_window=1_000_000,
            min_cacheable_tokens=1024,
            adaptive_thinking_by_default=False,
            rejects_sampling_parameters=False,
            rejects_forced_tool_use=False,
            rejects_prefill=True,
            accepts_mid_conversation_system=False,
        ),
        ModelFacts(
            id="claude-opus-4-6",
            name="Claude Opus 4.6",
            input_price=5.00,
            output_price=25.00,
            context_window=1_000_000,
            min_cacheable_tokens=1024,
            adaptive_thinking_by_default=False,
            rejects_sampling_parameters=False,
            rejects_forced_tool_use=False,
            rejects_prefill=True,
            accepts_mid_conversation_system=False,
        ),
        ModelFacts(
            id="claude-haiku-4-5",
            name="Claude Haiku 4.5",
            input_price=1.00,
            output_price=5.00,
            context_window=200_000,
            min_cacheable_tokens=1024,
            adaptive_thinking_by_default=False,
            rejects_sampling_parameters=False,
            rejects_forced_tool_use=False,
            rejects_prefill=True,
            accepts_mid_conversation_system=False,
        ),
    )
}


# Models past or near the end of their life: the day the API stops answering them.
END_OF_LIFE: dict[str, datetime.date] = {
    "claude-mythos-preview": datetime.date(2026, 6, 30),
    "claude-sonnet-4-5": datetime.date(2026, 11, 30),
    "claude-sonnet-4-5-20250929": datetime.date(2026, 11, 30),
    "claude-opus-4-5": datetime.date(2027, 1, 22),
    "claude-opus-4-5-20251101": datetime.date(2027, 1, 22),
}


def end_of_life(model: str, today: datetime.date | None = None) -> str | None:
    """The model's end of life as of `today` (the day it runs, by default): "retired on 30 November
    2026" once the day has passed, "retires on ..." before; None for a model with no such date."""
    day = END_OF_LIFE.get(model)
    if day is None:
        return None
    today = today or datetime.date.today()
    return f"{'retired' if day <= today else 'retires'} on {day.day} {day:%B %Y}"
