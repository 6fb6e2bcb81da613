"""Checks for the exercises of lesson 01, the anatomy of a call."""

from __future__ import annotations

import math
from typing import Any

from anthropic.types import Message, Usage

from ..api_rules import SAMPLING_PARAMETERS
from ..costs import price_for
from ..models import MODELS
from ..settings import MODEL
from . import Outcome, exercise, message_json, report, text_of, unanswered

EXERCISE_QUESTION = "Name three everyday uses of a Python dictionary."


LIST_WORDS = ("list", "bullet", "point", "item")  # a system prompt that asks for a list names one of these


@exercise(1, "Build a request")
def check_request(request: Any) -> Outcome:
    """Exercise 01.1: the keyword arguments of a call, as a dict."""
    if unanswered(request):
        return report(False, "replace the `...` with a dict of the four inputs: model, max_tokens, system, messages.")
    if not isinstance(request, dict):
        return report(False, f"`my_request` should be a dict, but it is a {type(request).__name__}.")
    messages = request.get("messages")
    if isinstance(messages, list) and any(isinstance(m, dict) and m.get("role") == "system" for m in messages):
        return report(
            False,
            'in this API the system prompt is its own parameter, not a message in the list: take the {"role": '
            '"system"} message out of messages and put its text in "system".',
        )
    sampling = [name for name in SAMPLING_PARAMETERS if name in request]
    facts = MODELS.get(str(request.get("model", MODEL)))
    if sampling and facts is not None and facts.rejects_sampling_parameters:
        return report(
            False,
            f'take out {", ".join(sampling)}: {facts.id} refuses sampling parameters with a 400 (see "What the '
            'current models change" above). Steer it with the system prompt, or with output_config={"effort": ...}.',
        )
    missing = [name for name in ("model", "max_tokens", "system", "messages") if name not in request]
    if missing:
        return report(False, f"the dict has no {', '.join(missing)}. A call needs model, max_tokens, system, messages.")
    if request["model"] != MODEL:
        return report(False, "use the `MODEL` constant for model, rather than typing an ID, so it is named once.")
    if request["max_tokens"] != 200:
        return report(False, f"max_tokens is {request['max_tokens']!r}; the exercise asks for a budget of 200 tokens.")
    system = text_of(request["system"])
    if system is None or not system.strip():
        return report(False, "system should be a non-empty string: the instructions that frame the conversation.")
    if not any(word in system.lower() for word in LIST_WORDS):
        return report(
            False,
            f"the system prompt {system!r} does not ask for a list; the exercise wants the answer as a bulleted "
            "list, so say so in the system prompt (e.g. 'Answer as a short bulleted list.').",
        )
    if not isinstance(messages, list) or len(messages) != 1:
        return report(False, "messages should be a list holding exactly one message: the user's question.")
    message = messages[0]
    if not isinstance(message, dict) or message.get("role") != "user":
        return report(False, 'the message should be a dict with "role": "user".')
    if text_of(message.get("content")) != EXERCISE_QUESTION:
        return report(False, f"the user message's content should be exactly {EXERCISE_QUESTION!r}.")
    return report(True, "model, max_tokens, system and messages are all in place.")


def _message(stop_reason: str) -> Message:
    return Message.model_validate(message_json("...", stop_reason=stop_reason))


@exercise(2, "Spot a truncated reply")
def check_was_cut_off(function: Any) -> Outcome:
    """Exercise 01.2: a function that tells whether a reply ran out of max_tokens."""
    if not callable(function):
        return report(False, "define a function `was_cut_off(response)` that returns True or False.")
    expected = {"max_tokens": True, "end_turn": False, "tool_use": False, "stop_sequence": False}
    for stop_reason, want in expected.items():
        got = function(_message(stop_reason))
        if not isinstance(got, bool):
            return report(False, f"for stop_reason={stop_reason!r} it returned {got!r}; return True or False.")
        if got != want:
            return report(
                False,
                f"for stop_reason={stop_reason!r} it returned {got}. Only 'max_tokens' means the "
                "reply was cut off; compare `response.stop_reason` with that string.",
            )
    return report(True, "it spots a reply cut off by max_tokens and nothing else.")


def _rounded(value: float, right: float) -> bool:
    """Whether `value` is `right` rounded: to some decimal places or significant figures, or merely close."""
    if value == 0 or math.isclose(value, right, rel_tol=1e-6):
        return False
    decimals = any(math.isclose(value, round(right, places), rel_tol=1e-9) for places in range(1, 12))
    figures = any(math.isclose(value, float(f"{right:.{n}g}"), rel_tol=1e-9) for n in range(1, 7))
    return decimals or figures or math.isclose(value, right, rel_tol=0.05)


@exercise(3, "Price a call by hand")
def check_cost(value: Any, reply: Any, *, model: str = MODEL) -> Outcome:
    """Exercise 01.3: the dollar cost of one call, worked out by hand. `reply` is the Message (or its usage)."""
    if unanswered(value):
        return report(False, "replace the `...` with your calculation of the cost in dollars.")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return report(False, f"the cost should be a number of dollars, not a {type(value).__name__}.")
    usage: Usage = getattr(reply, "usage", reply)
    price = price_for(model, say=None)  # the same prices the lesson's cell printed
    right = (usage.input_tokens * price.input + usage.output_tokens * price.output) / 1_000_000
    if math.isclose(value, right, rel_tol=1e-6):
        return report(True, f"${value:.6f}. Output tokens cost {price.output / price.input:g}x input tokens.")
    swapped = (usage.input_tokens * price.output + usage.output_tokens * price.input) / 1_000_000
    if math.isclose(value, swapped, rel_tol=1e-6):
        return report(False, "the input and output prices are swapped: output tokens are the expensive ones.")
    if math.isclose(value, right * 1_000_000, rel_tol=1e-6):
        return report(False, "prices are per million tokens: divide by 1_000_000.")
    if _rounded(value, right):
        return report(
            False,
            f"close, but {value!r} looks rounded. Don't round: keep the full value in `my_cost` (a float "
            'holds it exactly enough), and round only when you print it: f"{my_cost:.6f}".',
        )
    # The ingredients, never the total: a hint that gave the number would let the literal pass.
    return report(
        False,
        f"${value} is not what this call cost. Work from its usage (input_tokens={usage.input_tokens}, "
        f"output_tokens={usage.output_tokens}) and the prices per million tokens (${price.input:g} input, "
        f"${price.output:g} output): each count times its price, added, divided by 1_000_000.",
    )
