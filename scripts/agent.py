"""Lesson 06's agent from the command line: the bookshop's order assistant runs until it answers.

    python scripts/agent.py                           # offline: replays the recorded run of the default task
    python scripts/agent.py "Where is order A1042?"   # your own task: needs ANTHROPIC_API_KEY
    python scripts/agent.py --faults 429,midstream    # injected failures, retried by the loop ('none' for none)
    python scripts/agent.py --max-calls 2             # a smaller budget of calls: it stops, and says so

It prints one line per call to the model (input tokens counted before it, the usage with its cost,
the stop reason, the tools it called), a line for each retry and each tool error sent back to the
model, then the run's total and the final answer. The model's text is not streamed: the answer is
printed once, at the end, under `answer:`.

The loop (helpers.agent.run_agent) retries each request itself (call_with_retries), so the SDK's own
retries are off (max_retries=0): every retry shown is one request. --faults injects failures
in-process (helpers.faults) into the calls to the model; the token counts before them pass
untouched, so a `midstream` fault breaks a real stream. It follows WORKBOOK_MODE like the notebooks
do (auto, replay, record, live). Exit status 0 with an answer; 1, with one line on stderr, when the
agent stops (a limit reached, a refusal...) or the API fails for good.
"""

import argparse

from helpers import bookshop, get_client, run_script
from helpers.agent import AgentError, Limits, run_agent
from helpers.faults import FAULT_NAMES, MODEL_CALLS, parse_faults, with_faults
from helpers.retries import RetryPolicy

RETRY_AFTER = 1.0  # seconds an injected 429 asks to wait, as the stand-in server's own 429 does


def main() -> int:
    parser = argparse.ArgumentParser(description="Run lesson 06's agent on a task: one line per call, then the answer.")
    parser.add_argument(
        "task",
        nargs="?",
        default=bookshop.TASK,
        metavar="TASK",
        help="what the customer asks (default: lesson 06's task)",
    )
    parser.add_argument(
        "--faults",
        default="none",
        metavar="LIST",
        help=f"failures to inject into the calls to the model, in order, comma-separated: {', '.join(FAULT_NAMES)}; "
        "or 'none' (the default)",
    )
    parser.add_argument(
        "--max-calls",
        type=int,
        metavar="N",
        default=Limits.max_calls,
        help=f"calls to the model in one run (default: {Limits.max_calls})",
    )
    parser.add_argument(
        "--max-attempts",
        type=int,
        metavar="N",
        default=RetryPolicy.max_attempts,
        help=f"requests for each call, the first included; 1 retries nothing (default: {RetryPolicy.max_attempts})",
    )
    args = parser.parse_args()
    try:
        faults = parse_faults(args.faults)
    except ValueError as err:
        parser.error(str(err))
    if args.max_calls < 1 or args.max_attempts < 1:
        parser.error("--max-calls and --max-attempts must be at least 1")

    client = get_client("agent", max_retries=0)  # run_agent retries each call; the SDK's retries would multiply
    if faults:
        client = with_faults(client, faults, retry_after=RETRY_AFTER, paths=MODEL_CALLS)  # counts pass untouched
        print(f"Injected failures: {', '.join(faults)}.")
    print(f"task: {args.task}\n")

    try:
        run = run_agent(
            client,
            args.task,
            tools=bookshop.TOOLS,
            toolbox=bookshop.TOOLBOX,
            system=bookshop.SYSTEM,
            limits=Limits(max_calls=args.max_calls),
            retry=RetryPolicy(max_attempts=args.max_attempts),
            say=print,
            show_text=None,  # the answer is printed once, at the end
        )
    except AgentError as err:
        if err.run is not None and err.run.calls:
            print(f"\nstopped after {err.run.total_line()}")
        # The line run_script prints names the script's flag rather than the Python setting.
        raise AgentError(str(err).replace("(Limits.max_calls)", "(--max-calls)"), err.run) from None
    print(f"\n{run.total_line()}")
    print(f"\nanswer:\n{run.answer.strip()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
