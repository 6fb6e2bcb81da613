"""Sample replies for lesson 03 (statelessness and scripts/conversation.py)."""

from tools.samples.base import SampleReply

REPLIES: list[SampleReply] = []
