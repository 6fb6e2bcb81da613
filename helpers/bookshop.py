"""The pretend bookshop that lesson 06's agent works for: its orders, its parcels, and two tools.

The tools are plain Python functions over fixed data, so a run is the same every time: the agent's
behaviour, not the shop's, is what the lesson studies. Both raise on a bad input, with a message
that says what a good one looks like, as a real service would answer; the agent loop turns that
into a tool result marked `is_error` for the model to read.

    get_order("A1042")          # the order: status, items, carrier and tracking number
    track_parcel("PN5582201")   # the parcel's scans and its expected delivery date
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

ORDER_ID = re.compile(r"[A-Z]\d{4}")
TRACKING_NUMBER = re.compile(r"PN\d{7}")

ORDERS: dict[str, dict[str, Any]] = {
    "A1042": {
        "order_id": "A1042",
        "status": "shipped",
        "items": ["Fluent Python, 2nd edition"],
        "carrier": "Parcelnet",
        "tracking_number": "PN5582201",
    },
    "A1077": {
        "order_id": "A1077",
        "status": "shipped",
        "items": ["Designing Data-Intensive Applications", "The Pragmatic Programmer"],
        "carrier": "Parcelnet",
        "tracking_number": "PN5582374",
    },
}

# What a carrier's tracking service tells about a parcel: every scan so far, and a delivery estimate.
# Long on purpose, as real tracking histories are: the history an agent keeps grows by all of it.
PARCELS: dict[str, dict[str, Any]] = {
    "PN5582201": {
        "tracking_number": "PN5582201",
        "expected_delivery": "2026-12-01",
        "scans": [
            "2026-11-24 09:12 Label created, Bristol warehouse",
            "2026-11-24 17:40 Collected by Parcelnet, Bristol",
            "2026-11-25 02:15 Arrived at sorting centre, Birmingham",
            "2026-11-25 06:58 Departed sorting centre, Birmingham",
            "2026-11-25 14:30 Arrived at regional depot, Manchester",
            "2026-11-26 07:05 Held at depot: address check requested",
            "2026-11-26 11:20 Address confirmed, awaiting next delivery round",
        ],
    },
    "PN5582374": {
        "tracking_number": "PN5582374",
        "expected_delivery": "2026-12-07",
        "scans": [
            "2026-11-25 10:03 Label created, Bristol warehouse",
            "2026-11-26 08:47 Waiting for collection: second item due back in stock on 2026-11-30",
            "2026-11-26 08:48 Collection rebooked for 2026-12-01, Bristol warehouse",
        ],
    },
}


def get_order(order_id: str) -> dict[str, Any]:
    """One order of the shop, by its ID."""
    if not ORDER_ID.fullmatch(order_id):
        raise ValueError(
            f"{order_id!r} is not an order ID: an order ID is one capital letter and four digits, such as A1042"
        )
    if order_id not in ORDERS:
        raise LookupError(f"there is no order {order_id}")
    return ORDERS[order_id]


def track_parcel(tracking_number: str) -> dict[str, Any]:
    """A parcel's scans so far and its expected delivery date, by its tracking number."""
    if not TRACKING_NUMBER.fullmatch(tracking_number):
        raise ValueError(
            f"{tracking_number!r} is not a Parcelnet tracking number: PN and seven digits, such as PN5582201"
        )
    if tracking_number not in PARCELS:
        raise LookupError(f"Parcelnet knows no parcel {tracking_number}")
    return PARCELS[tracking_number]


# The functions the agent may call, by the names the model knows them by.
TOOLBOX: dict[str, Callable[..., Any]] = {"get_order": get_order, "track_parcel": track_parcel}


def _tool(name: str, description: str, field: str, about: str) -> dict[str, Any]:
    """A tool definition with one string input. `strict` makes the API hold the model's input to the
    schema, which for that needs every property required and no others allowed."""
    return {
        "name": name,
        "description": description,
        "strict": True,
        "input_schema": {
            "type": "object",
            "properties": {field: {"type": "string", "description": about}},
            "required": [field],
            "additionalProperties": False,
        },
    }


TOOLS: list[dict[str, Any]] = [
    _tool(
        "get_order",
        "Look up one order of the shop: its status, items, carrier and tracking number.",
        "order_id",
        "The order ID: one capital letter and four digits, such as A1042.",
    ),
    _tool(
        "track_parcel",
        "Track one parcel with the carrier: every scan so far and the expected delivery date.",
        "tracking_number",
        "The carrier's tracking number, such as PN5582201.",
    ),
]

SYSTEM = (
    "You are the order assistant of an online bookshop. Look orders up and track their parcels with the "
    "tools, and never guess a date. When you have what you need, answer the customer in a few sentences."
)
TASK = "Hi! Where are my orders A1042 and a1077? I need both by Friday 4 December."
DEADLINE = "2026-12-04"
# What the shop's order system asks for after the agent has answered: the same answer, as data.
REPORT_REQUEST = "Now give the same answer as data for our order system, following the JSON schema."
