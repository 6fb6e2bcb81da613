"""scripts/batch_run.py as a user runs it: offline from its two recordings with no key (many calls at
once, and one Message Batch), and against a (stand-in) server: never more calls in flight than asked,
transient failures retried to the end, and every failure one line on stderr and exit 1, never a
traceback. The categories are read from the recordings, never written here."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from anthropic.types import Message
from anthropic.types.messages import MessageBatchIndividualResponse

from helpers import MODEL, cost_usd, tickets
from helpers.recordings import RecordingFile, recorded_message
from tests.conftest import FAKE_KEY, ROOT, assert_one_line_failure, run_script_in_process
from tools.standin.http import StandinServer
from tools.standin.replies import build_message
from tools.standin.state import StandinState
from workbook_base.environment import TEST_ENVIRONMENT

CONCURRENT = ROOT / "recordings" / "batch_run.json"
BATCH = ROOT / "recordings" / "batch_run_batch.json"
COST_LINE = re.compile(
    r"^(\d+) replies, ([\d,]+) input and ([\d,]+) output tokens, \$(\d+\.\d{4}) at the (list|batch) price$", re.M
)


def run(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run_script_in_process("batch_run.py", *args, **{**TEST_ENVIRONMENT, **env})


def live(server: StandinServer) -> dict[str, str]:
    return {"WORKBOOK_MODE": "live", "ANTHROPIC_API_KEY": FAKE_KEY, "ANTHROPIC_BASE_URL": server.url}


def script_width() -> int:
    """How many characters of a ticket the script shows in its line (its WIDTH)."""
    spec = importlib.util.spec_from_file_location("_batch_run_for_tests", ROOT / "scripts" / "batch_run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.WIDTH


def shown(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def ticket_lines(stdout: str, texts: tuple[str, ...] | list[str] = tickets.TICKETS) -> list[tuple[str, str]]:
    """(category, ticket) for each line of the output that shows a ticket, in the order printed; the
    category as printed ('(no category)' included)."""
    width = script_width()
    found = []
    for line in stdout.splitlines():
        for text in texts:
            if line.endswith(" " + shown(text, width)):
                found.append((line[: -len(shown(text, width))].strip(), text))
                break
    return found


# --- what the recordings hold --------------------------------------------------------------------


def recorded_concurrent() -> dict[str, Message]:
    """Each ticket of recordings/batch_run.json with the reply it got."""
    replies = {}
    for item in RecordingFile(CONCURRENT).data["interactions"]:
        message = next(filter(None, map(recorded_message, item["responses"])), None)
        assert message is not None, f"no reply recorded for {item['request']['body']['messages']}"
        replies[item["request"]["body"]["messages"][-1]["content"]] = message
    return replies


def results_lines(response: dict[str, Any]) -> list[MessageBatchIndividualResponse]:
    """A batch's results as recorded: JSON Lines kept as text (a single line may be kept as a body)."""
    lines = response["text"].splitlines() if "text" in response else [json.dumps(response["body"])]
    return [MessageBatchIndividualResponse.model_validate_json(line) for line in lines if line.strip()]


def recorded_batch() -> dict[str, Message]:
    """Each ticket of recordings/batch_run_batch.json with the Message its batch's results hold for it."""
    items = RecordingFile(BATCH).data["interactions"]
    (created,) = [item for item in items if item["request"]["path"].rstrip("/").endswith("/messages/batches")]
    ticket_of = {
        request["custom_id"]: request["params"]["messages"][-1]["content"]
        for request in created["request"]["body"]["requests"]
    }
    (results,) = [item for item in items if item["request"]["path"].rstrip("/").endswith("/results")]
    entries = results_lines(next(r for r in results["responses"] if r.get("status") == 200))
    assert all(entry.result.type == "succeeded" for entry in entries), "every request of the batch succeeded"
    return {ticket_of[entry.custom_id]: entry.result.message for entry in entries}


def recorded_categories() -> dict[str, str | None]:
    return {text: tickets.category_of(reply) for text, reply in recorded_concurrent().items()}


def cost_line(stdout: str) -> re.Match[str]:
    (match,) = COST_LINE.finditer(stdout)
    return match


def standin_categories() -> dict[str, str | None]:
    """The category the stand-in server answers each ticket with: what a live run against it prints
    (the shipped recordings may come from another server, after a re-record with a key)."""
    state = StandinState()
    return {
        text: tickets.category_of(Message.model_validate(build_message(tickets.request_for(text), state)))
        for text in tickets.TICKETS
    }


def assert_sorted_as_recorded(
    result: subprocess.CompletedProcess[str], expected: dict[str, str | None] | None = None
) -> list[tuple[str, str]]:
    """Exit 0, nothing on stderr, one line per ticket in the order of the tickets, each with the
    category the recordings hold for it (or the `expected` one, from a live server)."""
    assert result.returncode == 0 and not result.stderr, result.stdout + result.stderr
    lines = ticket_lines(result.stdout)
    assert [text for _, text in lines] == list(tickets.TICKETS), result.stdout
    expected = expected if expected is not None else recorded_categories()
    printed = [expected[text] or "(no category)" for text in tickets.TICKETS]  # a reply that names none says so
    assert [category for category, _ in lines] == printed, result.stdout
    return lines


# --- the recordings themselves -------------------------------------------------------------------


def test_both_recordings_hold_a_reply_for_every_ticket():
    """What the replies say is the model's (a re-record with a key may differ run to run); that every
    ticket has one, both ways, is the script's."""
    concurrent, batch = recorded_concurrent(), recorded_batch()
    assert set(concurrent) == set(batch) == set(tickets.TICKETS)
    assert all(reply.usage.input_tokens > 0 for reply in [*concurrent.values(), *batch.values()])


# --- offline, from the recordings ----------------------------------------------------------------


def test_offline_with_no_key_many_calls_at_once_sort_every_ticket_as_recorded():
    result = run()
    assert_sorted_as_recorded(result)
    assert "24 tickets, 5 at a time" in result.stdout
    line = cost_line(result.stdout)
    assert line[5] == "list", line[0]
    replies = list(recorded_concurrent().values())
    assert int(line[1]) == len(tickets.TICKETS)
    assert int(line[2].replace(",", "")) == sum(reply.usage.input_tokens for reply in replies)
    assert int(line[3].replace(",", "")) == sum(reply.usage.output_tokens for reply in replies)
    assert line[4] == f"{sum(cost_usd(reply.usage, MODEL) for reply in replies):.4f}"


def test_offline_with_no_key_a_batch_is_polled_read_and_priced_at_half():
    batch = run("--batch")
    assert batch.returncode == 0 and not batch.stderr, batch.stdout + batch.stderr
    replies = recorded_batch()
    printed = [tickets.category_of(replies[text]) or "(no category)" for text in tickets.TICKETS]
    assert [category for category, _ in ticket_lines(batch.stdout)] == printed, "each ticket with its batch result"
    assert "as a Message Batch" in batch.stdout and re.search(r"^batch \S+ created: 24 requests$", batch.stdout, re.M)
    polls = re.findall(r"^poll \d+: (\w+) ", batch.stdout, re.M)
    assert polls and polls[-1] == "ended" and set(polls[:-1]) <= {"in_progress"}, batch.stdout

    at_batch = cost_line(batch.stdout)
    assert at_batch[5] == "batch" and "at the batch price" in at_batch[0]
    list_price = sum(cost_usd(reply.usage, MODEL) for reply in replies.values())
    batch_price = sum(cost_usd(reply.usage, MODEL, batch=True) for reply in replies.values())
    assert batch_price == pytest.approx(list_price / 2), "the batch price is half the list price"
    assert at_batch[4] == f"{batch_price:.4f}", "the script prices the batch's own usage at the batch price"


@pytest.mark.parametrize("mode", ["replay", "auto"])
@pytest.mark.parametrize("way", [[], ["--batch"]], ids=["concurrent", "batch"])
def test_tickets_never_recorded_without_a_key_fail_in_one_line_that_names_the_fix(mode, way, tmp_path):
    own = tmp_path / "tickets.txt"
    own.write_text("My e-book will not open on my reader.\n\nDo you have a shop in Oslo?\n", encoding="utf-8")
    result = run(str(own), *way, WORKBOOK_MODE=mode)
    line = assert_one_line_failure(result)
    assert "ANTHROPIC_API_KEY" in line, line
    assert ("batch_run_batch.json" if way else "batch_run.json") in line, line
    assert not ticket_lines(result.stdout, ["My e-book will not open on my reader."])


@pytest.mark.parametrize(
    "content",
    [None, b"", b"\n   \n\t\n", "Caf\u00e9 ferm\u00e9?\n".encode("latin-1")],
    ids=["missing", "empty", "blank lines", "latin-1"],
)
def test_a_missing_empty_or_unreadable_file_fails_in_one_line_that_names_it(content, tmp_path):
    path = tmp_path / "tickets.txt"
    if content is not None:
        path.write_bytes(content)
    line = assert_one_line_failure(run(str(path)))
    assert str(path) in line and "one ticket per line" in line and "unexpected" not in line, line


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--batch", "--concurrency", "3"], "not allowed with argument"),
        (["--concurrency", "0"], "at least 1"),
        (["--concurrency", "many"], "invalid int value"),
    ],
)
def test_bad_arguments_are_refused_with_a_usage_message(args, says):
    result = run(*args)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert "usage:" in result.stderr and says in result.stderr, result.stderr
    assert not result.stdout, "nothing is sent or printed before the arguments are checked"


# --- against a server ------------------------------------------------------------------------------


@pytest.fixture
def watched() -> Iterator[tuple[StandinServer, list[int]]]:
    """A stand-in whose every reply takes 0.2 s, and the number of requests it held at once, noted as
    each arrived: a request counts from the moment it arrives until its reply starts to be sent, so a
    reply the client has read has always stopped counting."""
    with StandinServer(json_latency=True, first_token_delay=0.2) as server:
        held, lock = [0], threading.Lock()
        seen: list[int] = []
        handler = server.httpd.RequestHandlerClass

        class Counting(handler):  # type: ignore[misc, valid-type]
            def _arrived(self):
                answer = super()._arrived()
                with lock:
                    held[0] += 1
                    seen.append(held[0])
                return answer

            def _send(self, *args, **kwargs):
                with lock:
                    held[0] -= 1
                return super()._send(*args, **kwargs)

        server.httpd.RequestHandlerClass = Counting
        yield server, seen


def test_never_more_calls_in_flight_than_concurrency_allows(watched):
    server, seen = watched
    result = run("--concurrency", "4", **live(server))
    assert_sorted_as_recorded(result, standin_categories())
    assert "24 tickets, 4 at a time" in result.stdout
    requests = server.state.requests
    assert len(requests) == len(tickets.TICKETS), "one request per ticket, none retried"
    assert all(r["method"] == "POST" and r["path"].endswith("/v1/messages") for r in requests)
    assert sorted(r["body"]["messages"][-1]["content"] for r in requests) == sorted(tickets.TICKETS)
    assert max(seen) == 4, f"in flight as each request arrived: {seen}"


def test_one_call_at_a_time_is_one_at_a_time(watched, tmp_path):
    server, seen = watched
    texts = tickets.TICKETS[:3]
    own = tmp_path / "tickets.txt"
    own.write_text("\n".join(texts) + "\n", encoding="utf-8")
    result = run(str(own), "--concurrency", "1", **live(server))
    assert result.returncode == 0 and not result.stderr, result.stderr
    assert [text for _, text in ticket_lines(result.stdout, texts)] == list(texts)
    assert seen == [1, 1, 1]


def test_a_server_that_fails_first_with_429_and_529_is_retried_to_the_end():
    with StandinServer(failures=["429", "529"]) as server:
        result = run(**live(server))
        sent = len(server.state.requests)
    assert_sorted_as_recorded(result, standin_categories())
    assert sent == len(tickets.TICKETS) + 2, "the 429 and the 529 are each asked again, once"


def test_a_batch_against_the_server_is_polled_until_it_ends():
    with StandinServer(batch_polls=1) as server:
        result = run("--batch", **live(server))
        calls = [f"{r['method']} {r['path'].split('/v1/messages/batches', 1)[1]}" for r in server.state.requests]
    assert_sorted_as_recorded(result, standin_categories())
    assert "at the batch price" in cost_line(result.stdout)[0]
    assert re.findall(r"^poll \d+: (\w+) ", result.stdout, re.M) == ["in_progress", "ended"]
    (batch_id,) = re.findall(r"^batch (\S+) created: 24 requests$", result.stdout, re.M)
    # One create; a retrieve per poll, and the SDK's results() retrieves once more to find the results URL.
    assert calls == ["POST ", *[f"GET /{batch_id}"] * 3, f"GET /{batch_id}/results"], calls


@pytest.mark.parametrize("way", [[], ["--batch"]], ids=["concurrent", "batch"])
def test_a_400_fails_in_one_line_that_names_the_fix(way):
    with StandinServer(always="400") as server:
        result = run(*way, **live(server))
    line = assert_one_line_failure(result)
    assert "400 invalid_request_error" in line and "rejected" in line and "send it again" in line, line
    assert not ticket_lines(result.stdout), "no ticket is shown as sorted"
    assert not COST_LINE.search(result.stdout)
