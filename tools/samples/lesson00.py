"""Sample replies for lesson 00 (where the model runs, and the first call)."""

from tools.samples.base import SampleReply

REPLIES: list[SampleReply] = [
    SampleReply(
        prompt="In one short sentence, confirm that you received this message.",
        text="Yes, I received your message, and this reply is on its way back to you.",
    ),
]
