"""An agent loop built to last: call the model, act on its stop_reason, run its tools, repeat.

Lesson 06 builds it up piece by piece, and scripts/agent.py runs it from the command line:

    run = run_agent(client, TASK, tools=TOOLS, toolbox=TOOLBOX, system=SYSTEM)
    run.answer, run.calls, run.messages

What it does on each turn:

- before each call: the guards (number of calls, time, and the input tokens of the request, counted
  with the API's count_tokens), and an optional `shrink` that keeps the history in bounds;
- the call itself, streamed (the reader sees the text as it comes), inside lesson 05's
  call_with_retries, so a 429, a 529 or a dropped stream is asked again;
- then `next_action(reply)`, one action for every stop_reason the API documents:
  the answer (end_turn), the tools (tool_use: every call of the turn, all answered in one user turn,
  a tool that raises answered with is_error), more room (max_tokens: never pass on half an answer,
  unless the server capped the reply below the max_tokens asked: then it is kept, after a notice),
  continue (pause_turn), stop with a message (refusal, model_context_window_exceeded).

The assistant's turns go back exactly as they came, thinking blocks and their signatures included,
until a shrink cuts or rewrites the history: then the kept turns go without their thinking blocks,
which are bound to the conversation before them (without_thinking).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anthropic
from anthropic.types import Message

from .costs import cost_usd, usage_line
from .errors import NotAMessageError, WorkbookError
from .models import MODELS
from .notices import capped_by_server, say_if_capped_by_server, sent_tokens
from .replies import reply_text
from .retries import RetryPolicy, call_with_retries, is_not_served
from .settings import MODEL
from .wire import THINKING_TYPES

Json = dict[str, Any]
Say = Callable[[str], object]
Shrink = Callable[[list[Json]], list[Json]]

# What the loop does after a reply, by its stop_reason (anthropic.types.StopReason lists them all).
DONE = "done"  # end_turn, stop_sequence: the answer is complete
RUN_TOOLS = "run tools"  # tool_use: run every call of the turn, answer them all in one user turn
MORE_ROOM = "more room"  # max_tokens: the reply was cut off; ask again with a larger max_tokens
CONTINUE = "continue"  # pause_turn: the API paused a long turn; send it back as it is to go on
REFUSED = "refused"  # refusal: the safety classifiers stopped the reply; the same request is refused again
TOO_LONG = "too long"  # model_context_window_exceeded: the window is full; stop, and say to shrink the history

ACTIONS: dict[str, str] = {
    "end_turn": DONE,
    "stop_sequence": DONE,
    "tool_use": RUN_TOOLS,
    "max_tokens": MORE_ROOM,
    "pause_turn": CONTINUE,
    "refusal": REFUSED,
    "model_context_window_exceeded": TOO_LONG,
}


class AgentError(WorkbookError):
    """The agent could not finish; the message says why and what to change. `run` is what it did so far."""

    def __init__(self, message: str, run: AgentRun | None = None) -> None:
        super().__init__(message)
        self.run = run


def next_action(reply: Message) -> str:
    """What the loop does after `reply`: one of DONE, RUN_TOOLS, MORE_ROOM, CONTINUE, REFUSED, TOO_LONG."""
    action = ACTIONS.get(str(reply.stop_reason))
    if action is None:
        raise AgentError(
            f"the reply stopped for a reason this loop does not know ({reply.stop_reason!r}): "
            "stop here rather than guess, and read the API's list of stop reasons"
        )
    return action


# --- tools ---------------------------------------------------------------------------------------


def blocks_of(content: Any) -> list[Json]:
    """A message's content as a list of block dicts, whether it holds a string, dicts or the SDK's blocks."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [block if isinstance(block, dict) else block.model_dump(exclude_none=True) for block in content or []]


def run_tools(content: Iterable[Any], toolbox: Mapping[str, Callable[..., Any]]) -> list[Json]:
    """A tool_result for every tool_use block in `content`, in order, each with its tool_use_id.

    A tool that raises, an unknown tool name or inputs the function does not take become a result
    with `is_error: true` and the error in a short line: the model reads it and can try again. A
    result that is not a string is sent as JSON.
    """
    results = []
    for block in blocks_of(content):
        if block.get("type") != "tool_use":
            continue
        result: Json = {"type": "tool_result", "tool_use_id": block["id"]}
        try:
            function = toolbox.get(block["name"])
            if function is None:
                raise LookupError(f"there is no tool named {block['name']!r}; the tools are {', '.join(toolbox)}")
            output = function(**block["input"])
        except Exception as error:  # whatever the tool raises, the model gets to read it
            result.update(content=f"{type(error).__name__}: {error}", is_error=True)
        else:
            result["content"] = output if isinstance(output, str) else json.dumps(output)
        results.append(result)
    return results


def describe_calls(reply: Message) -> str:
    """The reply's tool calls in one line, as a reader would write them: get_order('A1042'), ..."""
    calls = []
    for block in reply.content:
        if block.type == "tool_use":
            arguments = ", ".join(repr(value) for value in dict(block.input).values())
            calls.append(f"{block.name}({arguments})")
    return ", ".join(calls)


# --- keeping the history in bounds ----------------------------------------------------------------


def without_thinking(messages: Iterable[Json]) -> list[Json]:
    """The messages with the thinking blocks taken out of the assistant turns. A thinking block is bound
    to everything before it (system, tools, earlier turns): once a history is cut or rewritten, the kept
    turns' blocks no longer fit, and the API refuses them (400 "Invalid `signature` in `thinking`
    block") or drops them, if the request asks it to. Without them, the edited history is one the API takes.
    Source: https://platform.claude.com/docs/en/build-with-claude/preserved-thinking/prefix-checks"""
    kept = []
    for message in messages:
        if message["role"] == "assistant" and not isinstance(message["content"], str):
            blocks = [block for block in blocks_of(message["content"]) if block.get("type") not in THINKING_TYPES]
            message = {**message, "content": blocks}
        kept.append(message)
    return kept


def holds_tool_results(message: Json) -> bool:
    """Whether the message is a user turn of tool results, which must follow the turn that called the tools."""
    return message["role"] == "user" and any(
        block.get("type") == "tool_result" for block in blocks_of(message["content"])
    )


def trim_history(messages: list[Json], keep_last: int) -> list[Json]:
    """The first message (the task) and at most `keep_last` of the latest messages, never starting on a
    turn of tool results, so a tool_use stays with its tool_result (an assistant turn, or a user's new
    question, which the API joins to the task, is a fine start); after a cut, the kept turns go without
    their thinking blocks, which were bound to the turns now gone (without_thinking)."""
    if len(messages) <= keep_last + 1:
        return list(messages)
    start = len(messages) - keep_last
    while start < len(messages) and holds_tool_results(messages[start]):
        start += 1
    return [messages[0], *without_thinking(messages[start:])]


def transcript(messages: Iterable[Json]) -> str:
    """Messages as plain lines for a summary: what was asked, called and found (thinking left out)."""
    names: dict[str, str] = {}
    lines = []
    for message in messages:
        for block in blocks_of(message["content"]):
            kind = block.get("type")
            if kind == "text" and block["text"].strip():
                lines.append(f"{message['role']}: {block['text'].strip()}")
            elif kind == "tool_use":
                names[block["id"]] = block["name"]
                lines.append(f"assistant called {block['name']}({json.dumps(block['input'])})")
            elif kind == "tool_result":
                name = names.get(block["tool_use_id"], "a tool")
                outcome = "failed" if block.get("is_error") else "returned"
                lines.append(f"{name} {outcome}: {block['content']}")
    return "\n".join(lines)


SUMMARY_SYSTEM = (
    "You summarize an agent's earlier work for the agent itself. Keep every fact it found (IDs, tracking "
    "numbers, dates, statuses) and every mistake it must not repeat; leave out the rest. Plain sentences, "
    "no more than five."
)
NOTES_HEADING = "Notes on the earlier turns, summarized to save tokens:"


@dataclass
class Summarizer:
    """A `shrink` for run_agent: the turns trim_history would drop are summarized by the model into
    notes that join the task in the first message, so their facts stay while their tokens go."""

    client: anthropic.Anthropic
    keep_last: int = 2
    model: str = MODEL
    max_tokens: int = 400
    summaries: list[Message] = field(default_factory=list)

    def __call__(self, messages: list[Json]) -> list[Json]:
        kept = trim_history(messages, self.keep_last)
        if len(kept) == len(messages):
            return list(messages)
        dropped = messages[: len(messages) - len(kept) + 1]  # the first message (with older notes) and what goes
        request = {
            "model": self.model,
            "max_tokens": self.max_tokens,
            "system": SUMMARY_SYSTEM,
            "messages": [{"role": "user", "content": transcript(dropped)}],
        }
        # A call of its own, so it is retried like the agent's (the client has no retries of its own).
        reply = call_with_retries(lambda timeout: self.client.messages.create(**request, timeout=timeout))
        self.summaries.append(reply)
        task = blocks_of(messages[0]["content"])[0]["text"]
        notes = f"{NOTES_HEADING}\n{reply_text(reply).strip()}"
        first = {"role": "user", "content": [{"type": "text", "text": task}, {"type": "text", "text": notes}]}
        return [first, *kept[1:]]


# --- the loop ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    """The guards of a run: it stops, with a message, before it would pass any of them."""

    max_calls: int = 8  # calls to the model in one run, retries of a cut-off reply included
    max_input_tokens: int = 50_000  # input tokens of one call, counted before it is sent
    max_seconds: float = 300.0  # wall-clock time of the whole run
    max_output_tokens: int = 4_096  # the largest max_tokens a cut-off reply is asked again with


@dataclass
class Call:
    """One call the agent made: the input tokens counted before it, the reply, and its budget."""

    number: int
    counted: int | None
    reply: Message
    max_tokens: int

    def line(self, model: str) -> str:
        counted = f"counted {self.counted:,}" if self.counted is not None else "not counted"
        action = ACTIONS.get(str(self.reply.stop_reason), str(self.reply.stop_reason))
        if capped_by_server(self.reply, max_tokens=self.max_tokens):  # more room would not help: kept
            action = "capped by the server, kept"
        tools = describe_calls(self.reply)
        return (
            f"call {self.number} ({counted}): {usage_line(self.reply.usage, model)}  "
            f"-> {self.reply.stop_reason}: {action}" + (f" {tools}" if tools else "")
        )


@dataclass
class AgentRun:
    """What one run did: every call, the history as last sent, and the final answer (empty until done)."""

    model: str
    messages: list[Json]
    calls: list[Call] = field(default_factory=list)
    answer: str = ""

    @property
    def usages(self) -> list[Any]:
        return [call.reply.usage for call in self.calls]

    @property
    def cost(self) -> float | None:
        """Dollars for every call, or None when the model has no price in helpers/models.py."""
        costs = [cost_usd(usage, self.model) for usage in self.usages]
        return None if None in costs else sum(cost for cost in costs if cost is not None)

    def total_line(self) -> str:
        cost = self.cost
        money = f"${cost:.4f}" if cost is not None else f"cost unknown (no price for {self.model!r})"
        tokens_in = sum(sent_tokens(usage) for usage in self.usages)  # cache reads and writes were sent too
        tokens_out = sum(usage.output_tokens for usage in self.usages)
        calls = f"{len(self.calls)} call" + ("" if len(self.calls) == 1 else "s")
        return f"{calls}, {tokens_in:,} input and {tokens_out:,} output tokens, {money}"


def count_input_tokens(client: anthropic.Anthropic, request: Json) -> int | None:
    """The request's input tokens, counted by the API (free, and recorded like any request); None when
    the server has no count_tokens endpoint, as some local model servers do not."""
    counted = {key: request[key] for key in ("model", "system", "tools", "messages") if key in request}
    try:
        # Without the SDK's retries: a server without the endpoint answers so every time, and the agent's
        # own loop (call_with_retries) retries what is transient.
        tokens = client.with_options(max_retries=0).messages.count_tokens(**counted).input_tokens
    except anthropic.APIStatusError as error:
        if is_not_served(error):  # 404, 405, 501, or a 500 in the server's own words
            return None
        raise
    return tokens if isinstance(tokens, int) else None  # a server may answer with something else


def watched_thinking(model: str) -> Json | None:
    """The `thinking` setting that lets a watcher see what the model does between tool calls: on a model
    that thinks by default, that text comes back inside thinking blocks, empty under the default display
    ("omitted"); display "summarized" fills them in. None for other models (nothing to change).
    Source: anthropic/types/thinking_config_adaptive_param.py (display: summarized | omitted)."""
    facts = MODELS.get(model)
    return {"type": "adaptive", "display": "summarized"} if facts and facts.adaptive_thinking_by_default else None


def streamed_call(client: anthropic.Anthropic, request: Json, timeout: float, show_text: Say | None) -> Message:
    """One call, streamed: each piece of text, and of shown thinking, goes to `show_text` as it arrives;
    returns the whole Message."""
    shown = None  # what is being shown: "text" or "thinking"
    labels = {"text": "  model: ", "thinking": "  model (thinking): "}
    with client.messages.stream(**request, timeout=timeout) as stream:
        if not stream.response.headers.get("content-type", "").startswith("text/event-stream"):
            raise NotAMessageError(
                "the server's reply to a streamed request was not in the Messages API format (no event stream, "
                f"but {stream.response.headers.get('content-type')!r}). Check that ANTHROPIC_BASE_URL points at "
                "the Anthropic API or a server compatible with it"
            )
        for event in stream:
            kind = event.type if event.type in labels else None
            piece = getattr(event, kind, "") if kind else ""
            if not piece or show_text is None:
                continue
            if kind != shown:
                show_text(("\n" if shown else "") + labels[kind])
                shown = kind
            show_text(piece)
        reply = stream.get_final_message()
    if shown and show_text is not None:
        show_text("\n")
    return reply


def print_piece(text: str) -> None:
    print(text, end="", flush=True)


def run_agent(
    client: anthropic.Anthropic,
    task: str,
    *,
    tools: list[Json],
    toolbox: Mapping[str, Callable[..., Any]],
    system: str,
    model: str = MODEL,
    max_tokens: int = 1024,
    limits: Limits = Limits(),
    shrink: Shrink | None = None,
    retry: RetryPolicy | None = None,
    say: Say | None = print,
    show_text: Say | None = print_piece,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], object] = time.sleep,
    thinking: Json | str | None = "watched",
) -> AgentRun:
    """Run the agent on `task` until it answers; raise AgentError (with `.run`) when it cannot.

    `thinking` is the request's thinking setting: by default `watched_thinking(model)`, so the stream
    shows what the model writes between tool calls; {"type": "between_tools"} turns the thinking before
    each reply off, keeping only those notes; None sends no setting.

    Build the client with max_retries=0: each call is retried here (call_with_retries, `retry`),
    and the SDK's own retries would multiply with these.
    """
    if thinking == "watched":
        thinking = watched_thinking(model)
    run = AgentRun(model=model, messages=[{"role": "user", "content": task}])
    say = say or (lambda line: None)
    began = clock()
    note_once: set[str] = set()

    def stop(reason: str) -> AgentError:
        return AgentError(reason, run)

    def report(line: str) -> None:
        if line != "attempt 1: ok":  # a call that worked at once needs no line of its own
            say(f"  {line}")

    for number in range(1, limits.max_calls + 1):
        if clock() - began >= limits.max_seconds:
            raise stop(f"stopped after {len(run.calls)} calls: the run used its {limits.max_seconds:g} s time budget")
        if shrink is not None:
            run.messages = shrink(run.messages)
        request = {
            "model": model,
            "max_tokens": max_tokens,
            "system": system,
            "tools": tools,
            "messages": run.messages,
        }
        if thinking is not None:
            request["thinking"] = thinking
        retrying = {"policy": retry, "report": report, "sleep": sleep, "clock": clock}
        counted = call_with_retries(lambda _, request=request: count_input_tokens(client, request), **retrying)
        if counted is None and "count" not in note_once:
            note_once.add("count")
            say("This server does not count tokens (its count_tokens failed), so the token budget is not checked.")
        if counted is not None and counted > limits.max_input_tokens:
            raise stop(
                f"call {number} would send {counted:,} input tokens, over the budget of {limits.max_input_tokens:,}: "
                "shrink the history (trim or summarize it) or raise Limits.max_input_tokens"
            )
        reply = call_with_retries(
            lambda timeout, request=request: streamed_call(client, request, timeout, show_text), **retrying
        )
        run.calls.append(Call(number, counted, reply, max_tokens))
        say(run.calls[-1].line(model))
        action = next_action(reply)
        if action == DONE:
            run.messages = [*run.messages, {"role": "assistant", "content": reply.content}]
            run.answer = reply_text(reply)
            return run
        if action == RUN_TOOLS:
            results = run_tools(reply.content, toolbox)
            run.messages = [
                *run.messages,
                {"role": "assistant", "content": reply.content},
                {"role": "user", "content": results},
            ]
            for result in results:
                if result.get("is_error"):
                    say(f"  tool error, sent back to the model: {result['content']}")
        elif action == MORE_ROOM:
            if say_if_capped_by_server(reply, max_tokens=max_tokens, so="the cut answer is kept", say=report):
                run.messages = [*run.messages, {"role": "assistant", "content": reply.content}]
                run.answer = reply_text(reply)
                return run
            if max_tokens >= limits.max_output_tokens:
                raise stop(
                    f"call {number} was cut off at max_tokens={max_tokens}, the most Limits.max_output_tokens allows: "
                    "raise it, or ask for a shorter answer"
                )
            max_tokens = min(2 * max_tokens, limits.max_output_tokens)
            say(f"  cut off: the half answer is dropped, and the call asked again with max_tokens={max_tokens}")
        elif action == CONTINUE:
            run.messages = [*run.messages, {"role": "assistant", "content": reply.content}]
        elif action == REFUSED:
            details = reply.stop_details
            why = f" (category {details.category})" if details is not None and details.category else ""
            said = f": {details.explanation}" if details is not None and details.explanation else ""
            raise stop(
                f"the API stopped the reply as a refusal{why}{said}; the same request is refused again, "
                "so rephrase the task, remove the turn that caused it, or send it to another model (a fallback)"
            )
        elif action == TOO_LONG:
            advice = (
                "give run_agent a shrink (trim_history or a Summarizer) to keep the history in bounds"
                if shrink is None
                else "the history is already as short as the shrink makes it: keep fewer turns (a smaller keep_last)"
            )
            raise stop(f"call {number} filled the model's context window: {advice}")
    raise stop(f"no answer after {limits.max_calls} calls (Limits.max_calls): raise it, or make the task smaller")
