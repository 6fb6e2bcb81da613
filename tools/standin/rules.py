"""What the Messages API refuses, and in which words: plain functions of a request body and the facts of
its model (a helpers.models.ModelFacts, or None for a model helpers/models.py does not list, to which
only the rules every model shares apply), each returning the problem the API answers 400 with, or None.

They depend on helpers.models alone, so that anything that wants to know whether the API would take a
request (the stand-in here, replay mode) can ask them.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from helpers.models import MODELS, ModelFacts

SAMPLING_PARAMETERS = ("temperature", "top_p", "top_k")
FORCED_TOOL_CHOICES = ("any", "tool")  # tool_choice types that make the model call a tool
CUSTOM_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # the API reference's pattern for a batch request's custom_id

Body = dict[str, Any]
Rule = Callable[[Body, ModelFacts | None], str | None]


def required_fields_problem(body: Body, model: ModelFacts | None) -> str | None:
    for name in ("model", "max_tokens", "messages"):
        if name not in body:
            return f"{name}: Field required"
    if not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1:
        return "max_tokens: Input should be greater than or equal to 1"
    if not isinstance(body["messages"], list) or not body["messages"]:
        return "messages: at least one message is required"
    return None


def turns_problem(body: Body, model: ModelFacts | None) -> str | None:
    """Each turn's role and content; a system turn only where the model takes one (never first)."""
    messages = body["messages"]
    for index, message in enumerate(messages):
        role = message.get("role")
        if role == "system" and index > 0 and model is not None and model.accepts_mid_conversation_system:
            continue
        if role == "system":
            if index == 0:
                return (
                    "messages.0.role: the first message cannot be a system message; use the top-level system parameter"
                )
            return f"messages.{index}.role: role 'system' is not supported on this model"
        if role not in ("user", "assistant"):
            return f"messages.{index}.role: Input should be 'user', 'assistant' or 'system'"
        content = message.get("content")
        is_last = index == len(messages) - 1
        if (content == "" or content == []) and not (is_last and role == "assistant"):
            return (
                f"messages.{index}: all messages must have non-empty content except for "
                "the optional final assistant message"
            )
    if messages[0].get("role") != "user":
        return 'messages: first message must use the "user" role'
    return None


def prefill_problem(body: Body, model: ModelFacts | None) -> str | None:
    if body["messages"][-1].get("role") == "assistant" and model is not None and model.rejects_prefill:
        return "This model does not support assistant message prefill. The conversation must end with a user message."
    return None


def sampling_problem(body: Body, model: ModelFacts | None) -> str | None:
    if model is not None and model.rejects_sampling_parameters:
        for name in SAMPLING_PARAMETERS:
            if name in body:
                return f"{name}: sampling parameters are not supported on {model.id}"
    return None


def undefined_tools_problem(body: Body, model: ModelFacts | None) -> str | None:
    uses_tools = any(
        isinstance(block, dict) and block.get("type") in ("tool_use", "tool_result")
        for message in body["messages"]
        if isinstance(message.get("content"), list)
        for block in message["content"]
    )
    if uses_tools and not body.get("tools"):
        return "Requests which include `tool_use` or `tool_result` blocks must define tools."
    return None


def forced_tool_problem(body: Body, model: ModelFacts | None) -> str | None:
    choice = (body.get("tool_choice") or {}).get("type")
    if model is not None and model.rejects_forced_tool_use and choice in FORCED_TOOL_CHOICES:
        return f"tool_choice: forced tool use (type {choice!r}) is not supported on {model.id}; use 'auto'"
    return None


# In the order the API reports them: a request with several problems is refused for the first.
RULES: tuple[Rule, ...] = (
    required_fields_problem,
    turns_problem,
    prefill_problem,
    sampling_problem,
    undefined_tools_problem,
    forced_tool_problem,
)


def request_problem(body: Any, model: ModelFacts | None) -> str | None:
    """The first problem the API would refuse this Messages request for, or None, on `model` (its facts)."""
    if not isinstance(body, dict):
        return "The request body is not valid JSON."
    return next((problem for rule in RULES if (problem := rule(body, model)) is not None), None)


def facts_of(body: Any) -> ModelFacts | None:
    """The facts of the model the request names, or None (no such record, or no request to read)."""
    return MODELS.get(str(body.get("model"))) if isinstance(body, dict) else None


def validate(body: Any) -> str | None:
    """The first problem the API would refuse this Messages request for, on the model it names, or None."""
    return request_problem(body, facts_of(body))


def batch_problem(body: Any) -> str | None:
    """What the API refuses a batch for at once (400), naming the request; None when it takes it.
    Each request's params are checked later, when the batch is processed (batch_request_problem)."""
    if not isinstance(body, dict) or not isinstance(body.get("requests"), list):
        return "requests: Field required"
    if not body["requests"]:
        return "requests: List should have at least 1 item after validation, not 0"
    seen: set[str] = set()
    for index, item in enumerate(body["requests"]):
        if not isinstance(item, dict) or "custom_id" not in item:
            return f"requests.{index}.custom_id: Field required"
        custom_id = item["custom_id"]
        if not isinstance(custom_id, str) or not CUSTOM_ID.match(custom_id):
            return f"requests.{index}.custom_id: {custom_id!r} should match pattern '{CUSTOM_ID.pattern}'"
        if custom_id in seen:
            return f"requests.{index}.custom_id: {custom_id!r} is used by another request; each must be unique"
        seen.add(custom_id)
        if not isinstance(item.get("params"), dict):
            return f"requests.{index}.params (custom_id {custom_id!r}): Input should be a valid dictionary"
    return None


def batch_request_problem(params: Body, model: ModelFacts | None) -> str | None:
    """Why one request of a batch ends `errored` when the batch is processed: what the Messages API
    would refuse it for, or a stream, which a batch cannot send."""
    problem = request_problem(params, model)
    if problem is None and params.get("stream"):
        problem = "stream: streaming is not supported in a Message Batch"
    return problem
