"""What a stand-in server was told to do, and what it has seen."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from tools.standin.batches import DEFAULT_BATCH_POLLS, Batch
from tools.standin.limits import RateLimits


@dataclass
class StandinState:
    """What the server was told to do, and what it has seen."""

    failures: list[str] = field(default_factory=list)
    always: str | None = None
    pace: float = 0.0  # seconds between streamed chunks; 0 sends them at once
    first_token_delay: float = 0.0
    # True: a reply without streaming waits first_token_delay + pace x the deltas it would stream as.
    json_latency: bool = False
    hang_seconds: float = 5.0
    mark_as_sample: bool = True  # False plays a real server, whose replies are recorded as `recorded`
    plain_text: bool = False  # True plays a small local model: plain text only (see tools/standin/__init__.py)
    llama_cpp: bool = False  # True plays llama.cpp's llama-server (plain text, and its differences: see __init__.py)
    # Degraded shapes a compatible server's replies can take (see tools/standin/__init__.py):
    stream_as_json: bool = False  # a stream request is answered with the whole Message as JSON
    missing: dict[str, int] = field(default_factory=dict)  # endpoint ("count_tokens", "batches") -> its status
    batch_create_as_message: bool = False  # creating a batch gets a plain Message back (a proxy that ignores the path)
    stream_without_start: bool = False  # a stream begins without message_start (llama-server, now and then)
    flat_usage: bool = False  # input_tokens is the same for every request, however long
    enforce_rate_limits: bool = False  # True: a request that does not fit the rate limits gets a 429
    batch_polls: int = DEFAULT_BATCH_POLLS  # retrieves that find a batch still in progress; the next finds it ended
    requests: list[dict[str, Any]] = field(default_factory=list)
    cached_prefixes: set[str] = field(default_factory=set)
    last_prompt: str = ""  # llama_cpp: the prompt it read last, whose shared start it reports as cache reads
    rate_limits: RateLimits = field(default_factory=RateLimits)
    batches: dict[str, Batch] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    batch_lock: threading.Lock = field(default_factory=threading.Lock)  # held while a batch's results are made

    def next_fault(self) -> str | None:
        with self.lock:
            if self.failures:
                return self.failures.pop(0)
            return self.always

    def limit_headers(self, now: float) -> dict[str, str]:
        """The anthropic-ratelimit-* headers of a reply; none from a local model's server, which has no limits."""
        return {} if self.plain_text or self.llama_cpp else self.rate_limits.headers(now)
