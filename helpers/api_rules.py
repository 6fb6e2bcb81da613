"""What the Messages API refuses, and in which words: plain functions of a request body and the facts of
its model (a helpers.models.ModelFacts, or None for a model helpers/models.py does not list, to which
only the rules every model shares apply), each returning the problem the API answers 400 with, or None.

The one home of these rules: the stand-in (tools/standin/rules.py) refuses by them, and replay mode
(helpers/transport.py) names the 400 an edited request would get (`rule_break`). They depend on
helpers.models, and on helpers.wire for the names of the thinking blocks.

Thinking blocks are bound to the conversation before them (their prefix: `system`, `tools`, and every
message and block before the block). The signature the stand-in makes (`thinking_signature`) is a
digest of that prefix; a block sent back with a prefix that changed, or after a thinking block that
was left out or moved, no longer matches it, and on a model with preserved thinking the API refuses it
or drops it: the model's record says which it does by default (ModelFacts.thinking_prefix_check), and a
request can ask for the drop (prefix_mismatch_behavior). Sources:
https://platform.claude.com/docs/en/build-with-claude/preserved-thinking and
https://platform.claude.com/docs/en/build-with-claude/preserved-thinking/prefix-checks.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from helpers.models import MODELS, ModelFacts
from helpers.wire import THINKING_TYPES

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


def tool_result_problem(body: Body, model: ModelFacts | None) -> str | None:
    """A tool_result goes in a user turn, and answers a tool_use of the assistant turn just before it."""
    messages = body["messages"]
    for index, message in enumerate(messages):
        blocks = message.get("content") if isinstance(message.get("content"), list) else []
        results = [b for b in blocks if isinstance(b, dict) and b.get("type") == "tool_result"]
        if not results:
            continue
        if message.get("role") != "user":
            return f"messages.{index}: `tool_result` blocks can only be in `user` messages"
        previous = messages[index - 1].get("content") if index else None
        called = {b.get("id") for b in (previous if isinstance(previous, list) else []) if isinstance(b, dict)} - {None}
        for block in results:
            if block.get("tool_use_id") not in called:
                return (
                    f"messages.{index}.content: unexpected `tool_use_id` found in `tool_result` blocks: "
                    f"{block.get('tool_use_id')}. Each `tool_result` block must have a corresponding `tool_use` "
                    "block in the previous message."
                )
    return None


def forced_tool_problem(body: Body, model: ModelFacts | None) -> str | None:
    choice = (body.get("tool_choice") or {}).get("type")
    if model is not None and model.rejects_forced_tool_use and choice in FORCED_TOOL_CHOICES:
        return f"tool_choice: forced tool use (type {choice!r}) is not supported on {model.id}; use 'auto'"
    return None


# Effort levels at which thinking {"type": "between_tools"} is refused (adaptive thinking runs there).
BETWEEN_TOOLS_REFUSED_AT = ("xhigh", "max")


def thinking_setting_problem(body: Body, model: ModelFacts | None) -> str | None:
    """thinking "disabled" on a model whose lowest setting is between_tools, or between_tools at an effort
    too high for it. Source: https://platform.claude.com/docs/en/models/sonnet-5-5/whats-new-sonnet-5-5."""
    if model is None or not model.rejects_disabled_thinking:
        return None
    kind = (body.get("thinking") or {}).get("type")
    effort = (body.get("output_config") or {}).get("effort")
    if kind == "disabled":
        return (
            f'thinking.type: "disabled" is not supported on {model.id}; '
            'use {"type": "between_tools"} to turn off up-front thinking'
        )
    if kind == "between_tools" and effort in BETWEEN_TOOLS_REFUSED_AT:
        return (
            f'thinking.type: "between_tools" is not supported at effort {effort!r}; '
            "use adaptive thinking (leave thinking out) at this effort"
        )
    return None


# --- thinking blocks bound to the conversation before them -----------------------------------------

SIGNATURE_TAG = "workbook-sample-signature:"  # what a stand-in signature starts with, before the digest
# What of a block is part of the conversation: cache_control marks and fields left empty are not.
NOT_CONTENT = ("cache_control",)


def _canonical(value: Any) -> Any:
    """A request's value as the conversation it holds: text as text blocks, no cache marks, no empty fields."""
    if isinstance(value, dict):
        return {
            key: _canonical(item) for key, item in sorted(value.items()) if item is not None and key not in NOT_CONTENT
        }
    if isinstance(value, list):
        return [_canonical(item) for item in value]
    return value


def _blocks(content: Any) -> list[Any]:
    return [{"type": "text", "text": content}] if isinstance(content, str) else list(content or [])


def _prefix_digest(body: Body, message_index: int, block_index: int) -> str:
    """The digest of what comes before block `block_index` of message `message_index`: system, tools,
    the earlier messages and the earlier blocks of that message."""
    messages = body.get("messages") or []
    before = [{"role": m.get("role"), "content": _blocks(m.get("content"))} for m in messages[:message_index]]
    if message_index < len(messages):
        before.append(
            {
                "role": messages[message_index].get("role"),
                "partial": _blocks(messages[message_index].get("content"))[:block_index],
            }
        )
    prefix = {"system": _blocks(body.get("system")), "tools": body.get("tools") or [], "messages": before}
    return hashlib.sha256(json.dumps(_canonical(prefix), sort_keys=True).encode()).hexdigest()[:32]


def thinking_signature(body: Body) -> str:
    """The signature of a thinking block that opens the reply to `body`: bound to the whole request."""
    messages = [*(body.get("messages") or []), {"role": "assistant", "content": []}]
    digest = _prefix_digest({**body, "messages": messages}, len(messages) - 1, 0)
    return base64.b64encode(f"{SIGNATURE_TAG}{digest}".encode()).decode()


def invalid_thinking_blocks(body: Body) -> list[tuple[int, int]]:
    """(message, block) positions of the thinking blocks whose signature does not cover the conversation
    before them; once one is invalid, every later thinking block is too, as the docs say."""
    invalid: list[tuple[int, int]] = []
    for m, message in enumerate(body.get("messages") or []):
        if not isinstance(message, dict) or message.get("role") != "assistant":
            continue
        for b, block in enumerate(_blocks(message.get("content"))):
            if not isinstance(block, dict) or block.get("type") not in THINKING_TYPES:
                continue
            signed = str(block.get("signature") or block.get("data") or "")
            try:
                decoded = base64.b64decode(signed, validate=True).decode()
            except ValueError:
                decoded = ""
            if invalid or decoded != SIGNATURE_TAG + _prefix_digest(body, m, b):
                invalid.append((m, b))
    return invalid


DROP_BLOCK = "drop_block"  # thinking.block_binding.prefix_mismatch_behavior: drop invalid blocks, no 400
BINDING_BETA = "thinking-binding-controls-2026-08-01"  # the beta header that setting needs


def prefix_mismatch_behavior(body: Body, model: ModelFacts | None) -> str | None:
    """What happens to a thinking block whose prefix changed: "reject", "drop", or None (no check).

    A request may ask for "drop" with thinking.block_binding.prefix_mismatch_behavior "drop_block" (a
    beta, sent with the anthropic-beta header BINDING_BETA; the stand-in does not check the header).
    Source: https://platform.claude.com/docs/en/build-with-claude/preserved-thinking/fix-bound-to-a-different-conversation"""
    if model is None or model.thinking_prefix_check is None:
        return None
    thinking = body.get("thinking")
    binding = thinking.get("block_binding") if isinstance(thinking, dict) else None
    if isinstance(binding, dict) and binding.get("prefix_mismatch_behavior") == DROP_BLOCK:
        return "drop"
    return model.thinking_prefix_check


def thinking_prefix_problem(body: Body, model: ModelFacts | None) -> str | None:
    """A thinking block whose prefix changed, when the API refuses it rather than drop it."""
    if prefix_mismatch_behavior(body, model) != "reject":
        return None
    invalid = invalid_thinking_blocks(body)
    if not invalid:
        return None
    message, block = invalid[0]
    return (
        f"messages.{message}.content.{block}: Invalid `signature` in `thinking` block. The block is bound to "
        "a different conversation. Remove the block, or set `thinking.block_binding.prefix_mismatch_behavior` "
        f'to "{DROP_BLOCK}".'
    )


def without_invalid_thinking(body: Body, model: ModelFacts | None) -> Body:
    """The request as the API reads it when it drops invalid thinking blocks (the rest unchanged)."""
    if prefix_mismatch_behavior(body, model) != "drop":
        return body
    invalid = set(invalid_thinking_blocks(body))
    if not invalid:
        return body
    messages = [
        {**message, "content": [b for i, b in enumerate(_blocks(message.get("content"))) if (m, i) not in invalid]}
        if any(position[0] == m for position in invalid)
        else message
        for m, message in enumerate(body["messages"])
    ]
    return {**body, "messages": messages}


# In the order the API reports them: a request with several problems is refused for the first.
RULES: tuple[Rule, ...] = (
    required_fields_problem,
    turns_problem,
    tool_result_problem,
    prefill_problem,
    sampling_problem,
    undefined_tools_problem,
    forced_tool_problem,
    thinking_setting_problem,
    thinking_prefix_problem,
)

# Why each rule is there and what to do, for a reader who broke it (replay mode's message).
ADVICE: dict[Rule, str] = {
    required_fields_problem: (
        "every Messages request needs model, max_tokens (1 or more) and a non-empty messages list."
    ),
    turns_problem: (
        "messages take the roles 'user' and 'assistant', start with a user turn, and none is empty; "
        "the system prompt goes in the top-level `system` parameter."
    ),
    prefill_problem: (
        "this model takes no prefill: end the conversation with a user turn, and ask for the form you "
        "want in words or with structured outputs (output_config.format)."
    ),
    sampling_problem: "this model takes no temperature, top_p or top_k: leave them out, and steer it with the prompt.",
    undefined_tools_problem: (
        "a tool_use or tool_result block means the request must define its tools; and a tool result goes "
        "in a user turn, right after the assistant turn that called the tool."
    ),
    tool_result_problem: (
        "the result of a tool call goes in a user turn right after the assistant turn that called it, "
        "with the tool_use's id as its tool_use_id: append the reply as it came, then the results."
    ),
    forced_tool_problem: (
        "this model cannot be forced to call a tool: use tool_choice 'auto' and ask for the tool in the prompt."
    ),
    thinking_setting_problem: (
        'this model has no thinking "disabled": send {"type": "between_tools"} to turn off the thinking '
        "before each reply (at effort low, medium or high), or leave thinking out."
    ),
    thinking_prefix_problem: (
        "a thinking block is bound to everything before it (system, tools, earlier turns): after you "
        "change, trim or summarize that, send the kept turns without their thinking blocks "
        "(or leave the history as the API returned it, and add changes at the end)."
    ),
}


def request_problem(body: Any, model: ModelFacts | None) -> str | None:
    """The first problem the API would refuse this Messages request for, or None, on `model` (its facts)."""
    broken = rule_break(body, model)
    return None if broken is None else broken[0]


def rule_break(body: Any, model: ModelFacts | None) -> tuple[str, str] | None:
    """The first problem the API would answer this request with a 400 for, and why and what to do; or None."""
    if not isinstance(body, dict):
        return "The request body is not valid JSON.", "send the request as a JSON object."
    for rule in RULES:
        problem = rule(body, model)
        if problem is not None:
            return problem, ADVICE[rule]
    return None


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
