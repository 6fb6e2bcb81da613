"""Sample replies for lesson 03 (statelessness) and scripts/conversation.py.

The three-turn conversation is shared by the lesson and the script. Its second
question ("its population") has two replies: one for the full history (three
messages) and one for the question sent alone, which cannot know what "its" means.
"""

from tools.samples.base import SampleReply

# The three-turn conversation (lesson 03 and scripts/conversation.py).
CONCISE = "You are a concise assistant. Answer in at most three sentences."
CAPITAL = "What is the capital of France?"
POPULATION = "What is its population?"
COMPARISON = "How does that compare with London?"

# The agent-style exchange: a coding agent fixes a bug in a pretend project.
AGENT_SYSTEM = (
    "You are a coding agent working in a small Python project. Use the tools to look around, change "
    "files and run the tests. Keep your messages short."
)
TASK = "The tests in this project fail. Find the bug and fix it."
FILE_LIST = "README.md\nstats.py\ntest_stats.py"
STATS_PY = '''"""Small statistics helpers for the weekly sales report."""


def mean(values: list[float]) -> float:
    """The arithmetic mean of a non-empty list."""
    return sum(values) / len(values)


def median(values: list[float]) -> float:
    """The middle value of a non-empty list."""
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle]


def spread(values: list[float]) -> float:
    """The distance between the smallest and the largest value."""
    return max(values) - min(values)
'''
FAILED_RUN = (
    "..F.\n"
    "test_stats.py:13: assert 3 == 2.5\n"
    "FAILED test_stats.py::test_median_even - assert 3 == 2.5\n"
    "1 failed, 3 passed"
)
PASSED_RUN = "....\n4 passed"
EDITED = "Edited stats.py."
FIX = {
    "path": "stats.py",
    "old": "    return ordered[middle]\n",
    "new": (
        "    if len(ordered) % 2 == 0:\n"
        "        return (ordered[middle - 1] + ordered[middle]) / 2\n"
        "    return ordered[middle]\n"
    ),
}

# Prompt caching: two turns of a chat grounded in a long, cached catalogue.
HOODIE = "How much is the hoodie in forest green, size L, and do you have it in stock?"
NAVY = "And the same hoodie in navy?"

REPLIES: list[SampleReply] = [
    SampleReply(prompt=CAPITAL, system=CONCISE, turns=1, text="The capital of France is Paris."),
    SampleReply(
        prompt=POPULATION,
        system=CONCISE,
        turns=3,
        text=(
            "The city of Paris itself has about 2.1 million residents, according to INSEE's recent census "
            "figures, within tight city limits of about 105 km². Its metropolitan area is far larger, with "
            "over 12 million people: nearly a fifth of everyone in France."
        ),
    ),
    SampleReply(
        prompt=POPULATION,
        system=CONCISE,
        turns=1,
        text=(
            'Could you tell me what "it" refers to? There is nothing earlier in our conversation that says '
            "which city, country or thing you mean. Name it, and I'll tell you its population."
        ),
    ),
    SampleReply(
        prompt=COMPARISON,
        system=CONCISE,
        turns=5,
        text=(
            "Greater London has about 8.9 million residents (ONS, mid-2022), so on paper it is about four "
            "times as populous as the city of Paris. Much of that gap is about boundaries: Greater London "
            "covers some 1,570 km², about fifteen times the area of the city of Paris. Compare the wider "
            "metropolitan areas instead and the two are much closer, each with well over 12 million people "
            "on most definitions."
        ),
    ),
    SampleReply(
        prompt=TASK,
        system=AGENT_SYSTEM,
        turns=1,
        text="I'll start by looking at what the project contains.",
        tool_calls=({"name": "list_files", "input": {}},),
    ),
    SampleReply(
        prompt=FILE_LIST,
        system=AGENT_SYSTEM,
        turns=3,
        text="Now let me run the tests to see what fails.",
        tool_calls=({"name": "run_tests", "input": {}},),
    ),
    SampleReply(
        prompt=FAILED_RUN,
        system=AGENT_SYSTEM,
        turns=5,
        text=(
            "`test_median_even` fails: `median([4, 1, 3, 2])` returns 3 where 2.5 is expected. Let me read `stats.py`."
        ),
        tool_calls=({"name": "read_file", "input": {"path": "stats.py"}},),
    ),
    SampleReply(
        prompt=STATS_PY,
        system=AGENT_SYSTEM,
        turns=7,
        text=(
            "Found it. For an even number of values, `median` returns the upper of the two middle values; "
            "it should return their average. I'll fix that."
        ),
        tool_calls=({"name": "edit_file", "input": FIX},),
    ),
    SampleReply(
        prompt=EDITED,
        system=AGENT_SYSTEM,
        turns=9,
        text="Let me run the tests again to confirm the fix.",
        tool_calls=({"name": "run_tests", "input": {}},),
    ),
    SampleReply(
        prompt=PASSED_RUN,
        system=AGENT_SYSTEM,
        turns=11,
        text=(
            "Fixed. The bug was in `median` in `stats.py`: for an even number of values it returned the upper "
            "of the two middle values instead of their average, so `median([4, 1, 3, 2])` gave 3 rather than "
            "2.5. It now averages the two middle values, and all 4 tests pass."
        ),
    ),
    SampleReply(
        prompt=HOODIE,
        turns=1,
        text=(
            "The forest-green hoodie in size L (HD-GRN-L) is $42.00, but I'm afraid it is out of stock right "
            "now. The same hoodie is in stock in size M (HD-GRN-M, $42.00, 16 left) and size XL (HD-GRN-XL, "
            "$44.00, 7 left), if either of those would suit."
        ),
    ),
    SampleReply(
        prompt=NAVY,
        turns=3,
        text=(
            "Yes: the navy hoodie in size L (HD-NVY-L) is $42.00, and we have 11 in stock, so it can go out "
            "straight away."
        ),
    ),
]
