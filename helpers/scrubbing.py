"""Secrets kept out of the recordings: what a request's headers hold, and every copy of it removed.

The transport scrubs each request and response before it is saved, so that a key the server echoes
back (in an error message, or spelled out across the deltas of a stream) never reaches a file.
"""

from __future__ import annotations

from typing import Any

import httpx2

Json = dict[str, Any]

# Request headers whose values are secrets, by a word in their name; a value shorter than
# SECRET_MIN_LENGTH (a local server's placeholder key such as "ollama") is not worth hiding.
SECRET_HEADER_WORDS = ("key", "token", "authorization", "secret", "password", "cookie")
SECRET_MIN_LENGTH = 8
REDACTED = "<secret removed>"


def secrets_sent(headers: httpx2.Headers) -> list[str]:
    """The secret values in a request's headers (the key, tokens), longest first."""
    found = set()
    for name, value in headers.items():
        if any(word in name.lower() for word in SECRET_HEADER_WORDS):
            found.add(value)
            found.update(value.split())  # "Bearer sk-..." holds the key itself too
    return sorted((s for s in found if len(s) >= SECRET_MIN_LENGTH), key=len, reverse=True)


def scrub(value: Any, secrets: list[str]) -> Any:
    """`value` with every secret in its strings replaced by a placeholder."""
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, dict):
        return {scrub(name, secrets): scrub(item, secrets) for name, item in value.items()}
    if isinstance(value, list):
        return [scrub(item, secrets) for item in value]
    return value


# The delta fields whose pieces a reader joins: a secret may be split across two of them.
_JOINED_DELTAS = {"text_delta": "text", "thinking_delta": "thinking", "input_json_delta": "partial_json"}


def _scrub_pieces(pieces: list[str], secrets: list[str]) -> list[str]:
    """`pieces` with each secret that their joined text spells out removed, the placeholder standing in
    the piece where the secret began: joined again, they read as the scrubbed whole."""
    joined = "".join(pieces)
    hidden = [False] * len(joined)
    starts = set()
    for secret in secrets:
        at = joined.find(secret)
        while at != -1:
            starts.add(at)
            hidden[at : at + len(secret)] = [True] * len(secret)
            at = joined.find(secret, at + len(secret))
    if not starts:
        return pieces
    scrubbed, offset = [], 0
    for piece in pieces:
        kept = [
            REDACTED if offset + i in starts else ch
            for i, ch in enumerate(piece)
            if not hidden[offset + i] or offset + i in starts
        ]
        scrubbed.append("".join(kept))
        offset += len(piece)
    return scrubbed


def scrub_stream(events: list[Json], secrets: list[str]) -> list[Json]:
    """A stream's events with every secret removed, also one split across the deltas of a block."""
    events = scrub(events, secrets)
    runs: dict[tuple[Any, str], list[dict[str, Any]]] = {}
    for event in events:
        delta = event.get("data", {}).get("delta") if event.get("event") == "content_block_delta" else None
        field = _JOINED_DELTAS.get(delta.get("type")) if isinstance(delta, dict) else None
        if field and isinstance(delta.get(field), str):
            runs.setdefault((event["data"].get("index"), field), []).append(delta)
    for (_, field), deltas in runs.items():
        for delta, piece in zip(deltas, _scrub_pieces([d[field] for d in deltas], secrets), strict=True):
            delta[field] = piece
    return events
