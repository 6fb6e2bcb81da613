"""The environment the tests, the notebook builds and the grader's kernels run in, and how a process gets it."""

from __future__ import annotations

import os
from collections.abc import Mapping

# What the tests run with, whatever is in your shell or .env: recordings only,
# no key, the default model and endpoint, streams replayed instantly.
TEST_ENVIRONMENT = {
    "WORKBOOK_MODE": "replay",
    "ANTHROPIC_API_KEY": "",
    "ANTHROPIC_BASE_URL": "",
    "WORKBOOK_MODEL": "",
    "WORKBOOK_STREAM_SPEED": "0",
    "WORKBOOK_RECORDINGS_DIR": "",
    # No local model: a test that wants one starts it and says so.
    "WORKBOOK_LOCAL_MODEL": "",
    "WORKBOOK_LOCAL_REPLY_LIMIT": "",
    # Streamed replies printed as text rather than shown in a widget, so stored outputs are readable text.
    "WORKBOOK_LIVE_DISPLAY": "plain",
    # Keeps temporary file paths out of warnings, so stored outputs compare equal.
    "IPYKERNEL_CELL_NAME": "<IPY-INPUT>",
    # The same random numbers (retry jitter) on every run, so a rebuild changes no byte.
    "WORKBOOK_SEED": "2026",
}


def with_test_environment(base: Mapping[str, str] | None = None, **overrides: str | None) -> dict[str, str]:
    """The environment of a kernel or a subprocess: `base` (this process's environment unless given), the
    test environment over it, then `overrides`, where None leaves that variable out."""
    environment = {**(os.environ if base is None else base), **TEST_ENVIRONMENT}
    for name, value in overrides.items():
        if value is None:
            environment.pop(name, None)
        else:
            environment[name] = value
    return environment
