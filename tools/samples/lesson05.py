"""Sample replies for lesson 05 (errors and retries, and scripts/retry_pattern.py)."""

from tools.samples.base import SampleReply

REPLIES: list[SampleReply] = []
