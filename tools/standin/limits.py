"""Rate limits as the API keeps them: a token bucket per limit, and the anthropic-ratelimit-* headers."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from helpers import faults, wire


@dataclass
class Bucket:
    """One rate limit as the API keeps it: a token bucket that holds `per_minute` and refills
    continuously, at per_minute / 60 a second. `used` is what is missing from a full bucket."""

    per_minute: int
    used: float = 0.0
    at: float | None = None  # when `used` was last brought up to date (time.time())

    def _refill(self, now: float) -> None:
        if self.at is not None:
            self.used = max(0.0, self.used - (now - self.at) * self.per_minute / 60)
        self.at = now

    def take(self, amount: float, now: float) -> None:
        self._refill(now)
        self.used += amount

    def wait_for(self, amount: float, now: float) -> float:
        """Seconds until `amount` fits (0 when it does now; an amount larger than the bucket waits for it empty)."""
        self._refill(now)
        excess = self.used + min(amount, self.per_minute) - self.per_minute
        return max(0.0, excess * 60 / self.per_minute)

    def report(self, now: float) -> wire.RateLimit:
        """The limit, what remains, and when the bucket is full again (in whole seconds, rounded up)."""
        self._refill(now)
        full_at = datetime.fromtimestamp(math.ceil(now + self.used * 60 / self.per_minute), UTC)
        return wire.RateLimit(self.per_minute, math.floor(self.per_minute - self.used), full_at)


@dataclass
class RateLimits:
    """A server's limits, sized like a Tier 1 organization's (helpers/faults.py). Only uncached input
    counts against the input limit (input_tokens + cache_creation_input_tokens), as the API documents
    for most models (https://platform.claude.com/docs/en/api/rate-limits)."""

    requests: Bucket = field(default_factory=lambda: Bucket(faults.REQUESTS_PER_MINUTE))
    input_tokens: Bucket = field(default_factory=lambda: Bucket(faults.INPUT_TOKENS_PER_MINUTE))
    output_tokens: Bucket = field(default_factory=lambda: Bucket(faults.OUTPUT_TOKENS_PER_MINUTE))

    def wait_for(self, input_tokens: int, now: float) -> float:
        """Seconds until a request with `input_tokens` fits every limit (0: it fits now)."""
        return max(
            self.requests.wait_for(1, now),
            self.input_tokens.wait_for(input_tokens, now),
            self.output_tokens.wait_for(1, now),
        )

    def take(self, now: float, *, requests: int = 0, usage: dict[str, Any] | None = None) -> None:
        self.requests.take(requests, now)
        if usage is not None:
            self.input_tokens.take(usage["input_tokens"] + (usage.get("cache_creation_input_tokens") or 0), now)
            self.output_tokens.take(usage["output_tokens"], now)

    def headers(self, now: float) -> dict[str, str]:
        return wire.rate_limit_headers(
            {
                "requests": self.requests.report(now),
                "input-tokens": self.input_tokens.report(now),
                "output-tokens": self.output_tokens.report(now),
            }
        )
