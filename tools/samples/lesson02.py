"""Sample replies for lesson 02 (roles).

Each group below is a pair of calls whose replies differ only because of one role:
the system prompt, an assistant turn written by the lesson's code, or a user turn
that carries a tool result.
"""

from tools.samples.base import SampleReply

# system: one question, two system prompts.
DECORATOR_QUESTION = "What is a Python decorator?"
BEGINNER_TUTOR = (
    "You are a tutor for people who have never programmed. Use one everyday analogy, no jargon, "
    "and at most three sentences."
)
SENIOR_COLLEAGUE = (
    "You are a senior Python engineer answering a colleague. Reply with a minimal code example "
    "and one line of explanation."
)

# assistant: an example exchange written by the lesson's code sets the pattern.
EMOJI_EXAMPLE = "Sum up this error in emoji: ZeroDivisionError: division by zero"
EMOJI_QUESTION = "Sum up this error in emoji: KeyError: 'user_id'"

# user: a tool result, sent back by code.
SUPPORT_SYSTEM = (
    "You are the customer-support assistant of an online bookshop. Use the tools to look things up; "
    "never guess an order's status."
)
ORDER_QUESTION = "Where is my order A1042?"
ORDER_RESULT = (
    '{"order_id": "A1042", "status": "shipped", "carrier": "DHL", '
    '"shipped_on": "2026-11-24", "expected_delivery": "2026-11-27"}'
)

# The conversation shown in both shapes.
FRENCH_SYSTEM = "Reply in French."

REPLIES: list[SampleReply] = [
    SampleReply(
        prompt=DECORATOR_QUESTION,
        system=BEGINNER_TUTOR,
        text=(
            "A decorator is like a gift wrap you can put around any present: the present inside stays "
            "exactly the same, but everyone who receives it also gets the wrapping, say a card with the "
            "date on it. In Python, you write the wrapping once and put it on a function by writing "
            "`@` and the wrapping's name on the line above it. It is a way to add the same extra step "
            "to many functions without changing any of them."
        ),
    ),
    SampleReply(
        prompt=DECORATOR_QUESTION,
        system=SENIOR_COLLEAGUE,
        text=(
            "```python\n"
            "import functools\n"
            "import time\n"
            "\n"
            "def timed(func):\n"
            "    @functools.wraps(func)\n"
            "    def wrapper(*args, **kwargs):\n"
            "        start = time.perf_counter()\n"
            "        try:\n"
            "            return func(*args, **kwargs)\n"
            "        finally:\n"
            '            print(f"{func.__name__}: {time.perf_counter() - start:.3f} seconds")\n'
            "    return wrapper\n"
            "\n"
            "@timed\n"
            "def build_report(rows): ...\n"
            "```\n\n"
            "A decorator is a callable that takes a function and returns its replacement: `@timed` above "
            "`def build_report` is shorthand for `build_report = timed(build_report)`."
        ),
    ),
    SampleReply(
        prompt=EMOJI_QUESTION,
        turns=1,
        text=(
            "🔑❓\n\n"
            "A `KeyError` means you looked up a key the dictionary doesn't have, here `'user_id'`. Check "
            "how the key is spelled where the dictionary is built, or use `data.get('user_id')` if the key "
            "may legitimately be missing."
        ),
    ),
    SampleReply(prompt=EMOJI_QUESTION, turns=3, text="🔑❓"),
    SampleReply(
        prompt=ORDER_QUESTION,
        system=SUPPORT_SYSTEM,
        turns=1,
        text="I'll look that order up for you.",
        tool_calls=({"name": "get_order_status", "input": {"order_id": "A1042"}},),
    ),
    SampleReply(
        prompt=ORDER_RESULT,
        system=SUPPORT_SYSTEM,
        turns=3,
        text=(
            "Good news: order A1042 has shipped. It left us on 24 November with DHL and is expected to "
            "arrive on 27 November."
        ),
    ),
    SampleReply(prompt="How are you?", system=FRENCH_SYSTEM, turns=3, text="Très bien, merci ! Et vous ?"),
]
