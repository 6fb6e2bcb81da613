"""The exercise checks of lessons 02 and 03: each common mistake gets its own, specific hint.

Every check prints one line and never raises. These tests feed each check a correct
answer, the student edition's placeholder, and the typical wrong answers, and assert
on the hint a student would read.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import MODEL, reply_text
from helpers.checks import NOT_YET, PASS
from helpers.checks.lesson02 import check_is_valid_history, check_to_anthropic, check_tool_result_message
from helpers.checks.lesson03 import check_chat, check_trim_history

RECORDINGS = Path(__file__).resolve().parent.parent / "recordings"


def verdict(capsys: pytest.CaptureFixture[str]) -> str:
    out = capsys.readouterr().out.strip()
    assert out.count("\n") == 0, f"a check should print exactly one line, got: {out!r}"
    return out


def passed(out: str) -> bool:
    assert out.startswith((PASS, NOT_YET)), out
    return out.startswith(PASS)


# --- lesson 02, exercise 1: to_anthropic ------------------------------------------------


def to_anthropic_right(messages):
    system = [m["content"] for m in messages if m["role"] == "system"]
    request = {"messages": [m for m in messages if m["role"] != "system"]}
    if system:
        request["system"] = system[0]
    return request


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda messages: {}, "return a dict"),
        (lambda messages: {"messages": messages}, "still in"),
        (
            lambda messages: (
                {"system": "Reply in French.", "messages": messages[1:]}
                if messages[0]["role"] == "system"
                else {"system": None, "messages": messages}
            ),
            'leave the "system" key out',
        ),
        (
            lambda messages: (messages.pop(0), {"system": "Reply in French.", "messages": messages})[1],
            "changed the list",
        ),
        (lambda messages: {"system": messages[0], "messages": messages[1:]}, "content"),
        (lambda messages: {"system": "Reply in French.", "messages": messages[:0:-1]}, "same order"),
    ],
    ids=["placeholder", "system-left-in", "system-none", "mutates-input", "whole-message-as-system", "reordered"],
)
def test_to_anthropic_hints(capsys, answer, hint):
    check_to_anthropic(answer)
    out = verdict(capsys)
    assert not passed(out) and hint in out, out


def test_to_anthropic_passes_a_right_answer(capsys):
    check_to_anthropic(to_anthropic_right)
    assert passed(verdict(capsys))


# --- lesson 02, exercise 2: tool_result_message -----------------------------------------


def tool_result(role="user", kind="tool_result", use_id=lambda call: call.id, content=lambda out: out):
    def answer(call, output):
        block = {"type": kind, "tool_use_id": use_id(call), "content": content(output)}
        return {"role": role, "content": [block]}

    return answer


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda call, output: {}, "role"),
        (tool_result(role="tool"), 'no "tool" role'),
        (tool_result(role="assistant"), 'in a "user" message'),
        (tool_result(kind="text"), '"tool_result"'),
        (tool_result(use_id=lambda call: call.name), "use its id"),
        (tool_result(use_id=lambda call: "toolu_check_1"), "call.id"),
        (tool_result(content=lambda out: "done"), "output string"),
        (lambda call, output: {"role": "user", "content": output}, "a list holding one block"),
    ],
    ids=[
        "placeholder",
        "tool-role",
        "assistant-role",
        "text-block",
        "name-not-id",
        "hard-coded-id",
        "wrong-content",
        "bare-string",
    ],
)
def test_tool_result_message_hints(capsys, answer, hint):
    check_tool_result_message(answer)
    out = verdict(capsys)
    assert not passed(out) and hint in out, out


def test_tool_result_message_passes_a_right_answer(capsys):
    check_tool_result_message(tool_result())
    assert passed(verdict(capsys))


def test_tool_result_content_as_a_list_of_text_blocks_is_valid_and_passes(capsys):
    check_tool_result_message(tool_result(content=lambda out: [{"type": "text", "text": out}]))
    out = verdict(capsys)
    assert passed(out), out


# --- lesson 02, exercise 3: is_valid_history -------------------------------------------


def valid_right(messages):
    return (
        bool(messages)
        and messages[0].get("role") == "user"
        and all(m.get("role") in ("user", "assistant") and m.get("content") for m in messages)
    )


def valid_but_crashes_on_malformed(messages):
    """Right for every well-formed history; a KeyError for a message with no "role"."""
    return (
        bool(messages)
        and messages[0]["role"] == "user"
        and all(m["role"] in ("user", "assistant") and m["content"] for m in messages)
    )


def valid_but_crashes_on_none(messages):
    """Right for every well-formed history; a TypeError for content None."""
    return (
        bool(messages)
        and messages[0].get("role") == "user"
        and all(m.get("role") in ("user", "assistant") and len(m.get("content", "")) > 0 for m in messages)
    )


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda messages: None, "return True or False"),
        (lambda messages: True, "starts with assistant"),
        (lambda messages: bool(messages) and messages[0]["role"] == "user", "an empty string"),
        (
            lambda messages: bool(messages) and all(m["content"] for m in messages) and messages[0]["role"] == "user",
            '"tool" role',
        ),
        (lambda messages: valid_right(messages) and isinstance(messages[0]["content"], str), "list of blocks"),
        (valid_but_crashes_on_malformed, 'with no "role" it raised KeyError'),
        (valid_but_crashes_on_none, "return False rather than crash"),
        (lambda messages: valid_right(messages) or not all("role" in m for m in messages), "should be False"),
        (lambda messages: messages[0]["role"] == "user" and valid_right(messages), "for a history with no messages"),
    ],
    ids=[
        "placeholder",
        "always-true",
        "ignores-content",
        "ignores-roles",
        "rejects-block-lists",
        "crashes-without-role",
        "crashes-on-none",
        "accepts-no-role",
        "crashes-on-no-messages",
    ],
)
def test_is_valid_history_hints(capsys, answer, hint):
    check_is_valid_history(answer)
    out = verdict(capsys)
    assert not passed(out) and hint in out, out


def test_is_valid_history_passes_a_right_answer(capsys):
    check_is_valid_history(valid_right)
    assert passed(verdict(capsys))


# --- lesson 03, exercise 1: chat ---------------------------------------------------------


def chat_right(client, messages, user_text):
    messages.append({"role": "user", "content": user_text})
    response = client.messages.create(model="any-model", max_tokens=100, messages=messages)
    messages.append({"role": "assistant", "content": reply_text(response)})
    return reply_text(response)


def chat_keeps_content_blocks(client, messages, user_text):
    """Also right: the reply appended as the response's content blocks, as agents do."""
    messages.append({"role": "user", "content": user_text})
    response = client.messages.create(model="any-model", max_tokens=100, messages=messages)
    messages.append({"role": "assistant", "content": response.content})
    return reply_text(response)


def chat_placeholder(client, messages, user_text):
    return None


def chat_forgets_the_reply(client, messages, user_text):
    messages.append({"role": "user", "content": user_text})
    return reply_text(client.messages.create(model="m", max_tokens=100, messages=messages))


def chat_new_list_each_call(client, messages, user_text):
    messages = [{"role": "user", "content": user_text}]
    response = client.messages.create(model="m", max_tokens=100, messages=messages)
    messages.append({"role": "assistant", "content": reply_text(response)})
    return reply_text(response)


def chat_keeps_a_copy(client, messages, user_text):
    history = chat_keeps_a_copy.__dict__.setdefault("history", [])  # a global-like list, not the caller's
    history.append({"role": "user", "content": user_text})
    response = client.messages.create(model="m", max_tokens=100, messages=history)
    history.append({"role": "assistant", "content": reply_text(response)})
    return reply_text(response)


LEFTOVER = [{"role": "user", "content": "What is the capital of Canada?"}, {"role": "assistant", "content": "Ottawa."}]


def chat_uses_a_notebook_variable(client, messages, user_text):
    notebook_messages = list(LEFTOVER)  # stands for a list defined elsewhere in the notebook
    notebook_messages.append({"role": "user", "content": user_text})
    response = client.messages.create(model="m", max_tokens=100, messages=notebook_messages)
    messages.extend([notebook_messages[-1], {"role": "assistant", "content": reply_text(response)}])
    return reply_text(response)


def chat_reply_as_user(client, messages, user_text):
    messages.append({"role": "user", "content": user_text})
    response = client.messages.create(model="m", max_tokens=100, messages=messages)
    messages.append({"role": "user", "content": reply_text(response)})
    return reply_text(response)


def chat_returns_the_message(client, messages, user_text):
    messages.append({"role": "user", "content": user_text})
    response = client.messages.create(model="m", max_tokens=100, messages=messages)
    messages.append({"role": "assistant", "content": reply_text(response)})
    return response


def chat_returns_the_history(client, messages, user_text):
    chat_right(client, messages, user_text)
    return messages


def chat_forgets_the_user_turn(client, messages, user_text):
    response = client.messages.create(
        model="m", max_tokens=100, messages=[*messages, {"role": "user", "content": "Hi"}]
    )
    return reply_text(response)


def chat_raises(client, messages, user_text):
    raise RuntimeError("boom")


def chat_reads_the_first_block(client, messages, user_text):
    """The shortcut lesson 01 warns about, on the default model, whose replies open with a thinking block."""
    messages.append({"role": "user", "content": user_text})
    response = client.messages.create(model=MODEL, max_tokens=100, messages=messages)
    messages.append({"role": "assistant", "content": response.content[0].text})
    return response.content[0].text


@pytest.mark.parametrize(
    ("chat", "hint"),
    [
        (chat_placeholder, "complete chat()"),
        (chat_forgets_the_reply, "no assistant turn between the two questions"),
        (chat_new_list_each_call, "starts a fresh list on each call"),
        (chat_keeps_a_copy, "kept in another list"),
        (chat_uses_a_notebook_variable, "not a list from elsewhere"),
        (chat_reply_as_user, 'use "assistant"'),
        (chat_returns_the_message, "returned the whole Message"),
        (chat_returns_the_history, "returned a list"),
        (chat_forgets_the_user_turn, "append the user's turn"),
        (chat_raises, "raised RuntimeError"),
        (chat_reads_the_first_block, "read `.text` off a thinking block"),
    ],
    ids=lambda value: value.__name__ if callable(value) else "",
)
def test_chat_hints(capsys, chat, hint):
    check_chat(chat)
    out = verdict(capsys)
    assert not passed(out) and hint in out, out


@pytest.mark.parametrize("chat", [chat_right, chat_keeps_content_blocks], ids=["text", "content-blocks"])
def test_chat_passes_any_right_answer(capsys, chat):
    check_chat(chat)
    assert passed(verdict(capsys))


def test_chat_check_never_touches_the_recordings(capsys, monkeypatch, tmp_path):
    # An empty recordings folder and replay mode: a request reaching the workbook's transport would fail.
    monkeypatch.setenv("WORKBOOK_RECORDINGS_DIR", str(tmp_path))
    monkeypatch.setenv("WORKBOOK_MODE", "replay")
    check_chat(chat_right)
    assert passed(verdict(capsys))
    assert list(tmp_path.iterdir()) == []


# --- lesson 03, exercise 2: trim_history -------------------------------------------------


def trim_right(messages, max_messages):
    kept = messages[-max_messages:] if max_messages > 0 else []
    while kept and kept[0]["role"] != "user":
        kept = kept[1:]
    return list(kept)


def trim_with_a_plain_slice(messages, max_messages):
    """Right for every max_messages but 0, for which messages[-0:] is the whole list."""
    kept = messages[-max_messages:]
    while kept and kept[0]["role"] != "user":
        kept = kept[1:]
    return list(kept)


@pytest.mark.parametrize(
    ("answer", "hint"),
    [
        (lambda messages, n: None, "return a list"),
        (lambda messages, n: messages[-n:], "starts with an assistant turn"),
        (lambda messages, n: messages[:n], "most recent"),
        (lambda messages, n: messages, "at most"),
        (lambda messages, n: (messages.__delitem__(slice(0, -n)), trim_right(messages, n))[1], "changed the list"),
        (lambda messages, n: [m for m in messages[-n:] if m["role"] == "user"], "most recent"),
        (lambda messages, n: trim_right(messages, n)[-1:], "the most that fit"),
        (trim_with_a_plain_slice, "messages[-0:] is the whole list"),
    ],
    ids=[
        "placeholder",
        "starts-with-assistant",
        "oldest-kept",
        "not-trimmed",
        "mutates",
        "drops-assistants",
        "too-few",
        "plain-slice-keeps-all-for-0",
    ],
)
def test_trim_history_hints(capsys, answer, hint):
    check_trim_history(answer)
    out = verdict(capsys)
    assert not passed(out) and hint in out, out


def test_trim_history_passes_a_right_answer(capsys):
    check_trim_history(trim_right)
    assert passed(verdict(capsys))


# --- the recordings the lessons replay ---------------------------------------------------


@pytest.mark.parametrize("name", ["02_roles", "03_statelessness", "conversation"])
def test_only_the_malformed_histories_are_recorded_as_errors(name):
    text = (RECORDINGS / f"{name}.json").read_text(encoding="utf-8")
    statuses = [r["status"] for item in json.loads(text)["interactions"] for r in item["responses"]]
    expected_errors = 3 if name == "02_roles" else 0
    assert statuses.count(400) == expected_errors, f"{name}: unexpected error responses {statuses}"


def test_the_cached_catalogue_is_long_enough_for_any_documented_minimum_of_the_model():
    # Sources disagree on Sonnet 4.6's minimum cacheable prefix (1,024 or 2,048 tokens): stay above both.
    interactions = json.loads((RECORDINGS / "03_statelessness.json").read_text(encoding="utf-8"))["interactions"]
    written = [
        response["body"]["usage"].get("cache_creation_input_tokens") or 0
        for item in interactions
        for response in item["responses"]
        if response["status"] == 200
    ]
    assert max(written) > 2048, f"the catalogue written to the cache is only {max(written)} tokens"


def test_the_rejected_system_role_stays_in_lesson_02s_recording():
    interactions = json.loads((RECORDINGS / "02_roles.json").read_text(encoding="utf-8"))["interactions"]
    rejected = [
        item
        for item in interactions
        if item["request"]["body"]["messages"][0]["role"] == "system"
        and [response["status"] for response in item["responses"]] == [400]
    ]
    assert len(rejected) == 1, "lesson 02 shows the 400 for a system role in messages"
