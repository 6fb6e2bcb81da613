"""The lesson 01 call as a plain script: one question in, the reply and its usage out.

    python scripts/hello_api.py                      # replays the recorded default question
    python scripts/hello_api.py "Your own question"  # needs ANTHROPIC_API_KEY (see .env.example)

It follows WORKBOOK_MODE like the notebooks do (auto, replay, record, live).
"""

import argparse

from helpers import MODEL, get_client, reply_text, run_script, usage_line

SYSTEM_PROMPT = "You are a concise assistant for programmers."
DEFAULT_QUESTION = "What is an API, in two sentences?"


def main() -> int:
    parser = argparse.ArgumentParser(description="Ask the model one question and show what comes back.")
    parser.add_argument("prompt", nargs="?", default=DEFAULT_QUESTION, help="the question to ask")
    args = parser.parse_args()

    client = get_client("hello_api")
    response = client.messages.create(
        model=MODEL,
        max_tokens=512,
        system=SYSTEM_PROMPT,
        messages=[{"role": "user", "content": args.prompt}],
    )
    print(reply_text(response))
    print()
    print(f"stop_reason: {response.stop_reason}")
    print(f"usage: {usage_line(response.usage, MODEL, reported=response.model)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_script(main))
