"""Sample replies for lesson 03 (statelessness) and scripts/conversation.py.

The three-turn conversation is shared by the lesson and the script. Its second
question ("its population") has two replies: one for the full history (three
messages) and one for the question sent alone, which cannot know what "its" means.
"""

from tools.samples.base import SampleReply

# The three-turn conversation (lesson 03 and scripts/conversation.py).
# Population figures: Statistics Canada, 2021 Census of Population.
CONCISE = "You are a concise assistant. Answer in at most three sentences."
CAPITAL = "What is the capital of Canada?"
POPULATION = "What is its population?"
COMPARISON = "How does that compare with Toronto?"

# The agent-style exchange: a debugging assistant finds why a test fails in a pretend project,
# with tools to list files, read one, and run the tests (it cannot change anything).
AGENT_SYSTEM = (
    "You are a debugging assistant for a small Python project. You can list and read its files and run "
    "its tests, but not change them. Keep your messages short."
)
TASK = "One of this project's tests fails. Find out why, and tell me what to change."
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
TEST_STATS_PY = """from stats import mean, median, spread


def test_mean():
    assert mean([1, 2, 3, 4]) == 2.5


def test_median_odd():
    assert median([3, 1, 2]) == 2


def test_median_even():
    assert median([4, 1, 3, 2]) == 2.5


def test_spread():
    assert spread([4, 1, 3, 2]) == 3
"""
FAILED_RUN = (
    "..F.\n"
    "test_stats.py:13: assert 3 == 2.5\n"
    "FAILED test_stats.py::test_median_even - assert 3 == 2.5\n"
    "1 failed, 3 passed"
)

# Prompt caching: two turns of a chat grounded in a long, cached catalogue.
HOODIE = "How much is the hoodie in forest green, size L, and do you have it in stock?"
NAVY = "And the same hoodie in navy?"

REPLIES: list[SampleReply] = [
    SampleReply(
        prompt=CAPITAL, system=CONCISE, turns=1, text="The capital of Canada is Ottawa, in the province of Ontario."
    ),
    SampleReply(
        prompt=POPULATION,
        system=CONCISE,
        turns=3,
        text=(
            "Statistics Canada's 2021 census counted about 1.02 million people in the city of Ottawa. The "
            "wider Ottawa-Gatineau metropolitan area, which reaches across the river into Quebec, had about "
            "1.49 million. Both have grown since, so Statistics Canada's latest estimates will be somewhat higher."
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
            "Toronto is much bigger: the same 2021 census counted about 2.79 million people in the city, "
            "nearly three times Ottawa's 1.02 million. Its metropolitan area had about 6.2 million, some "
            "four times Ottawa-Gatineau's 1.49 million. Toronto is Canada's largest city, even though "
            "Ottawa is the capital."
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
        text="Now let me run the tests to see which one fails.",
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
            "`median` always returns `ordered[middle]`. Before I suggest a change, let me check what the other "
            "tests expect of it."
        ),
        tool_calls=({"name": "read_file", "input": {"path": "test_stats.py"}},),
    ),
    SampleReply(
        prompt=TEST_STATS_PY,
        system=AGENT_SYSTEM,
        turns=9,
        text=(
            "The failing test is `test_median_even`, and the cause is in `median` in `stats.py`. It always "
            "returns `ordered[middle]`, which for an even number of values is the upper of the two middle "
            "ones: for `[4, 1, 3, 2]` that is 3, but the median is the average of 2 and 3, which is 2.5.\n\n"
            "Change the last line of `median` to average the two middle values when there is an even "
            "number of them:\n\n"
            "```python\n"
            "    if len(ordered) % 2 == 0:\n"
            "        return (ordered[middle - 1] + ordered[middle]) / 2\n"
            "    return ordered[middle]\n"
            "```\n\n"
            "`test_median_odd` keeps passing, since an odd number of values still has a single middle value."
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
