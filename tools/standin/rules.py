"""What the stand-in refuses, and in which words: the API's rules, whose one home is helpers/api_rules.py
(replay mode reads them too, to say which 400 an edited request would get)."""

from helpers.api_rules import (
    batch_problem,
    batch_request_problem,
    facts_of,
    invalid_thinking_blocks,
    request_problem,
    rule_break,
    thinking_signature,
    validate,
    without_invalid_thinking,
)

__all__ = [
    "batch_problem",
    "batch_request_problem",
    "facts_of",
    "invalid_thinking_blocks",
    "request_problem",
    "rule_break",
    "thinking_signature",
    "validate",
    "without_invalid_thinking",
]
