"""Where a recording's replies came from, and how that is said: the one home of the wording.

A reply is a sample (served by the stand-in, tools/standin/, which marks its replies) or was recorded
from a server: Anthropic's own API (the host api.anthropic.com) or another one, named by its host
(never a key or a password: a URL's credentials are not part of its host), the model it reported,
and its `server` response header.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from workbook_base.local_model import LOCAL_MODEL_SIZE

Json = dict[str, Any]

ANTHROPIC_API_HOST = "api.anthropic.com"
STANDIN = "tools/standin/"  # what a sample's source names: the stand-in, at whatever port it ran

PROVENANCE_TEXT = {
    "sample": "SAMPLE replies written offline, not real model output",
    "recorded": "replies recorded from the API",
    "mixed": "partly SAMPLE replies written offline, partly recorded from the API",
    "local": f"replies recorded from a small local model ({LOCAL_MODEL_SIZE}, llama.cpp), not from Claude",
    "empty": "nothing recorded yet",
}


def is_anthropic_api(url_or_host: str) -> bool:
    """Whether a base URL (or a host) is Anthropic's own API."""
    host = urlsplit(url_or_host).hostname if "//" in url_or_host else url_or_host.split(":")[0]
    return (host or "").lower() == ANTHROPIC_API_HOST


LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def host_of(host: str, port: int | None) -> str:
    """A server's name as recorded: its host, and its port when one is given (no credentials). A server
    on the recording machine itself is named without its port, which is any free one and changes each run."""
    return f"{host}:{port}" if port and host.lower() not in LOOPBACK_HOSTS else host


def reported_model(responses: list[Json]) -> str | None:
    """The model the server said answered (a reply's `model`, or a stream's message_start)."""
    for response in responses:
        body = response.get("body")
        if isinstance(body, dict) and isinstance(body.get("model"), str):
            return body["model"]
        for event in response.get("events") or ():
            message = event.get("data", {}).get("message") if isinstance(event.get("data"), dict) else None
            if isinstance(message, dict) and isinstance(message.get("model"), str):
                return message["model"]
    return None


def source_of(host: str, server: str | None, responses: list[Json], *, sample: bool) -> Json:
    """What an interaction stores of where its replies came from."""
    source: Json = {"host": STANDIN if sample else host}
    model = reported_model(responses)
    if model:
        source["model"] = model
    if server and not sample:
        source["server"] = server
    return source


def source_text(source: Json) -> str:
    """One source in words: "the Anthropic API", or another server by its host, model and header."""
    host = source.get("host", "")
    if host == STANDIN:
        return f"the stand-in server ({STANDIN})"
    if is_anthropic_api(host):
        return "the Anthropic API"
    details = [f"model {source['model']}" if source.get("model") else "", f"server: {source.get('server')}"]
    details = [detail for detail in details if detail and not detail.endswith("None")]
    return f"another server, {host}" + (f" ({', '.join(details)})" if details else "") + ", not Anthropic's API"


def from_anthropic_only(sources: list[Json]) -> bool:
    return bool(sources) and all(is_anthropic_api(source.get("host", "")) for source in sources)


def recording_text(provenance: str, sources: list[Json]) -> str:
    """What a recording file holds, for the banner: "recorded from the API" only for Anthropic's own."""
    recorded = [source for source in sources if source.get("host") != STANDIN]
    if provenance in ("sample", "local", "empty") or (provenance == "recorded" and from_anthropic_only(recorded)):
        return PROVENANCE_TEXT[provenance]
    if provenance == "mixed" and from_anthropic_only(recorded):
        return PROVENANCE_TEXT["mixed"]
    where = "; ".join(source_text(source) for source in recorded) or "a server this file does not name"
    if provenance == "mixed":
        return f"partly SAMPLE replies written offline, partly replies recorded from {where}"
    return f"replies recorded from {where}"
