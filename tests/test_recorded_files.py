"""Every shipped recording: readable by the SDK's own types, honestly labelled, and with sample
token counts that come from the one estimator, never typed by hand."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic
import pytest
from anthropic.types import Message, MessageTokensCount, RawMessageStreamEvent
from anthropic.types.messages import DeletedMessageBatch, MessageBatch, MessageBatchIndividualResponse
from anthropic.types.shared import ErrorResponse

from helpers.exchanges import is_kept_header, model_of
from helpers.recordings import RecordingFile, recorded_message
from helpers.settings import RECORDINGS_DIR
from tools import token_estimate
from workbook_base.local_model import LOCAL_MODEL

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


def batch_call(item: dict[str, Any]) -> str | None:
    """Which call of the Message Batches API the interaction is ("create", "list", "retrieve", "cancel",
    "delete", "results"), or None for another endpoint."""
    method, path = item["request"]["method"], item["request"]["path"].rstrip("/")
    if path.endswith("/v1/messages/batches"):
        return "create" if method == "POST" else "list"
    if "/v1/messages/batches/" not in path:
        return None
    if path.endswith(("/results", "/cancel")):
        return path.rsplit("/", 1)[1]
    return "delete" if method == "DELETE" else "retrieve"


def batch_results(response: dict[str, Any]) -> list[MessageBatchIndividualResponse]:
    """The lines of a batch's results (JSON Lines, stored as text; a single line, as a JSON body)."""
    lines = response["text"].splitlines() if "text" in response else [json.dumps(response["body"])]
    return [MessageBatchIndividualResponse.model_validate_json(line) for line in lines if line.strip()]


def check_response(item: dict[str, Any], response: dict[str, Any]) -> None:
    """One stored response parses with the SDK's types, as what its endpoint returns."""
    if "error" in response:
        assert response["error"] in ("timeout", "connection")
        return
    assert all(map(is_kept_header, response["headers"])), "only allow-listed headers are kept"
    call = batch_call(item)
    if response["status"] != 200:
        ErrorResponse.model_validate(response["body"])
    elif counts_tokens(item):
        MessageTokensCount.model_validate(response["body"])
    elif call == "results":
        assert batch_results(response), "a batch's results hold a line per request"
    elif call == "list":
        for batch in response["body"]["data"]:
            MessageBatch.model_validate(batch)
    elif call == "delete":
        DeletedMessageBatch.model_validate(response["body"])
    elif call is not None:
        MessageBatch.model_validate(response["body"])
    else:
        final_message(response)


def check_sample_usage(message: Message, body: dict[str, Any]) -> None:
    """A sample reply's token counts are the estimator's for the request `body` it answers."""
    usage = message.usage
    sent = usage.input_tokens + (usage.cache_creation_input_tokens or 0) + (usage.cache_read_input_tokens or 0)
    assert sent == token_estimate.input_tokens(body), f"{message.id}: input tokens do not fit the request"
    content = [block.model_dump(exclude_none=True) for block in message.content]
    if message.stop_reason == "max_tokens":
        assert usage.output_tokens == body["max_tokens"], f"{message.id}: a cut reply uses its whole budget"
    else:
        assert usage.output_tokens == token_estimate.output_tokens(content), f"{message.id}: output tokens"


def check_sample_token_counts(items: list[dict[str, Any]]) -> None:
    """Every sample reply's token counts come from the estimator, a batch's results' too (each against
    the params its custom_id was sent with, in the batch the file's create interaction made)."""
    batches: dict[str, dict[str, Any]] = {}  # batch id -> custom_id -> params
    for item in items:
        if batch_call(item) == "create":
            for response in item["responses"]:
                if response.get("status") == 200:
                    requests = item["request"]["body"]["requests"]
                    batches[response["body"]["id"]] = {entry["custom_id"]: entry["params"] for entry in requests}
    for item in items:
        if item["provenance"] != "sample":
            continue
        body = item["request"]["body"]
        call = batch_call(item)
        for response in item["responses"]:
            if response.get("status") != 200 or (call is not None and call != "results"):
                continue
            if counts_tokens(item):
                assert response["body"]["input_tokens"] == token_estimate.input_tokens(body), "a token count"
            elif call == "results":
                sent = batches[item["request"]["path"].rstrip("/").split("/")[-2]]
                for entry in batch_results(response):
                    if entry.result.type == "succeeded":
                        check_sample_usage(entry.result.message, sent[entry.custom_id])
            else:
                check_sample_usage(final_message(response), body)


def test_there_are_recordings():
    assert FILES, "recordings/ is empty"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_file_says_what_it_is(path):
    data = json.loads(path.read_text())
    assert data["provenance"] in ("sample", "recorded", "mixed", "local"), "say whether the replies are samples"
    assert data["recorded_on"] and data["models"], "say when and with which model"
    if data["provenance"] in ("sample", "mixed"):
        assert "not real model output" in data["note"]
    if data["provenance"] == "local":  # real output, but from the small local model: never taken for Claude's
        assert "not from Claude" in data["note"]
    for item in data["interactions"]:
        assert item["provenance"] in ("sample", "recorded", "local") and item["recorded_on"]
        if item["provenance"] == "local":
            assert item["model"] == LOCAL_MODEL and item["server"], "the local model's name, and the server's build"
            continue
        # Every request that names a model says which; a batch's retrieve or results (a GET) names none.
        assert item["model"] == model_of(item["request"]["body"]), "the interaction names the model it asked for"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_each_response_parses_with_the_sdks_types(path):
    for item in interactions(path):
        for response in item["responses"]:
            check_response(item, response)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_sample_token_counts_come_from_the_estimator(path):
    check_sample_token_counts(interactions(path))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_recordings_store_no_request_headers(path):
    for item in interactions(path):
        assert set(item["request"]) == {"method", "path", "body"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_sample_reply_is_a_written_one_not_the_standins_placeholder(path):
    """The sample replies repeat the prompts the lessons send; if a lesson's prompt drifts, this catches it."""
    assert "has no sample answer" not in path.read_text(encoding="utf-8"), (
        f"recordings/{path.name} holds the stand-in's placeholder: a request no longer matches its sample in "
        "tools/samples/ (check the prompt, system and turns), then re-record with "
        "`instructor.record_lessons --standin`."
    )
