"""Retries with exponential backoff, shown on one call: each attempt, each wait, then the reply.

    python scripts/retry_pattern.py                        # offline: an injected 429, then a 529, then the reply
    python scripts/retry_pattern.py --faults 529,timeout   # other injected failures ('none' for none)
    python scripts/retry_pattern.py --base-delay 0.1       # shorter waits

The failures are injected in-process (helpers.faults) before the request goes on, so this runs
in every mode: offline it replays the recorded reply; with WORKBOOK_MODE=live and a key it also
retries whatever real failures the server (ANTHROPIC_BASE_URL) sends. The SDK's own retries are
off (max_retries=0), so every attempt shown is one request. Exit status 0 on success; 1, with one
line on stderr, on a permanent error or when the retries run out.
"""

import argparse
import sys

import anthropic

from helpers import MODEL, get_client, reply_text, run_script
from helpers.cli import explain_error
from helpers.faults import FAULT_NAMES, parse_faults, with_faults
from helpers.retries import RetryLog, RetryPolicy, call_with_retries

SYSTEM_PROMPT = "You are a concise assistant for programmers."
QUESTION = "Why should retries wait longer after each failure? Answer in two sentences."


def main() -> int:
    parser = argparse.ArgumentParser(description="Make one call through injected failures, retrying with backoff.")
    parser.add_argument(
        "--faults",
        default="429,529",
        help=f"failures to inject first, comma-separated: {', '.join(FAULT_NAMES)}; or 'none' (default: 429,529). "
        "This call does not stream, so 'midstream' arrives as the 529 the API would send it",
    )
    parser.add_argument(
        "--base-delay",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="wait before the first retry, doubled for each later one; an injected 429 asks for twice this "
        "in retry-after-ms, and the same rounded up to whole seconds in retry-after (default: 0.5)",
    )
    parser.add_argument("--max-attempts", type=int, default=5, help="requests in all, the first included (default: 5)")
    args = parser.parse_args()
    try:
        faults = parse_faults(args.faults)
    except ValueError as err:
        parser.error(str(err))
    if args.base_delay < 0 or args.max_attempts < 1:
        parser.error("--base-delay must be 0 or more, and --max-attempts at least 1")

    policy = RetryPolicy(
        max_attempts=args.max_attempts,
        base_delay=args.base_delay,
        max_delay=max(args.base_delay * 16, args.base_delay),
        max_total=max(30.0, args.base_delay * 60),
    )
    client = with_faults(get_client("retry_pattern", max_retries=0), faults, retry_after=args.base_delay * 2)
    print(f"Injected failures: {', '.join(faults) or 'none'}.")
    print(
        f"Retry policy: {policy.max_attempts} attempt{'s' if policy.max_attempts > 1 else ''}; "
        f"waits {policy.base_delay:.2f} s doubling to "
        f"{policy.max_delay:.2f} s, jittered; {policy.max_total:.0f} s in all.\n"
    )

    log = RetryLog()
    try:
        response = call_with_retries(
            lambda timeout: client.messages.create(
                model=MODEL,
                max_tokens=300,
                system=SYSTEM_PROMPT,
                messages=[{"role": "user", "content": QUESTION}],
                timeout=timeout,  # the seconds left in the budget, so no attempt runs past it
            ),
            policy=policy,
            log=log,
            report=print,
        )
    except anthropic.APIError as err:
        # The same line any script prints for this error, and how the retries ended.
        print(f"{explain_error(err)} Retries: {log.outcome}.", file=sys.stderr)
        return 1
    print(f"\n{log.outcome}.\n")
    print(reply_text(response))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
