"""What lets a lesson run on when a reply does not allow a step: the notices, and a price for any model."""

from __future__ import annotations

from anthropic.types import Message, Usage

from helpers import DEFAULT_MODEL, PRICES, cost_usd, price_for, priced_as
from helpers.checks import message_json
from helpers.notices import expect_tool_call, say_if_no_cache_fields, say_if_no_thinking, say_if_thinking

TOOL_CALL = {"type": "tool_use", "id": "toolu_1", "name": "get_order_status", "input": {"order_id": "A1042"}}


def reply(*blocks: dict) -> Message:
    return Message.model_validate({**message_json("unused"), "content": list(blocks)})


def test_a_tool_call_is_found_and_nothing_is_said():
    said: list[str] = []
    call = expect_tool_call(
        reply({"type": "text", "text": "Let me look."}, TOOL_CALL), "get_order_status", so="x", say=said.append
    )
    assert call is not None and call.input == {"order_id": "A1042"} and said == []


def test_words_instead_of_a_tool_call_are_said_plainly():
    said: list[str] = []
    call = expect_tool_call(
        reply({"type": "text", "text": "Which order?"}), "get_order_status", so="the step is skipped", say=said.append
    )
    assert call is None
    assert said == [
        "This model answered without calling get_order_status (its reply holds: text), so the step is skipped."
    ]


def test_a_call_to_another_tool_is_not_the_one_expected():
    said: list[str] = []
    assert expect_tool_call(reply({**TOOL_CALL, "name": "refund"}), "get_order_status", so="x", say=said.append) is None
    assert "(its reply holds: tool_use)" in said[0]


def test_cache_fields_of_zero_are_reported_caching_and_missing_ones_are_said():
    said: list[str] = []
    say_if_no_cache_fields(Usage(input_tokens=5, output_tokens=1, cache_read_input_tokens=0), so="x", say=said.append)
    assert said == []
    say_if_no_cache_fields(Usage(input_tokens=5, output_tokens=1), so="caching saves nothing", say=said.append)
    assert said == ["No cache fields in these replies: the server does not report caching, so caching saves nothing."]


def test_a_priced_model_gets_its_own_prices_silently():
    said: list[str] = []
    assert price_for("claude-opus-5-5", say=said.append) is PRICES["claude-opus-5-5"] and said == []
    assert priced_as("claude-opus-5-5") == "claude-opus-5-5"


def test_a_model_with_no_price_gets_the_default_models_and_says_so():
    said: list[str] = []
    assert price_for("qwen3:8b", say=said.append) is PRICES[DEFAULT_MODEL]
    assert priced_as("qwen3:8b") == DEFAULT_MODEL
    assert len(said) == 1 and "'qwen3:8b'" in said[0] and DEFAULT_MODEL in said[0] and "as an example" in said[0]
    assert price_for("qwen3:8b", say=None) is PRICES[DEFAULT_MODEL], "say=None keeps it quiet (the checks)"


def test_a_price_costs_a_usage_as_cost_usd_does():
    usage = Usage(input_tokens=1200, output_tokens=340, cache_creation_input_tokens=600, cache_read_input_tokens=900)
    for model, price in PRICES.items():
        assert price.cost(usage) == cost_usd(usage, model)
        assert price.cost(usage, batch=True) == cost_usd(usage, model, batch=True)


def test_a_reply_without_thinking_is_said_and_one_with_it_is_not():
    said: list[str] = []
    say_if_no_thinking(reply({"type": "thinking", "thinking": "", "signature": "c2ln"}), so="x", say=said.append)
    assert said == []
    say_if_no_thinking(reply({"type": "text", "text": "Hi."}), so="there is none to look at", say=said.append)
    assert said == [
        "No thinking block in this reply (it holds: text): this model sent no thinking, so there is none to look at."
    ]


def test_a_reply_that_thought_after_all_is_said_and_one_without_thinking_is_not():
    said: list[str] = []
    say_if_thinking(reply({"type": "text", "text": "zip pairs"}), so="x", say=said.append)
    assert said == []
    thought = reply({"type": "thinking", "thinking": "", "signature": "c2ln"}, {"type": "text", "text": "zip"})
    say_if_thinking(thought, so="its thinking took part of it", say=said.append)
    assert said == ["This reply thought first after all (it holds: thinking, text), so its thinking took part of it."]


def test_cache_reads_without_any_cache_write_are_said_to_be_the_servers_own_reuse():
    from helpers.notices import prompt_caching_reported

    reuse = [Usage(input_tokens=1, output_tokens=9, cache_read_input_tokens=83)]  # llama-server's usage
    said: list[str] = []
    say_if_no_cache_fields(*reuse, so="x", say=said.append)
    assert len(said) == 1 and not prompt_caching_reported(*reuse)
    api = Usage(input_tokens=5, output_tokens=1, cache_creation_input_tokens=0, cache_read_input_tokens=700)
    assert prompt_caching_reported(api)
