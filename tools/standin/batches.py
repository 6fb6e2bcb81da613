"""The Message Batches API's state: the batches a server was sent, how far each has come, and its results.

Source: anthropic/resources/messages/batches.py and anthropic/types/messages/message_batch*.py (the
shapes); the batch-processing guide, https://platform.claude.com/docs/en/build-with-claude/batch-processing
(a batch expires 24 hours after it is created; "Validation of the params object for each message request
is performed asynchronously, and validation errors are returned when processing of the entire batch has
ended").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from helpers import wire
from tools.standin import replies, rules

if TYPE_CHECKING:
    from tools.standin.state import StandinState

BATCHES_PATH = "/v1/messages/batches"
BATCH_PATH = re.compile(r"/v1/messages/batches/(?P<id>[^/]+)(?P<action>/results|/cancel)?$")
BATCH_LIFETIME = timedelta(hours=24)
# What the results endpoint answers with: the API sends this content type (it sent none before a fix;
# https://github.com/anthropics/anthropic-sdk-ruby/issues/208), and names the file it is.
RESULTS_CONTENT_TYPE = "application/x-jsonl"
DEFAULT_BATCH_POLLS = 2


@dataclass
class Batch:
    """A Message Batch the server was sent: its requests, and how far its processing has come."""

    id: str
    requests: list[dict[str, Any]]
    created_at: datetime
    retrieves: int = 0
    cancel_initiated_at: datetime | None = None
    ended_at: datetime | None = None
    results: list[dict[str, Any]] | None = None  # a MessageBatchIndividualResponse per request, once ended

    @property
    def status(self) -> str:
        if self.ended_at is not None:
            return "ended"
        return "canceling" if self.cancel_initiated_at is not None else "in_progress"

    def to_json(self, results_url: str) -> dict[str, Any]:
        """The MessageBatch the API answers with; `results_url` is given only once processing has ended."""
        counts = dict.fromkeys(("processing", "succeeded", "errored", "canceled", "expired"), 0)
        if self.results is None:
            counts["processing"] = len(self.requests)
        else:
            for entry in self.results:
                counts[entry["result"]["type"]] += 1
        return {
            "id": self.id,
            "type": "message_batch",
            "processing_status": self.status,
            "request_counts": counts,
            "ended_at": timestamp(self.ended_at),
            "created_at": timestamp(self.created_at),
            "expires_at": timestamp(self.created_at + BATCH_LIFETIME),
            "archived_at": None,
            "cancel_initiated_at": timestamp(self.cancel_initiated_at),
            "results_url": results_url if self.results is not None else None,
        }


def timestamp(moment: datetime | None) -> str | None:
    """A time as the Batches API writes it: RFC 3339, UTC, to the microsecond."""
    return None if moment is None else moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def new_batch(requests: list[dict[str, Any]], batches: dict[str, Batch]) -> Batch:
    """A batch of `requests`, added to `batches`. The same requests sent again make another batch, with
    another id: deterministic, in order."""
    again = sum(1 for batch in batches.values() if batch.requests == requests)
    batch = Batch(f"msgbatch_sample_{replies.digest([requests, again])}", requests, datetime.now(UTC))
    batches[batch.id] = batch
    return batch


def page(batches: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    """One page of the batch list (MessageBatches, most recent first), as `limit`, `after_id` and
    `before_id` in the query ask."""
    ids = [batch["id"] for batch in batches]
    if query.get("after_id") in ids:
        batches = batches[ids.index(query["after_id"]) + 1 :]
    elif query.get("before_id") in ids:
        batches = batches[: ids.index(query["before_id"])]
    limit = max(1, min(1000, int(query.get("limit") or 20)))  # the API's bounds and default
    shown = batches[-limit:] if "before_id" in query else batches[:limit]
    first, last = (shown[0]["id"], shown[-1]["id"]) if shown else (None, None)
    return {"data": shown, "has_more": len(shown) < len(batches), "first_id": first, "last_id": last}


def batch_result(batch_id: str, item: dict[str, Any], state: StandinState) -> dict[str, Any]:
    """One line of a batch's results: the Message the stand-in answers the request's params with, or
    `errored` with the error the Messages API would send for them (or for a reply no sample fits)."""
    request_id = f"req_sample_{replies.digest([batch_id, item['custom_id']], 20)}"
    params = item["params"]
    problem = rules.batch_request_problem(params, rules.facts_of(params))
    if problem is not None:
        error = wire.error_body("invalid_request_error", problem, request_id)
        return {"custom_id": item["custom_id"], "result": {"type": "errored", "error": error}}
    try:
        message = replies.build_message(params, state)
    except replies.SampleError as failure:
        error = wire.error_body("api_error", f"stand-in: {failure}", request_id)
        return {"custom_id": item["custom_id"], "result": {"type": "errored", "error": error}}
    return {"custom_id": item["custom_id"], "result": {"type": "succeeded", "message": message}}


def end_batch(batch: Batch, state: StandinState) -> None:
    """End the batch's processing: every request answered, or every one canceled if cancel was asked."""
    if batch.cancel_initiated_at is not None:
        batch.results = [{"custom_id": item["custom_id"], "result": {"type": "canceled"}} for item in batch.requests]
    else:
        batch.results = [batch_result(batch.id, item, state) for item in batch.requests]
    batch.ended_at = datetime.now(UTC)
