"""Sample replies for lesson 06 (the agent loop) and scripts/agent.py.

The agent's task (helpers.bookshop.TASK) takes four calls: two orders looked up at once, one of
them with an ID the tool rejects; the corrected lookup and the first parcel tracked at once; the
second parcel; the answer. Replies after the first are chosen by a piece of text only the tool
results of their turn hold, so the same replies serve the runs whose history was trimmed or
summarized. Two more replies are the summaries of helpers.agent.Summarizer, and one is the answer
as JSON for the structured-output request.
"""

import json

from helpers import bookshop
from helpers.agent import SUMMARY_SYSTEM
from tools.samples.base import SampleReply


def get_order(order_id: str) -> dict:
    return {"name": "get_order", "input": {"order_id": order_id}}


def track_parcel(tracking_number: str) -> dict:
    return {"name": "track_parcel", "input": {"tracking_number": tracking_number}}


ANSWER = (
    "Here is where your two orders stand:\n\n"
    "- **A1042** (Fluent Python) is with Parcelnet, tracking number PN5582201. It was held briefly at the "
    "Manchester depot for an address check, and is expected on Tuesday 1 December: in time for Friday.\n"
    "- **A1077** (two books) has not left our warehouse yet: one of its books is due back in stock on "
    "30 November, and Parcelnet collects the parcel on 1 December. It is expected on Monday 7 December, "
    "three days after you need it.\n\n"
    "If you need A1077 by Friday, reply here and I will ask the team about a faster delivery."
)
REPORT = {
    "orders": [
        {"order_id": "A1042", "expected_delivery": "2026-12-01", "arrives_by_deadline": True},
        {"order_id": "A1077", "expected_delivery": "2026-12-07", "arrives_by_deadline": False},
    ],
    "message_to_customer": (
        "A1042 is expected on Tuesday 1 December, in time. A1077 is expected on Monday 7 December, three days "
        "late, because one of its books is still being restocked; reply if you need it sooner."
    ),
}

REPLIES: list[SampleReply] = [
    SampleReply(
        prompt=bookshop.TASK,
        system=bookshop.SYSTEM,
        turns=1,
        text="I'll look up both orders.",
        tool_calls=(get_order("A1042"), get_order("a1077")),
    ),
    # get_order rejected "a1077": the model corrects the ID, and tracks the first parcel at the same time.
    SampleReply(
        prompt=None,
        contains="is not an order ID",
        system=bookshop.SYSTEM,
        text="Order IDs take a capital letter, so I'll try A1077, and track the first parcel meanwhile.",
        tool_calls=(get_order("A1077"), track_parcel("PN5582201")),
    ),
    SampleReply(
        prompt=None,
        contains='"order_id": "A1077"',
        system=bookshop.SYSTEM,
        text="Now the second parcel.",
        tool_calls=(track_parcel("PN5582374"),),
    ),
    SampleReply(prompt=None, contains="Collection rebooked", system=bookshop.SYSTEM, text=ANSWER),
    SampleReply(prompt=bookshop.REPORT_REQUEST, system=bookshop.SYSTEM, text=json.dumps(REPORT)),
    # helpers.agent.Summarizer: first the turns with the rejected ID, then those with the corrected one.
    SampleReply(
        prompt=None,
        contains="is not an order ID",
        system=SUMMARY_SYSTEM,
        text=(
            "The customer needs orders A1042 and A1077 by Friday 4 December. A1042 is shipped with Parcelnet, "
            "tracking number PN5582201. The customer wrote the second ID as a1077; get_order accepts only a "
            "capital letter and four digits, so look it up as A1077."
        ),
    ),
    SampleReply(
        prompt=None,
        contains='"order_id": "A1077"',
        system=SUMMARY_SYSTEM,
        text=(
            "The customer needs orders A1042 and A1077 by Friday 4 December. A1042 (Fluent Python) is with "
            "Parcelnet, tracking number PN5582201, held briefly at the Manchester depot for an address check, "
            "and expected on 2026-12-01. A1077 (two books) is shipped with Parcelnet, tracking number PN5582374; "
            "its parcel has not been tracked yet."
        ),
    ),
]
