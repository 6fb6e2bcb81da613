"""helpers/chat_completions.py: one agent turn in OpenAI's Chat Completions format, field by field."""

from __future__ import annotations

import json

import pytest
from anthropic.types import Message

from helpers import MODEL, bookshop
from helpers.agent import run_tools
from helpers.chat_completions import FINISH_REASONS, reply_as_chat_completion, request_as_chat_completions

CALLS = [
    {"type": "tool_use", "id": "toolu_1", "name": "get_order", "input": {"order_id": "A1042"}},
    {"type": "tool_use", "id": "toolu_2", "name": "get_order", "input": {"order_id": "a1077"}},
]
REPLY = Message.model_validate(
    {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": [
            {"type": "thinking", "thinking": "", "signature": "c2ln"},
            {"type": "text", "text": "Looking."},
            *CALLS,
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {"input_tokens": 700, "output_tokens": 60},
    }
)
REQUEST = {
    "model": MODEL,
    "max_tokens": 1024,
    "system": bookshop.SYSTEM,
    "tools": bookshop.TOOLS,
    "messages": [
        {"role": "user", "content": bookshop.TASK},
        {"role": "assistant", "content": REPLY.content},
        {"role": "user", "content": run_tools(REPLY.content, bookshop.TOOLBOX)},
    ],
}


def test_the_request_moves_system_tools_calls_and_results_where_chat_completions_has_them():
    chat = request_as_chat_completions(REQUEST)
    roles = [message["role"] for message in chat["messages"]]
    assert roles == ["system", "user", "assistant", "tool", "tool"], "one tool message per result"
    assert chat["messages"][0]["content"] == bookshop.SYSTEM and chat["max_completion_tokens"] == 1024
    assistant = chat["messages"][2]
    assert assistant["content"] == "Looking.", "thinking has no place there: only the text goes"
    assert [call["id"] for call in assistant["tool_calls"]] == ["toolu_1", "toolu_2"]
    assert json.loads(assistant["tool_calls"][1]["function"]["arguments"]) == {"order_id": "a1077"}
    assert [m["tool_call_id"] for m in chat["messages"][3:]] == ["toolu_1", "toolu_2"]
    assert chat["messages"][4]["content"].startswith("Error: ValueError"), "no is_error field: said in the text"
    tool = chat["tools"][0]
    assert tool["type"] == "function" and tool["function"]["parameters"] == bookshop.TOOLS[0]["input_schema"]


def test_the_reply_maps_stop_reason_and_usage():
    chat = reply_as_chat_completion(REPLY)
    assert chat["object"] == "chat.completion" and chat["choices"][0]["finish_reason"] == "tool_calls"
    assert chat["usage"] == {"prompt_tokens": 700, "completion_tokens": 60, "total_tokens": 760}


@pytest.mark.parametrize(("stop_reason", "finish_reason"), [("end_turn", "stop"), ("max_tokens", "length")])
def test_finish_reasons(stop_reason, finish_reason):
    assert FINISH_REASONS[stop_reason] == finish_reason


def test_every_stop_reason_has_a_finish_reason_entry():
    from typing import get_args

    from anthropic.types import StopReason

    assert set(FINISH_REASONS) == set(get_args(StopReason))


def test_prompt_tokens_count_the_cached_input_too():
    cached = REPLY.model_copy(
        update={
            "usage": REPLY.usage.model_copy(update={"cache_read_input_tokens": 500, "cache_creation_input_tokens": 40})
        }
    )
    assert reply_as_chat_completion(cached)["usage"]["prompt_tokens"] == 700 + 500 + 40
