"""The workbook's helpers: one import gives a lesson its client, costs and checks.

from helpers import MODEL, get_client, reply_text, usage_line
client = get_client("01_call_anatomy")
"""

from .cli import run_script
from .client import get_async_client, get_client
from .costs import PRICES, cost_usd, price_for, priced_as, usage_line
from .errors import CorruptRecordingError, MissingRecordingError, SettingsError, WorkbookError
from .models import DEFAULT_MODEL
from .replies import describe_block, reply_text
from .settings import MODEL, Mode, read_settings

__all__ = [
    "DEFAULT_MODEL",
    "MODEL",
    "PRICES",
    "CorruptRecordingError",
    "MissingRecordingError",
    "Mode",
    "SettingsError",
    "WorkbookError",
    "cost_usd",
    "describe_block",
    "get_async_client",
    "get_client",
    "price_for",
    "priced_as",
    "read_settings",
    "reply_text",
    "run_script",
    "usage_line",
]
