"""Sample replies for lesson 01 (the anatomy of a call) and scripts/hello_api.py."""

from tools.samples.base import SampleReply

TUTOR = "You are a patient Python tutor. Answer in plain language and keep it short."

REPLIES: list[SampleReply] = [
    SampleReply(
        prompt="What does Python's zip() function do?",
        system=TUTOR,
        text=(
            "`zip()` walks through two or more iterables side by side and pairs up their items by "
            "position: the first items together, then the second items, and so on. It gives back a lazy "
            "iterator of tuples, so wrap it in `list()` to see them all:\n\n"
            "```python\n"
            'names = ["Ada", "Grace"]\n'
            "years = [1815, 1906]\n"
            "list(zip(names, years))  # [('Ada', 1815), ('Grace', 1906)]\n"
            "```\n\n"
            "It stops at the end of the shortest input. If unequal lengths would be a bug, pass "
            "`strict=True` (Python 3.10 and later) and it raises a `ValueError` instead."
        ),
    ),
    SampleReply(
        prompt="What is an API, in two sentences?",
        text=(
            "An API (application programming interface) is a defined way for one program to ask another "
            "for data or work, such as sending an HTTPS request and getting JSON back. It spells out which "
            "requests are allowed and what each answer looks like, so the two sides can change their "
            "insides without breaking each other."
        ),
    ),
]
