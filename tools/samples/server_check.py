"""Sample replies to the probes of `python3 workbook.py check-server` (helpers/server_check.py)."""

from __future__ import annotations

from helpers.server_check import PLAIN_PROMPT, STRUCTURED_PROMPT, TOOL_PROMPT
from tools.samples.base import SampleReply

REPLIES = [
    SampleReply(prompt=PLAIN_PROMPT, text="Hello there, nice to meet!"),
    SampleReply(prompt=TOOL_PROMPT, tool_calls=({"name": "get_weather", "input": {"city": "Paris"}},)),
    SampleReply(prompt=STRUCTURED_PROMPT, text='{"colour": "blue"}'),
]
