"""Every shipped recording: readable by the SDK's own types, honestly labelled, and with sample
token counts that come from the one estimator, never typed by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic
import pytest
from anthropic.types import Message, MessageTokensCount, RawMessageStreamEvent
from anthropic.types.shared import ErrorResponse

from helpers.recordings import RecordingFile, recorded_message
from helpers.settings import RECORDINGS_DIR
from helpers.transport import KEPT_RESPONSE_HEADERS
from tools import token_estimate

FILES = sorted(RECORDINGS_DIR.glob("*.json"))
STREAM_EVENT = pydantic.TypeAdapter(RawMessageStreamEvent)


def interactions(path: Path) -> list[dict[str, Any]]:
    return RecordingFile(path).data["interactions"]


def final_message(response: dict[str, Any]) -> Message:
    """The Message a recorded response stands for; each streamed event must parse with the SDK's types."""
    for event in response.get("events", []):
        if event["event"] != "ping":  # pings carry nothing, and the SDK drops them
            STREAM_EVENT.validate_python(event["data"])
    message = recorded_message(response)
    assert message is not None, "a successful reply should stand for a Message"
    return message


def counts_tokens(item: dict[str, Any]) -> bool:
    """Whether the interaction is a token count (/v1/messages/count_tokens), whose reply is a number, not a Message."""
    return item["request"]["path"].rstrip("/").endswith("/count_tokens")


def test_there_are_recordings():
    assert FILES, "recordings/ is empty"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_file_says_what_it_is(path):
    data = json.loads(path.read_text())
    assert data["provenance"] in ("sample", "recorded", "mixed"), "say whether the replies are samples"
    assert data["recorded_on"] and data["models"], "say when and with which model"
    if data["provenance"] != "recorded":
        assert "not real model output" in data["note"]
    for item in data["interactions"]:
        assert item["provenance"] in ("sample", "recorded") and item["recorded_on"] and item["model"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_response_parses_with_the_sdks_types(path):
    for item in interactions(path):
        for response in item["responses"]:
            if "error" in response:
                assert response["error"] in ("timeout", "connection")
                continue
            assert set(response["headers"]) <= set(KEPT_RESPONSE_HEADERS), "only allow-listed headers are kept"
            if response["status"] == 200 and counts_tokens(item):
                MessageTokensCount.model_validate(response["body"])
            elif response["status"] == 200:
                final_message(response)
            else:
                ErrorResponse.model_validate(response["body"])


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_sample_token_counts_come_from_the_estimator(path):
    for item in interactions(path):
        if item["provenance"] != "sample":
            continue
        body = item["request"]["body"]
        for response in item["responses"]:
            if response.get("status") != 200:
                continue
            if counts_tokens(item):
                assert response["body"]["input_tokens"] == token_estimate.input_tokens(body), "a token count"
                continue
            message = final_message(response)
            usage = message.usage
            sent = usage.input_tokens + (usage.cache_creation_input_tokens or 0) + (usage.cache_read_input_tokens or 0)
            assert sent == token_estimate.input_tokens(body), f"{message.id}: input tokens do not fit the request"
            content = [block.model_dump(exclude_none=True) for block in message.content]
            if message.stop_reason == "max_tokens":
                assert usage.output_tokens == body["max_tokens"], f"{message.id}: a cut reply uses its whole budget"
            else:
                assert usage.output_tokens == token_estimate.output_tokens(content), f"{message.id}: output tokens"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_recordings_store_no_request_headers(path):
    for item in interactions(path):
        assert set(item["request"]) == {"method", "path", "body"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_sample_reply_is_a_written_one_not_the_standins_placeholder(path):
    """The sample replies repeat the prompts the lessons send; if a lesson's prompt drifts, this catches it."""
    assert "has no sample answer" not in path.read_text(encoding="utf-8"), (
        f"recordings/{path.name} holds the stand-in's placeholder: a request no longer matches its sample in "
        "tools/samples/ (check the prompt, system and turns), then re-record with `tools.record_lessons --standin`."
    )
