"""Sample replies for lesson 04 (streaming)."""

from tools.samples.base import SampleReply

REPLIES: list[SampleReply] = []
