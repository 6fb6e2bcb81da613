"""The stand-in's rules read each model's record in helpers/models.py: a changed fact changes what is refused."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from helpers.models import DEFAULT_MODEL, MODELS
from tools.standin import rules
from tools.standin.models import (
    UNLISTED_MIN_CACHEABLE_TOKENS,
    min_cacheable_tokens,
    text_between_tools_in_thinking,
    thinks,
)

DEFAULT = MODELS[DEFAULT_MODEL]
HELLO = {"role": "user", "content": "Hello"}


def request(**extra: Any) -> dict[str, Any]:
    return {"model": DEFAULT_MODEL, "max_tokens": 100, "messages": [HELLO], **extra}


# (the fact, a request it decides, the words of its refusal)
DECIDED_BY = [
    ("rejects_sampling_parameters", request(temperature=0.2), "sampling parameters are not supported"),
    ("rejects_forced_tool_use", request(tools=[], tool_choice={"type": "any"}), "forced tool use"),
    ("rejects_prefill", request(messages=[HELLO, {"role": "assistant", "content": "Hi"}]), "prefill"),
    ("rejects_disabled_thinking", request(thinking={"type": "disabled"}), 'use {"type": "between_tools"}'),
    (
        "rejects_disabled_thinking",
        request(thinking={"type": "between_tools"}, output_config={"effort": "xhigh"}),
        "not supported at effort 'xhigh'",
    ),
]


@pytest.mark.parametrize(("fact", "body", "words"), DECIDED_BY, ids=[words for _, _, words in DECIDED_BY])
def test_each_refusal_follows_the_models_record(fact, body, words):
    refusing = dataclasses.replace(DEFAULT, **{fact: True})
    taking = dataclasses.replace(DEFAULT, **{fact: False})
    problem = rules.request_problem(body, refusing)
    assert problem is not None and words in problem, f"with {fact}=True the request was not refused: {problem}"
    assert rules.request_problem(body, taking) is None, f"with {fact}=False the request was still refused"


def test_a_system_turn_inside_messages_follows_the_record_and_is_never_first():
    body = request(messages=[HELLO, {"role": "system", "content": "Be brief."}, HELLO])
    taking = dataclasses.replace(DEFAULT, accepts_mid_conversation_system=True)
    refusing = dataclasses.replace(DEFAULT, accepts_mid_conversation_system=False)
    assert rules.request_problem(body, taking) is None
    assert "role 'system' is not supported" in (rules.request_problem(body, refusing) or "")
    first = request(messages=[{"role": "system", "content": "Be brief."}, HELLO])
    assert "first message cannot be a system message" in (rules.request_problem(first, taking) or "")


def test_a_model_without_a_record_gets_only_the_rules_every_model_shares():
    unlisted = "qwen3:8b"
    assert unlisted not in MODELS
    for _, body, _ in DECIDED_BY:
        assert rules.validate({**body, "model": unlisted}) is None, f"{body} refused for a model without a record"
    assert rules.validate(request(model=unlisted, messages=[{"role": "assistant", "content": "Hi"}])) is not None


def test_validate_reads_the_record_of_the_model_the_request_names(monkeypatch):
    body = request(temperature=0.2)
    monkeypatch.setitem(MODELS, DEFAULT_MODEL, dataclasses.replace(DEFAULT, rejects_sampling_parameters=False))
    assert rules.validate(body) is None, "validate() did not read helpers.models.MODELS"


def test_thinking_by_default_and_the_cache_minimum_follow_the_record(monkeypatch):
    body = request()
    monkeypatch.setitem(MODELS, DEFAULT_MODEL, dataclasses.replace(DEFAULT, adaptive_thinking_by_default=True))
    assert thinks(body) and not thinks(request(thinking={"type": "disabled"}))
    monkeypatch.setitem(MODELS, DEFAULT_MODEL, dataclasses.replace(DEFAULT, adaptive_thinking_by_default=False))
    assert not thinks(body) and thinks(request(thinking={"type": "adaptive"}))
    monkeypatch.setitem(MODELS, DEFAULT_MODEL, dataclasses.replace(DEFAULT, min_cacheable_tokens=2048))
    assert min_cacheable_tokens(DEFAULT_MODEL) == 2048
    assert min_cacheable_tokens("qwen3:8b") == UNLISTED_MIN_CACHEABLE_TOKENS


def test_between_tools_at_a_lower_effort_is_taken():
    for effort in ("low", "medium", "high"):
        body = request(thinking={"type": "between_tools"}, output_config={"effort": effort})
        assert rules.request_problem(body, DEFAULT) is None, f"between_tools at effort {effort!r} was refused"


def test_where_the_text_between_tool_calls_goes_follows_the_record(monkeypatch):
    assert text_between_tools_in_thinking(DEFAULT_MODEL)
    monkeypatch.setitem(MODELS, DEFAULT_MODEL, dataclasses.replace(DEFAULT, text_between_tools_in_thinking=False))
    assert not text_between_tools_in_thinking(DEFAULT_MODEL)
    assert not text_between_tools_in_thinking("qwen3:8b")


def signed_history() -> list[dict[str, Any]]:
    """A conversation whose assistant turn opens with a thinking block signed for the system "Be brief."."""
    signed = {"type": "thinking", "thinking": "", "signature": rules.thinking_signature(request(system="Be brief."))}
    return [HELLO, {"role": "assistant", "content": [signed, {"type": "text", "text": "Hi"}]}, HELLO]


def test_a_thinking_block_whose_prefix_changed_is_refused_or_dropped_as_the_model_says():
    history = signed_history()
    kept = request(system="Be brief.", messages=history)
    changed = request(system="Be very brief.", messages=history)
    assert rules.request_problem(kept, DEFAULT) is None, "the block sent back with its prefix unchanged is taken"
    assert "messages.1.content.0: Invalid `signature` in `thinking` block" in (
        rules.request_problem(changed, DEFAULT) or ""
    )
    dropping = dataclasses.replace(DEFAULT, thinking_prefix_check="drop")
    assert rules.request_problem(changed, dropping) is None
    assert rules.without_invalid_thinking(changed, dropping)["messages"][1]["content"] == [history[1]["content"][1]]
    assert rules.without_invalid_thinking(kept, dropping) == kept
    without_check = dataclasses.replace(DEFAULT, thinking_prefix_check=None)
    assert rules.request_problem(changed, without_check) is None, "a model without preserved thinking checks nothing"


def test_a_request_that_asks_for_drop_block_gets_its_invalid_thinking_dropped_not_a_400():
    history = signed_history()
    changed = request(system="Be very brief.", messages=history)
    refused = rules.request_problem(changed, DEFAULT) or ""
    assert 'set `thinking.block_binding.prefix_mismatch_behavior` to "drop_block"' in refused, refused
    binding = {"type": "adaptive", "block_binding": {"prefix_mismatch_behavior": "drop_block"}}
    dropping = {**changed, "thinking": binding}
    assert rules.request_problem(dropping, DEFAULT) is None, "drop_block: no 400"
    assert rules.without_invalid_thinking(dropping, DEFAULT)["messages"][1]["content"] == [history[1]["content"][1]]
