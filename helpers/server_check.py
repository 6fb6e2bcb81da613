"""What the configured server can do: `python3 workbook.py check-server` (lesson 00 and the re-record command too).

One small request for each feature a lesson relies on: a plain call and a stream, count_tokens, a
tool call and structured output, thinking, the rate-limit headers (read off the plain call), and the
Message Batches API (a list, and a create with no requests, which the API refuses, so nothing is
created or billed). It prints what works, and a line for
each missing feature saying which lessons it affects. A server that cannot be reached, or refuses
the key, is one line: nothing else can be probed then.

The probes go through the bare SDK with no retries: what is shown is what this server answers.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass

import anthropic
import httpx2

from .cli import explain_error
from .notices import has_thinking
from .provenance import is_anthropic_api
from .settings import Settings, read_settings, redact_url, setting
from .wire import RATE_LIMIT_PREFIX

PROBE_TIMEOUT = httpx2.Timeout(60.0, connect=5.0)
NO_KEY = "no-key"  # a local server asks for none; the SDK wants one all the same

# The probes' prompts: the stand-in's samples answer them (tools/samples/server_check.py).
PLAIN_PROMPT = "Say hello in five words."
TOOL_PROMPT = "What is the weather in Paris right now? Use the get_weather tool."
STRUCTURED_PROMPT = "Name one primary colour, as JSON."
THINKING_PROMPT = "Is 391 a prime number? Think it through, then answer yes or no."
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "The current weather in a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
COLOUR_SCHEMA = {
    "type": "object",
    "properties": {"colour": {"type": "string"}},
    "required": ["colour"],
    "additionalProperties": False,
}


@dataclass(frozen=True)
class Feature:
    name: str
    lessons: str  # which lessons (and scripts) lose something without it


FEATURES = {
    "plain": Feature("plain call", "every lesson and script"),
    "stream": Feature("stream", "04 (streaming), and the streamed cells of 00, 01, 05, 06, 07 and the scripts"),
    "count_tokens": Feature("count_tokens", "06 (the context budget) and scripts/agent.py"),
    "tools": Feature("tool call", "06 (the agent loop), the tool cells of 02, 03, 05, and scripts/agent.py"),
    "structured": Feature("structured output", "05 and 06 (output_config.format)"),
    "thinking": Feature("thinking", "01, 03, 04 and 06 (thinking blocks)"),
    "rate_limits": Feature("rate-limit headers", "05 and 07 (anthropic-ratelimit-* headers)"),
    "batches": Feature("Message Batches API", "07 (batches) and scripts/batch_run.py --batch"),
}


@dataclass(frozen=True)
class Result:
    feature: str  # a key of FEATURES
    works: bool
    detail: str = ""


class UnreachableError(Exception):
    """The server cannot be probed at all; the message is the one line that says why."""


def _failure(error: Exception) -> str:
    """What one probe's failure says: the status and the server's own words, or the scripts' one line."""
    if isinstance(error, anthropic.APIStatusError):
        body = error.body.get("error", error.body) if isinstance(error.body, dict) else None
        message = body.get("message") if isinstance(body, dict) else None
        said = f": {' '.join(str(message).split())[:100]}" if message else ""
        return f"HTTP {error.status_code}{said}"
    return explain_error(error).removeprefix("error: ")[:160]


def _probe(results: list[Result], feature: str, run: Callable[[], tuple[bool, str]]) -> None:
    try:
        works, detail = run()
    except (anthropic.AuthenticationError, anthropic.PermissionDeniedError) as error:
        raise UnreachableError(explain_error(error)) from None
    except (anthropic.APIConnectionError, httpx2.TransportError) as error:
        if feature == "plain":
            raise UnreachableError(explain_error(error)) from None
        works, detail = False, _failure(error)
    except Exception as error:  # any other answer: this feature does not work here, and the check goes on
        works, detail = False, _failure(error)
    results.append(Result(feature, works, detail))


def probe(settings: Settings) -> list[Result]:
    """Probe the server `settings` name, once for each feature; UnreachableError when it cannot be probed."""
    client = anthropic.Anthropic(
        api_key=settings.api_key or NO_KEY, base_url=settings.base_url, max_retries=0, timeout=PROBE_TIMEOUT
    )
    model = settings.model
    say = [{"role": "user", "content": PLAIN_PROMPT}]
    results: list[Result] = []
    headers: dict[str, str] = {}

    def plain() -> tuple[bool, str]:
        raw = client.messages.with_raw_response.create(model=model, max_tokens=64, messages=say)
        headers.update(raw.headers)
        message = raw.parse()
        return bool(message.content), f"model {message.model}"

    def stream() -> tuple[bool, str]:
        with client.messages.with_streaming_response.create(
            model=model, max_tokens=64, messages=say, stream=True
        ) as response:
            kind = response.headers.get("content-type", "")
            body = response.read()
        if not kind.startswith("text/event-stream"):
            return False, f"a stream request was answered as {kind or 'no content type'}, not events"
        return (b"message_start" in body), "" if b"message_start" in body else "the stream had no message_start"

    def count_tokens() -> tuple[bool, str]:
        count = client.messages.count_tokens(model=model, messages=say)
        return count.input_tokens > 0, f"{count.input_tokens} tokens" if count.input_tokens > 0 else "counted 0"

    def tools() -> tuple[bool, str]:
        message = client.messages.create(
            model=model,
            max_tokens=256,
            tools=[WEATHER_TOOL],
            messages=[{"role": "user", "content": TOOL_PROMPT}],
        )
        called = any(block.type == "tool_use" for block in message.content)
        return called, "" if called else f"no tool call (stop_reason {message.stop_reason})"

    def structured() -> tuple[bool, str]:
        message = client.messages.create(
            model=model,
            max_tokens=256,
            output_config={"format": {"type": "json_schema", "schema": COLOUR_SCHEMA}},
            messages=[{"role": "user", "content": STRUCTURED_PROMPT}],
        )
        text = "".join(block.text for block in message.content if block.type == "text")
        try:
            data = json.loads(text)
        except ValueError:
            return False, "the reply is not JSON"
        return (isinstance(data, dict) and "colour" in data), "" if isinstance(data, dict) else "not an object"

    def thinking() -> tuple[bool, str]:
        message = client.messages.create(
            model=model, max_tokens=2048, messages=[{"role": "user", "content": THINKING_PROMPT}]
        )
        thought = has_thinking(message)
        # Adaptive thinking decides per request, so one reply without thinking is a hint, not proof.
        return thought, "" if thought else "no thinking block in the reply; the model may have judged it easy"

    def rate_limits() -> tuple[bool, str]:
        names = [name for name in headers if name.lower().startswith(RATE_LIMIT_PREFIX)]
        return bool(names), f"{len(names)} headers" if names else "no anthropic-ratelimit-* header on a reply"

    def batches() -> tuple[bool, str]:
        page = client.messages.batches.list(limit=1)
        if not isinstance(page.data, list):
            return False, "listing batches did not return a list"
        # A batch needs at least one request (API reference: requests, minItems 1), so the API refuses an
        # empty one with a 400 and creates and bills nothing; a proxy that answers every POST with a chat
        # reply gives itself away with a Message.
        try:
            answer = client.messages.batches.create(requests=[])
        except anthropic.BadRequestError:
            return True, ""
        kind = getattr(answer, "type", None)
        if kind == "message":
            return False, "creating a batch was answered with a Message"
        return kind == "message_batch", "it took an empty batch" if kind == "message_batch" else f"created a {kind!r}"

    checks: dict[str, Callable[[], tuple[bool, str]]] = {
        "plain": plain,
        "stream": stream,
        "count_tokens": count_tokens,
        "tools": tools,
        "structured": structured,
        "thinking": thinking,
        "rate_limits": rate_limits,
        "batches": batches,
    }
    with client:
        for feature, run in checks.items():
            _probe(results, feature, run)
    return results


def where(settings: Settings) -> str:
    if is_anthropic_api(settings.base_url):
        return f"the Anthropic API ({redact_url(settings.base_url)})"
    return f"{redact_url(settings.base_url)} (not Anthropic's API)"


def report(results: list[Result]) -> list[str]:
    """The table of what works, then one line for each missing feature and the lessons it affects."""
    lines = [f"  {'feature':<22}works"]
    for result in results:
        mark = "yes" if result.works else "NO"
        detail = f"  ({result.detail})" if result.detail else ""
        lines.append(f"  {FEATURES[result.feature].name:<22}{mark}{detail}")
    for result in results:
        if not result.works:
            lines.append(f"Missing {FEATURES[result.feature].name}: affects {FEATURES[result.feature].lessons}.")
    if all(result.works for result in results):
        lines.append("Everything the lessons use works here.")
    return lines


def something_to_probe(settings: Settings) -> bool:
    """Whether a key or a base URL is set: without either, there is no server of one's own to ask."""
    return settings.has_key or bool(setting("ANTHROPIC_BASE_URL"))


def check_server(settings: Settings | None = None) -> list[str]:
    """The check's lines: a table, or the one line that says why there is nothing to show."""
    settings = settings or read_settings()
    if not something_to_probe(settings):
        return [
            "Nothing to probe: neither ANTHROPIC_API_KEY nor ANTHROPIC_BASE_URL is set. Put them in .env "
            "(see .env.example) to check a server; the lessons replay their recordings meanwhile."
        ]
    heading = f"Server: {where(settings)}, model {settings.model}."
    try:
        return [heading, *report(probe(settings))]
    except UnreachableError as error:
        return [heading, f"Could not probe it: {str(error).removeprefix('error: ')}"]


def missing(results: list[Result]) -> list[str]:
    return [result.feature for result in results if not result.works]


def main(argv: list[str] | None = None) -> int:
    from .errors import WorkbookError

    try:
        lines = check_server()
    except WorkbookError as error:  # a bad .env: its one line
        print(explain_error(error), file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
