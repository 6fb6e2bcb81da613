"""Checks for the exercises of lesson 00, where the model runs."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from . import Outcome, exercise, report, unanswered

SITUATIONS = {
    "records": "A hospital summarises patient records that must never leave its own network.",
    "frontier": "A coding agent needs the strongest model available for hard refactoring work.",
    "offline": "A field researcher wants a writing assistant on a laptop with no internet for weeks.",
    "prototype": "A two-person startup tests an idea; usage is tiny and spiky, and nobody owns a GPU.",
}
ANSWERS = {"records": "local", "frontier": "hosted", "offline": "local", "prototype": "hosted"}
REASONS = {
    "records": "the data may not leave the network, so the model has to come to the data.",
    "frontier": "the most capable models are only available from providers, and too large to run yourself.",
    "offline": "with no connection, only a model on the laptop can answer.",
    "prototype": "paying per token beats buying hardware for a handful of requests.",
}


@exercise(1, "Local or hosted?")
def check_placements(placements: Any) -> Outcome:
    """Exercise 00.1: local or hosted, for each situation."""
    if not isinstance(placements, dict):
        return report(False, "`placements` should be a dict from each situation's key to 'local' or 'hosted'.")
    for key, answer in ANSWERS.items():
        given = placements.get(key)
        if unanswered(given):
            return report(False, f"fill in {key!r} with 'local' or 'hosted'.")
        if given not in ("local", "hosted"):
            return report(False, f"{key!r} is {given!r}; use exactly 'local' or 'hosted'.")
        if given != answer:
            return report(False, f"think again about {key!r}: look at what the situation rules out.")
    reasons = "".join(f"\n  - {key}: {answer}, because {REASONS[key]}" for key, answer in ANSWERS.items())
    return report(True, f"all four placed well.{reasons}")


def _address_hint(url: str) -> str:
    """What is wrong with a base URL that is not Ollama's on this machine: the scheme, host, port or path."""
    try:
        parts = urlsplit(url if "://" in url else f"//{url}")
    except ValueError:  # an address urlsplit cannot read, such as an unclosed [IPv6
        return f"{url!r} is not an address: Ollama on this machine is http://localhost:11434."
    if not parts.scheme:
        return f"{url!r} has no scheme: a base URL starts with http:// (a local server speaks plain HTTP)."
    if parts.scheme != "http":
        return f"{url!r} uses {parts.scheme}://, but a local Ollama speaks plain HTTP: http://localhost:11434."
    if parts.hostname not in ("localhost", "127.0.0.1"):
        return f"the host is {parts.hostname!r}, but Ollama runs on this machine: localhost (or 127.0.0.1)."
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        return "the address names no port (or a bad one): Ollama listens on 11434, http://localhost:11434."
    if port != 11434:
        return f"the port is {port}, but Ollama listens on 11434: http://localhost:11434."
    return f"leave the path {parts.path!r} off: the base URL is the server's address alone, http://localhost:11434."


@exercise(2, "Settings for a local model")
def check_local_settings(settings: Any) -> Outcome:
    """Exercise 00.2: the .env settings for Ollama on its usual port."""
    if not isinstance(settings, dict):
        return report(False, "`local_settings` should be a dict of setting name to value.")
    url = settings.get("ANTHROPIC_BASE_URL")
    if unanswered(url) or not isinstance(url, str):
        return report(False, "ANTHROPIC_BASE_URL should be the server's address, as a string.")
    if url.rstrip("/").endswith("/v1"):
        return report(False, "leave /v1 off ANTHROPIC_BASE_URL: the SDK adds /v1/messages itself.")
    if url.rstrip("/") not in ("http://localhost:11434", "http://127.0.0.1:11434"):
        return report(False, _address_hint(url))
    key = settings.get("ANTHROPIC_API_KEY")
    if unanswered(key) or not isinstance(key, str) or not key.strip():
        return report(False, "ANTHROPIC_API_KEY must be non-empty for the SDK, although Ollama ignores it.")
    if key.startswith("sk-ant-"):
        return report(False, "don't send your real Anthropic key to another server: any dummy value works.")
    if settings.get("WORKBOOK_MODEL") != "qwen3:8b":
        return report(False, "WORKBOOK_MODEL should be the local model's name as Ollama knows it: 'qwen3:8b'.")
    if settings.get("WORKBOOK_MODE") != "live":
        return report(False, "to call the local model every time and save nothing, the mode is 'live'.")
    return report(True, "those four lines in .env send every lesson to your local model.")
