"""helpers/agent.py: the agent loop acts on every stop reason, keeps its guards, and sends what the API needs.

Most tests drive run_agent with a scripted model (a real SDK client whose every request is answered by
a function here), so each stop reason and each guard can be made to happen; the rest run it against the
stand-in server, whose validation refuses what the API refuses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import httpx2
import pytest

from helpers import MODEL, bookshop
from helpers.agent import (
    ACTIONS,
    DONE,
    AgentError,
    Limits,
    Summarizer,
    count_input_tokens,
    next_action,
    run_agent,
    run_tools,
    transcript,
    trim_history,
    without_thinking,
)
from helpers.checks import scripted_client
from helpers.retries import RetryPolicy, SimulatedTime
from tools.standin.http import StandinServer

Json = dict[str, Any]
THINKING = {"type": "thinking", "thinking": "", "signature": "c2lnbmVkIGJ5IHRoZSB0ZXN0"}
AGENT = {"tools": bookshop.TOOLS, "toolbox": bookshop.TOOLBOX, "system": bookshop.SYSTEM}
QUIET = {"say": lambda line: None, "show_text": None}


def message(content: list[Json], stop_reason: str | None, **extra: Any) -> Json:
    return {
        "id": "msg_test",
        "type": "message",
        "role": "assistant",
        "model": MODEL,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 100, "output_tokens": 20},
        **extra,
    }


def tool_use(number: int, name: str, **arguments: str) -> Json:
    return {"type": "tool_use", "id": f"toolu_{number}", "name": name, "input": arguments}


def events(reply: Json) -> bytes:
    from helpers.wire import encode_event, message_events

    return b"".join(encode_event(event) for event in message_events(reply))


class ScriptedModel:
    """Answers the agent's requests: count_tokens with `counts`, each call with the next reply."""

    def __init__(self, *replies: Json, counts: Callable[[Json], int] = lambda body: 500) -> None:
        self.replies = list(replies)
        self.counts = counts
        self.calls: list[Json] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        body = json.loads(request.content)
        if request.url.path.endswith("/count_tokens"):
            return httpx2.Response(200, json={"input_tokens": self.counts(body)})
        self.calls.append(body)
        reply = self.replies.pop(0)
        return httpx2.Response(200, content=events(reply), headers={"content-type": "text/event-stream"})

    def client(self) -> anthropic.Anthropic:
        return scripted_client(self)


def answer(text: str = "All done.") -> Json:
    return message([THINKING, {"type": "text", "text": text}], "end_turn")


def test_every_stop_reason_the_sdk_knows_has_an_action():
    from typing import get_args

    from anthropic.types import StopReason

    assert set(ACTIONS) == set(get_args(StopReason)), "a stop reason was added to or removed from the SDK"


def test_an_unknown_stop_reason_stops_the_loop_instead_of_a_guess():
    model = ScriptedModel(message([{"type": "text", "text": "?"}], "something_new"))
    with pytest.raises(AgentError, match="something_new"):
        run_agent(model.client(), "Hi", **AGENT, **QUIET)


def test_parallel_tool_calls_are_answered_in_one_user_turn_and_thinking_goes_back_unchanged():
    first = message(
        [THINKING, tool_use(1, "get_order", order_id="A1042"), tool_use(2, "get_order", order_id="a1077")], "tool_use"
    )
    model = ScriptedModel(first, answer())
    run = run_agent(model.client(), "Where are A1042 and a1077?", **AGENT, **QUIET)
    assert run.answer == "All done."
    second = model.calls[1]["messages"]
    assert second[1] == {"role": "assistant", "content": first["content"]}, "the model's turn must go back unchanged"
    results = second[2]["content"]
    assert [r["tool_use_id"] for r in results] == ["toolu_1", "toolu_2"], "one result per call, in order, one turn"
    assert "is_error" not in results[0] and json.loads(results[0]["content"])["order_id"] == "A1042"
    assert results[1]["is_error"] is True and "not an order ID" in results[1]["content"]


def test_a_tool_that_raises_or_does_not_exist_becomes_an_error_result():
    blocks = [tool_use(1, "track_parcel", tracking_number="XX1"), tool_use(2, "refund", order_id="A1042")]
    results = run_tools(blocks, bookshop.TOOLBOX)
    assert [r["is_error"] for r in results] == [True, True]
    assert results[0]["content"].startswith("ValueError: ") and "no tool named 'refund'" in results[1]["content"]


def cut_at(max_tokens: int, text: str = "Half") -> Json:
    """A reply cut at max_tokens, as the API cuts one: having written all of them."""
    return message(
        [{"type": "text", "text": text}], "max_tokens", usage={"input_tokens": 100, "output_tokens": max_tokens}
    )


def test_a_reply_cut_at_max_tokens_is_dropped_and_asked_again_with_more_room():
    cut = cut_at(100) | {"content": [THINKING, {"type": "text", "text": "Half an ans"}]}
    model = ScriptedModel(cut, answer("The whole answer."))
    run = run_agent(model.client(), "Hi", max_tokens=100, **AGENT, **QUIET)
    assert run.answer == "The whole answer."
    assert [call["max_tokens"] for call in model.calls] == [100, 200]
    assert model.calls[1]["messages"] == model.calls[0]["messages"], "the half answer must not join the history"


def test_a_reply_cut_off_at_the_cap_fails_clearly():
    model = ScriptedModel(cut_at(100), cut_at(200))
    with pytest.raises(AgentError, match="max_tokens=200") as caught:
        run_agent(model.client(), "Hi", max_tokens=100, limits=Limits(max_output_tokens=200), **AGENT, **QUIET)
    assert caught.value.run is not None and len(caught.value.run.calls) == 2 and caught.value.run.answer == ""


def test_a_reply_the_server_capped_below_max_tokens_is_kept_after_one_notice():
    """A server that caps every reply (the local model's, for a CPU) never gives more room: asking again is no use."""
    capped = cut_at(48, "A short answer, cut")
    model = ScriptedModel(capped)
    said: list[str] = []
    run = run_agent(model.client(), "Hi", max_tokens=1024, **AGENT, say=said.append, show_text=None)
    assert len(model.calls) == 1 and run.answer == "A short answer, cut"
    assert run.messages[-1]["role"] == "assistant"
    assert sum("max_tokens=1,024" in line for line in said) == 1, said
    call_line = next(line for line in said if line.startswith("call 1"))
    assert "capped by the server, kept" in call_line and "more room" not in call_line, call_line


def test_a_paused_turn_is_sent_back_as_it_is():
    paused = message([{"type": "text", "text": "Searching..."}], "pause_turn")
    model = ScriptedModel(paused, answer())
    run_agent(model.client(), "Hi", **AGENT, **QUIET)
    assert model.calls[1]["messages"][-1] == {"role": "assistant", "content": paused["content"]}


def test_a_refusal_stops_with_its_category():
    refusal = message([], "refusal", stop_details={"type": "refusal", "category": "cyber", "explanation": None})
    with pytest.raises(AgentError, match="refusal \\(category cyber\\)"):
        run_agent(ScriptedModel(refusal).client(), "Hi", **AGENT, **QUIET)


def test_a_full_context_window_shrinks_the_history_or_fails_clearly():
    full = message([{"type": "text", "text": "..."}], "model_context_window_exceeded")
    with pytest.raises(AgentError, match="context window"):
        run_agent(ScriptedModel(full).client(), "Hi", **AGENT, **QUIET)


def test_the_guards_stop_before_the_call_that_would_pass_them():
    looping = [message([tool_use(n, "get_order", order_id="A1042")], "tool_use") for n in range(5)]
    model = ScriptedModel(*looping)
    with pytest.raises(AgentError, match="no answer after 3 calls"):
        run_agent(model.client(), "Hi", limits=Limits(max_calls=3), **AGENT, **QUIET)
    assert len(model.calls) == 3

    big = ScriptedModel(*looping, counts=lambda body: 100 * len(body["messages"]))
    with pytest.raises(AgentError, match="would send 300 input tokens, over the budget of 299"):
        run_agent(big.client(), "Hi", limits=Limits(max_input_tokens=299), **AGENT, **QUIET)
    assert len(big.calls) == 1, "the call over the token budget must not be sent"

    timer = SimulatedTime()
    slow = ScriptedModel(*looping)

    def slow_tool(order_id: str) -> str:
        timer.sleep(40)
        return "ok"

    agent = {**AGENT, "toolbox": {"get_order": slow_tool}}
    with pytest.raises(AgentError, match="100 s time budget"):
        run_agent(slow.client(), "Hi", limits=Limits(max_seconds=100), clock=timer.clock, **agent, **QUIET)
    assert len(slow.calls) == 3


def test_a_server_without_count_tokens_is_said_once_and_the_run_goes_on():
    said: list[str] = []

    def answer_without_counting(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/count_tokens"):
            return httpx2.Response(404, json={"type": "error", "error": {"type": "not_found_error", "message": "no"}})
        return httpx2.Response(200, content=events(answer()), headers={"content-type": "text/event-stream"})

    run = run_agent(scripted_client(answer_without_counting), "Hi", say=said.append, show_text=None, **AGENT)
    assert run.answer and run.calls[0].counted is None
    assert sum("does not count tokens" in line for line in said) == 1


def test_transient_failures_are_retried_and_permanent_ones_are_not():
    from helpers.faults import with_faults

    model = ScriptedModel(answer())
    timer = SimulatedTime()
    flaky = with_faults(model.client(), ["429", "529"], retry_after=0.5)
    run = run_agent(flaky, "Hi", sleep=timer.sleep, clock=timer.clock, **AGENT, **QUIET)
    assert run.answer and len(timer.waits) == 2

    broken = with_faults(ScriptedModel(answer()).client(), ["400"])
    with pytest.raises(anthropic.BadRequestError):
        run_agent(broken, "Hi", retry=RetryPolicy(max_attempts=3), **AGENT, **QUIET)


# --- the history: trimming and summaries ----------------------------------------------------------


def history(turns: int) -> list[Json]:
    messages: list[Json] = [{"role": "user", "content": "the task"}]
    for number in range(turns):
        messages.append({"role": "assistant", "content": [THINKING, tool_use(number, "get_order", order_id="A1042")]})
        messages.append(
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": f"toolu_{number}", "content": "x"}]}
        )
    return messages


@pytest.mark.parametrize("keep_last", [0, 1, 2, 3, 4, 5, 6, 10])
def test_trimming_keeps_the_task_and_whole_turns(keep_last: int):
    messages = history(3)
    original = json.dumps(messages)
    trimmed = trim_history(messages, keep_last)
    assert json.dumps(messages) == original, "the history passed in must not change"
    assert trimmed[0] == messages[0] and len(trimmed) <= max(keep_last + 1, 1)
    latest = messages[len(messages) - len(trimmed) + 1 :]
    if len(trimmed) < len(messages):  # a cut: the kept turns go without the thinking it invalidated
        latest = without_thinking(latest)
    assert trimmed[1:] == latest, "the kept messages are the latest, unchanged but for their thinking"
    if len(trimmed) > 1:
        assert trimmed[1]["role"] == "assistant", "the kept part starts with the turn that holds the tool_use"


def test_a_summary_replaces_the_dropped_turns_in_the_first_message():
    said = ScriptedModel(message([{"type": "text", "text": "Order A1042 is shipped."}], "end_turn"))

    def answer_summary(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, json=said.replies[0])

    summarizer = Summarizer(scripted_client(answer_summary), keep_last=2)
    messages = history(3)
    shrunk = summarizer(messages)
    assert shrunk[1:] == without_thinking(messages[-2:]), "the kept turns, without the thinking the cut invalidated"
    assert [block["type"] for block in shrunk[0]["content"]] == ["text", "text"]
    assert (
        shrunk[0]["content"][0]["text"] == "the task" and "Order A1042 is shipped." in shrunk[0]["content"][1]["text"]
    )
    assert summarizer(messages[:3]) == messages[:3], "nothing to drop, nothing summarized"
    assert len(summarizer.summaries) == 1


def test_a_transcript_names_each_result_by_its_tool_and_says_which_failed():
    messages = history(1)
    messages[2]["content"][0]["is_error"] = True
    lines = transcript(messages).splitlines()
    assert lines == ["user: the task", 'assistant called get_order({"order_id": "A1042"})', "get_order failed: x"]


# --- against the stand-in, which refuses what the API refuses --------------------------------------


@pytest.fixture(scope="module")
def standin() -> Iterator[anthropic.Anthropic]:
    with StandinServer() as server:
        yield anthropic.Anthropic(base_url=server.url, api_key="test", max_retries=0)


def test_the_bookshop_run_sends_only_requests_the_api_accepts(standin: anthropic.Anthropic):
    run = run_agent(standin, bookshop.TASK, **AGENT, **QUIET)
    assert next_action(run.calls[-1].reply) == DONE and run.answer
    assert len(run.calls) >= 2, "the sample run uses its tools"
    summarized = run_agent(standin, bookshop.TASK, shrink=Summarizer(standin), **AGENT, **QUIET)
    assert summarized.answer
    assert len(summarized.messages) < len(run.messages), "the summarized run sends a shorter history"


def test_history_with_tool_blocks_but_no_tools_is_refused(standin: anthropic.Anthropic):
    with pytest.raises(anthropic.BadRequestError, match="must define tools"):
        standin.messages.create(model=MODEL, max_tokens=50, messages=history(1))


def trim_keeping_thinking(messages: list[Json], keep_last: int) -> list[Json]:
    """trim_history as it was before thinking binding: the kept turns keep their thinking blocks."""
    if len(messages) <= keep_last + 1:
        return list(messages)
    start = len(messages) - keep_last
    while start < len(messages) and messages[start]["role"] != "assistant":
        start += 1
    return [messages[0], *messages[start:]]


def test_a_cut_history_is_taken_only_without_its_thinking(standin: anthropic.Anthropic):
    history = run_agent(standin, bookshop.TASK, **AGENT, **QUIET).messages[:-1]
    sent = {"model": MODEL, "system": bookshop.SYSTEM, "tools": bookshop.TOOLS}
    assert any(getattr(b, "type", None) == "thinking" for m in history for b in m["content"]), "it has thinking"
    assert count_input_tokens(standin, {**sent, "messages": history}), "the whole history, as the API returned it"
    refused = "Invalid `signature` in `thinking` block"
    with pytest.raises(anthropic.BadRequestError, match=refused):
        standin.messages.count_tokens(**sent, messages=trim_keeping_thinking(history, 2))
    with pytest.raises(anthropic.BadRequestError, match=refused):
        standin.messages.create(**sent, max_tokens=200, messages=trim_keeping_thinking(history, 2))
    assert count_input_tokens(standin, {**sent, "messages": trim_history(history, 2)})
    standin.messages.create(**sent, max_tokens=200, messages=trim_history(history, 2))


def test_the_summarizer_before_thinking_binding_gets_the_400(
    standin: anthropic.Anthropic, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("helpers.agent.trim_history", trim_keeping_thinking)
    with pytest.raises(anthropic.BadRequestError, match="Invalid `signature` in `thinking` block"):
        run_agent(standin, bookshop.TASK, shrink=Summarizer(standin, keep_last=2), **AGENT, **QUIET)


def test_a_changed_system_prompt_invalidates_the_thinking_after_it(standin: anthropic.Anthropic):
    first = [{"role": "user", "content": "Where is order A1042?"}]
    reply = standin.messages.create(model=MODEL, max_tokens=300, system="Be brief.", messages=first)
    assert reply.content[0].type == "thinking", "the default model thinks first"
    history = [*first, {"role": "assistant", "content": reply.content}, {"role": "user", "content": "Thanks!"}]
    standin.messages.create(model=MODEL, max_tokens=300, system="Be brief.", messages=history)
    with pytest.raises(anthropic.BadRequestError, match=r"messages\.1\.content\.0: Invalid `signature`"):
        standin.messages.create(model=MODEL, max_tokens=300, system="Be very brief.", messages=history)


def test_the_stream_shows_what_the_model_writes_between_tool_calls(standin: anthropic.Anthropic):
    shown: list[str] = []
    run = run_agent(standin, bookshop.TASK, **AGENT, say=None, show_text=shown.append)
    printed = "".join(shown)
    tool_turns = [call.reply for call in run.calls if call.reply.stop_reason == "tool_use"]
    assert tool_turns and all(
        [block.type for block in reply.content if block.type != "tool_use"] == ["thinking"] for reply in tool_turns
    ), "on the default model the text between tool calls comes back inside a thinking block, not as text"
    assert "model (thinking): " in printed, "summarized thinking, the text between tool calls, was not shown"
    first_note = printed.split("model (thinking): ")[1].split("\n")[0]
    assert first_note.strip(), "the first call's thinking (its notes between tool calls) was shown empty"


def test_the_default_display_leaves_the_text_between_tool_calls_empty(standin: anthropic.Anthropic):
    reply = standin.messages.create(
        model=MODEL,
        max_tokens=1024,
        system=bookshop.SYSTEM,
        tools=bookshop.TOOLS,
        messages=[{"role": "user", "content": bookshop.TASK}],
    )
    assert reply.stop_reason == "tool_use"
    assert [block.type for block in reply.content if block.type != "tool_use"] == ["thinking"]
    assert reply.content[0].thinking == "", "under the default display (omitted) the notes are empty"


def test_between_tools_turns_the_thinking_before_each_reply_off(standin: anthropic.Anthropic):
    run = run_agent(standin, bookshop.TASK, **AGENT, **QUIET, thinking={"type": "between_tools"})
    assert run.answer
    final = run.calls[-1].reply
    assert [block.type for block in final.content] == ["text"], "between_tools: no thinking before the answer"
    notes = [block for call in run.calls[:-1] for block in call.reply.content if block.type == "thinking"]
    assert notes and all(block.thinking for block in notes), "the notes between tool calls come back, shown"
