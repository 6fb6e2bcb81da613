"""The stand-in from a shell: `python -m tools.standin [--plain-text] [--fail 429,529] ...` (see --help)."""

from __future__ import annotations

import argparse
import contextlib

from tools import standin
from tools.standin.batches import DEFAULT_BATCH_POLLS
from tools.standin.http import FAULTS, StandinServer


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tools.standin",
        description=standin.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--fail", default="", help=f"faults to answer first, comma-separated: {', '.join(FAULTS)}")
    parser.add_argument("--always", choices=FAULTS, help="answer every request with this fault")
    parser.add_argument("--pace", type=float, default=0.0, help="seconds between streamed chunks")
    parser.add_argument("--first-token-delay", type=float, default=0.0, help="seconds before a stream's first event")
    parser.add_argument("--json-latency", action="store_true", help="replies without streaming take as long too")
    parser.add_argument("--plain-text", action="store_true", help="play a small local model: plain text only")
    parser.add_argument("--llama-cpp", action="store_true", help="play llama.cpp's llama-server (see above)")
    parser.add_argument("--stream-as-json", action="store_true", help="answer a stream request with plain JSON")
    parser.add_argument("--flat-usage", action="store_true", help="the same input_tokens for every request")
    parser.add_argument("--batch-create-as-message", action="store_true", help="a batch create gets a Message")
    parser.add_argument(
        "--missing", default="", help="endpoints answered with a status, e.g. count_tokens=500,batches=501"
    )
    parser.add_argument("--enforce-rate-limits", action="store_true", help="answer 429 past the rate limits")
    parser.add_argument(
        "--batch-polls", type=int, default=DEFAULT_BATCH_POLLS, help="retrieves that find a batch in progress"
    )
    args = parser.parse_args()
    failures = [fault for fault in args.fail.split(",") if fault]
    unknown = [fault for fault in failures if fault not in FAULTS]
    if unknown:
        parser.error(f"unknown fault(s) {unknown}; use {', '.join(FAULTS)}")
    options = {
        "failures": failures,
        "always": args.always,
        "pace": args.pace,
        "first_token_delay": args.first_token_delay,
        "json_latency": args.json_latency,
        "plain_text": args.plain_text,
        "enforce_rate_limits": args.enforce_rate_limits,
        "llama_cpp": args.llama_cpp,
        "stream_as_json": args.stream_as_json,
        "flat_usage": args.flat_usage,
        "batch_create_as_message": args.batch_create_as_message,
        "missing": {name: int(status) for name, _, status in (i.partition("=") for i in args.missing.split(",") if i)},
        "batch_polls": args.batch_polls,
    }
    with StandinServer(args.port, **options) as server:
        print(f"stand-in Messages API at {server.url} (Ctrl-C to stop)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            server.thread.join()


if __name__ == "__main__":
    main()
