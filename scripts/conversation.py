"""A three-turn conversation, to watch input tokens grow as the history is re-sent.

    python scripts/conversation.py                   # replays the recorded conversation
    python scripts/conversation.py --plot growth.png # ... and saves the token-growth plot
    python scripts/conversation.py "Q1" "Q2" "Q3"    # your own questions: needs ANTHROPIC_API_KEY

The API keeps nothing between calls, so each turn sends every earlier question and
answer again: input_tokens climbs every turn. It follows WORKBOOK_MODE like the
notebooks do (auto, replay, record, live).
"""

import argparse
from pathlib import Path

from helpers import MODEL, get_client, reply_text, run_script, usage_line

SYSTEM_PROMPT = "You are a concise assistant. Answer in at most three sentences."
DEFAULT_QUESTIONS = [
    "What is the capital of Canada?",
    "What is its population?",
    "How does that compare with Toronto?",
]


def main() -> int:
    parser = argparse.ArgumentParser(description="Hold a short conversation and show each turn's token usage.")
    parser.add_argument("questions", nargs="*", default=DEFAULT_QUESTIONS, help="the questions, one per turn")
    parser.add_argument("--plot", metavar="FILE.png", type=Path, help="save the token-growth plot to this file")
    args = parser.parse_args()

    client = get_client("conversation")
    messages: list[dict] = []
    usages = []
    for number, question in enumerate(args.questions, start=1):
        messages.append({"role": "user", "content": question})
        response = client.messages.create(model=MODEL, max_tokens=300, system=SYSTEM_PROMPT, messages=messages)
        reply = reply_text(response)
        messages.append({"role": "assistant", "content": reply})  # the history the next turn re-sends
        usages.append(response.usage)
        print()
        print(f"turn {number}  {usage_line(response.usage, MODEL, reported=response.model)}")
        print(f"you: {question}")
        print(f"model: {reply}")

    if args.plot:
        from helpers.plots import plot_token_growth  # imported only when asked: matplotlib takes a moment

        figure = plot_token_growth(usages, title=f"Input tokens over a {len(usages)}-turn conversation")
        figure.savefig(args.plot)
        print(f"\nsaved the token-growth plot to {args.plot}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
