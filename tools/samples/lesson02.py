"""Sample replies for lesson 02 (roles)."""

from tools.samples.base import SampleReply

REPLIES: list[SampleReply] = []
