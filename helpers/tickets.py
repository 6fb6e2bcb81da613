"""The support tickets lesson 07 sorts: many small requests that do not depend on each other.

Each ticket is one call: the model answers with the ticket's category, one word. The tickets are
fixed, so every run sends the same requests; a category the model answers that is not one of
CATEGORIES is shown as it is, never guessed into one.

    request_for(TICKETS[0])      # the Messages request for one ticket
    category_of(reply)           # the category a reply names, or None
    label_of(reply)              # the category, or what the reply said instead, to print
    same_categories(a, b)        # one line comparing two runs' labels, honest when none named a category
"""

from __future__ import annotations

from typing import Any

from anthropic.types import Message

from .replies import reply_text
from .settings import MODEL

CATEGORIES = ("delivery", "refund", "damaged", "account", "question")

SYSTEM = (
    "You sort the support tickets of an online bookshop. Reply with exactly one word, the ticket's "
    f"category: {', '.join(CATEGORIES[:-1])} or {CATEGORIES[-1]}."
)

# Short tickets, as customers write them. Twenty-four: enough for concurrency to matter.
TICKETS: tuple[str, ...] = (
    "My parcel was supposed to arrive on Monday and it still hasn't come.",
    "The cover of the book I got is torn right down the middle.",
    "I'd like my money back for order A1093, I ordered the wrong edition.",
    "I can't log in, the password reset email never arrives.",
    "Do you sell gift cards?",
    "Tracking has said 'out for delivery' for three days now.",
    "Half the pages in my copy are printed upside down.",
    "Please refund the shipping fee, the delivery was a week late.",
    "How do I change the email address on my account?",
    "Is the second volume of this series coming out in paperback?",
    "The courier left my books in the rain and they are soaked.",
    "Where is my order? It's been two weeks.",
    "I returned a book last month and still have no refund.",
    "Someone else's name shows up on my account page.",
    "Can I order a book that isn't in your catalogue?",
    "The parcel arrived but the box was empty.",
    "I was charged twice for the same order, please give one back.",
    "My delivery went to my old address.",
    "Please delete my account and all my data.",
    "Do you ship to Norway?",
    "The spine cracked the first time I opened the book.",
    "I cancelled the order before it shipped, when do I get my money?",
    "Why does my account say my order is 'on hold'?",
    "What are your opening hours on Sunday?",
)


def request_for(ticket: str, model: str = MODEL) -> dict[str, Any]:
    """The request that sorts one ticket: a small answer, no thinking needed (effort low)."""
    return {
        "model": model,
        "max_tokens": 20,
        "system": SYSTEM,
        "output_config": {"effort": "low"},
        "messages": [{"role": "user", "content": ticket}],
    }


def category_of(reply: Message) -> str | None:
    """The category the reply names (any case, a full stop allowed), or None when it names none."""
    word = reply_text(reply).strip().strip(".").lower()
    return word if word in CATEGORIES else None


NO_CATEGORY = "(no category)"


def label_of(reply: Message) -> str:
    """The category the reply names, or NO_CATEGORY and the start of what it said instead."""
    category = category_of(reply)
    if category is not None:
        return category
    said = " ".join(reply_text(reply).split())
    return f"{NO_CATEGORY}: {said[:40] + '…' if len(said) > 40 else said!r}" if said else NO_CATEGORY


def same_categories(these: list[str | None], those: list[str | None], *, what: str = "as one at a time") -> str:
    """'same categories <what>: True' (or False), unless no reply of either named a category: then a line
    that says there is nothing to compare."""
    if not any(label in CATEGORIES for label in [*these, *those]):
        return f"No reply named a category, so there is nothing to compare {what} (this model did not sort them)."
    return f"same categories {what}: {these == those}"
