"""Sample replies for lesson 05 (errors and retries) and scripts/retry_pattern.py."""

from tools.samples.base import SampleReply

JSON_SYSTEM = "Reply with one JSON object and nothing else."
JSON_PROMPT = (
    'Suggest a first Python project for a beginner, as JSON with the keys "title", "summary" and '
    '"skills" (a list of strings).'
)
# The follow-up lesson 05 sends when the first reply does not parse (same text as in the lesson).
JSON_FEEDBACK = (
    "That reply could not be used: it is not valid JSON (Expecting value: line 1 column 1 (char 0)). "
    "Answer again with only the JSON object: no code fences, no other text."
)
PROJECT = (
    '{"title": "Command-line to-do list", '
    '"summary": "A small program that adds, lists and completes tasks, and saves them to a JSON file '
    'between runs.", '
    '"skills": ["lists and dictionaries", "functions", "reading and writing files", "the json module", '
    '"handling user input"]}'
)

REPLIES: list[SampleReply] = [
    # Tools offered, but the request lacks what the tool needs: a model answers in words instead.
    SampleReply(
        prompt="Where is my order?",
        system="You are the order-status assistant of an online bookshop. Look orders up with the tool.",
        text=(
            "I can look that up for you. What is your order ID? It starts with a letter followed by four "
            "digits, like A1042, and you will find it in your confirmation email."
        ),
    ),
    SampleReply(
        prompt="Give one tip for writing a clear error message, in one sentence.",
        text=(
            "Say what went wrong and what the reader can do about it, in their words rather than the "
            'program\'s: "The file settings.toml is missing; copy settings.example.toml to create it" beats '
            '"Error 2".'
        ),
    ),
    # Real models often wrap JSON in a Markdown code fence although told not to: json.loads rejects it.
    SampleReply(
        prompt=JSON_PROMPT,
        system=JSON_SYSTEM,
        turns=1,
        text=f"```json\n{PROJECT}\n```",
    ),
    SampleReply(prompt=JSON_FEEDBACK, system=JSON_SYSTEM, turns=3, text=PROJECT),
    SampleReply(
        prompt="Why should retries wait longer after each failure? Answer in two sentences.",
        system="You are a concise assistant for programmers.",
        text=(
            "A service that is failing is usually overloaded or rate-limiting you, so retrying at once adds "
            "to the load that caused the failure and is likely to fail again. Growing waits, with a little "
            "randomness, give it time to recover and spread many clients' retries out instead of sending "
            "them all back at the same moment."
        ),
    ),
]
