"""Sort a file of support tickets (one per line) with many calls at once, or as one Message Batch.

    python scripts/batch_run.py                        # lesson 07's tickets, 5 calls at a time (offline)
    python scripts/batch_run.py --concurrency 10       # more at once
    python scripts/batch_run.py --batch                # as a Message Batch: half the price, no hurry
    python scripts/batch_run.py tickets.txt            # your own tickets: needs ANTHROPIC_API_KEY

Each ticket is one request (helpers.tickets.request_for): its category comes back as one word. The
script prints a progress line while it works (on a terminal), then one line per ticket, then the
tokens and the cost (at the batch price with --batch). Concurrent calls are bounded and retried on
transient errors (helpers.concurrency.map_bounded); a batch is polled until it ends. It follows
WORKBOOK_MODE like the notebooks do. Exit 0 when the run ends, a ticket the model gave no category
shown as "(no category)" and counted in a line at the end; 1, with one line on stderr, on a permanent
error.
"""

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from anthropic.types import Message

from helpers import MODEL, WorkbookError, cost_usd, get_async_client, run_script, tickets
from helpers.batches import create_batch, wait_for_batch
from helpers.concurrency import map_bounded

WIDTH = 60  # characters of a ticket shown in its line


class Counter:
    """`done of total`, rewritten in place on a terminal; silent elsewhere (a log gets the lines below)."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0
        self.live = sys.stdout.isatty()

    def advance(self) -> None:
        self.done += 1
        if self.live:
            print(f"\r{self.done} of {self.total} done", end="", flush=True)

    def close(self) -> None:
        if self.live:
            print()


def read_tickets(path: Path | None) -> list[str]:
    if path is None:
        return list(tickets.TICKETS)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as err:
        raise WorkbookError(f"cannot read {path}: {err.strerror}. Give a text file with one ticket per line") from None
    except UnicodeDecodeError as err:  # a user's file, not a bug of the script's: say how to fix it
        raise WorkbookError(
            f"{path} is not UTF-8 text (byte {err.start + 1} cannot be read). Save it as UTF-8, one ticket per line"
        ) from None
    found = [line.strip() for line in lines if line.strip()]
    if not found:
        raise WorkbookError(f"{path} holds no ticket. Write one ticket per line")
    return found


async def concurrently(client, texts: Sequence[str], limit: int) -> list[Message]:
    counter = Counter(len(texts))

    async def sort(text: str) -> Message:
        reply = await client.messages.create(**tickets.request_for(text))
        counter.advance()
        return reply

    try:
        return await map_bounded(sort, texts, limit=limit)
    finally:
        counter.close()


def _no_batches(line: str) -> None:
    raise WorkbookError(f"{line.rstrip('.')}. Run without --batch to send the tickets as calls at once")


async def as_a_batch(client, texts: Sequence[str]) -> list[Message]:
    requests = [{"custom_id": f"ticket-{n:04d}", "params": tickets.request_for(text)} for n, text in enumerate(texts)]
    # The create is retried like every other call (a 429 or 529 clears by waiting); a server without the
    # Message Batches API gets one line that says so.
    created = await map_bounded(lambda _: create_batch(client, requests, say=_no_batches), [None], limit=1)
    batch = created[0]
    print(f"batch {batch.id} created: {len(requests)} requests")
    batch = await wait_for_batch(client, batch.id)
    replies: dict[str, Message] = {}
    failed: list[str] = []
    async for entry in await client.messages.batches.results(batch.id):
        if entry.result.type == "succeeded":
            replies[entry.custom_id] = entry.result.message
        else:
            failed.append(f"{entry.custom_id} {entry.result.type}")
    if failed:
        raise WorkbookError(
            f"{len(failed)} request(s) of the batch did not succeed ({', '.join(failed[:3])}). Run again"
        )
    return [replies[request["custom_id"]] for request in requests]  # by custom_id: results come in any order


async def run(args: argparse.Namespace) -> int:
    texts = read_tickets(args.file)
    name = "batch_run_batch" if args.batch else "batch_run"  # each way replays from its own recording
    client = get_async_client(name, max_retries=0)  # map_bounded retries; the SDK's retries would multiply
    how = "as a Message Batch" if args.batch else f"{args.concurrency} at a time"
    print(f"{len(texts)} tickets, {how}\n")
    replies = await (as_a_batch(client, texts) if args.batch else concurrently(client, texts, args.concurrency))

    unsorted = 0
    for text, reply in zip(texts, replies, strict=True):
        category = tickets.category_of(reply)
        unsorted += category is None
        shown = text if len(text) <= WIDTH else text[: WIDTH - 3] + "..."
        print(f"{category or '(no category)':<14} {shown}")

    tokens_in = sum(reply.usage.input_tokens for reply in replies)
    tokens_out = sum(reply.usage.output_tokens for reply in replies)
    costs = [cost_usd(reply.usage, MODEL, batch=args.batch) for reply in replies]
    money = "cost unknown (no price for this model)" if None in costs else f"${sum(c or 0.0 for c in costs):.4f}"
    price = "at the batch price" if args.batch else "at the list price"
    print(f"\n{len(replies)} replies, {tokens_in:,} input and {tokens_out:,} output tokens, {money} {price}")
    if unsorted:  # the run still ended: what the model answered is no failure of the script's (exit 0)
        print(f"{unsorted} of {len(replies)} tickets got no category: the model answered something else. Look at them.")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description="Sort support tickets with many calls at once, or as a batch.")
    parser.add_argument("file", nargs="?", type=Path, help="a text file, one ticket per line (default: lesson 07's)")
    way = parser.add_mutually_exclusive_group()
    way.add_argument("--concurrency", type=int, default=5, metavar="N", help="calls at once (default 5)")
    way.add_argument("--batch", action="store_true", help="send them all as one Message Batch, at half the price")
    args = parser.parse_args()
    if args.concurrency < 1:
        parser.error("--concurrency must be at least 1")
    return asyncio.run(run(args))


if __name__ == "__main__":
    raise SystemExit(run_script(main))
