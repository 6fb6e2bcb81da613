"""Sample replies for lesson 07 (many calls) and scripts/batch_run.py: one category per ticket.

Each reply is the one word the system prompt asks for. The same replies answer a ticket sent alone,
concurrently, or inside a Message Batch: the stand-in builds a batch's results from them too.
"""

from helpers import tickets
from tools.samples.base import SampleReply

CATEGORY = {
    "My parcel was supposed to arrive on Monday and it still hasn't come.": "delivery",
    "The cover of the book I got is torn right down the middle.": "damaged",
    "I'd like my money back for order A1093, I ordered the wrong edition.": "refund",
    "I can't log in, the password reset email never arrives.": "account",
    "Do you sell gift cards?": "question",
    "Tracking has said 'out for delivery' for three days now.": "delivery",
    "Half the pages in my copy are printed upside down.": "damaged",
    "Please refund the shipping fee, the delivery was a week late.": "refund",
    "How do I change the email address on my account?": "account",
    "Is the second volume of this series coming out in paperback?": "question",
    "The courier left my books in the rain and they are soaked.": "damaged",
    "Where is my order? It's been two weeks.": "delivery",
    "I returned a book last month and still have no refund.": "refund",
    "Someone else's name shows up on my account page.": "account",
    "Can I order a book that isn't in your catalogue?": "question",
    "The parcel arrived but the box was empty.": "delivery",
    "I was charged twice for the same order, please give one back.": "refund",
    "My delivery went to my old address.": "delivery",
    "Please delete my account and all my data.": "account",
    "Do you ship to Norway?": "question",
    "The spine cracked the first time I opened the book.": "damaged",
    "I cancelled the order before it shipped, when do I get my money?": "refund",
    "Why does my account say my order is 'on hold'?": "account",
    "What are your opening hours on Sunday?": "question",
}
assert set(CATEGORY) == set(tickets.TICKETS), "every ticket needs its sample category"

REPLIES: list[SampleReply] = [
    SampleReply(prompt=ticket, system=tickets.SYSTEM, turns=1, text=category) for ticket, category in CATEGORY.items()
]
