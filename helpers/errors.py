"""The workbook's own errors: each carries one message that says what to do.

They subclass ``anthropic.AnthropicError`` on purpose: the SDK re-raises its own
error types untouched and never retries them, so a missing recording fails at
once instead of after two retries dressed up as a connection error.
"""

import anthropic


class WorkbookError(anthropic.AnthropicError):
    """A problem the student can fix; the message says how."""


class SettingsError(WorkbookError):
    """A setting in the environment or .env has a value the workbook cannot use."""


class MissingRecordingError(WorkbookError):
    """Replay was asked for a request that no recording matches."""


class CorruptRecordingError(WorkbookError):
    """A recording file exists but cannot be read."""


class IncompleteRecordingError(WorkbookError):
    """A replayed stream was read past the point where its recording ends."""


class NotAMessageError(WorkbookError):
    """The server answered 200 with JSON that is not a Message (the SDK does not check, by default)."""


ALL_WORKBOOK_ERRORS: tuple[type[WorkbookError], ...] = (
    WorkbookError,
    SettingsError,
    MissingRecordingError,
    CorruptRecordingError,
    IncompleteRecordingError,
    NotAMessageError,
)
