"""Where the workbook's settings come from: the environment first, then .env.

Every setting is listed, with a comment, in .env.example at the top of the repo.

One way to read them: read_settings(), on every call, so a changed mode, key or base URL is seen at
once. The model is the exception, read once per process (kernel or script) into MODEL, and
read_settings().model is that same MODEL: the requests a lesson sends (`model=MODEL`), the banner of
get_client(), the setup check and the prices always name one model. After changing WORKBOOK_MODEL,
restart the kernel.
"""

from __future__ import annotations

import math
import os
import random
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from urllib.parse import unquote, urlsplit

from dotenv import load_dotenv

from workbook_base.local_model import LOCAL_MODEL

from .errors import SettingsError
from .models import DEFAULT_MODEL
from .provenance import is_anthropic_api

REPO_ROOT = Path(__file__).resolve().parent.parent
RECORDINGS_DIR = REPO_ROOT / "recordings"

DEFAULT_BASE_URL = "https://api.anthropic.com"

# Variables in the real environment win over .env, so a test run or CI that sets
# WORKBOOK_MODE=replay is never overridden by a student's .env. The grader (instructor/grading.py)
# sets WORKBOOK_IGNORE_DOTENV=1, so a student's notebook never sees the instructor's .env: only the
# real environment can say so, as it decides whether .env is read at all.
IGNORE_DOTENV = "WORKBOOK_IGNORE_DOTENV"
if os.environ.get(IGNORE_DOTENV) != "1":
    load_dotenv(REPO_ROOT / ".env", override=False)


class Mode(StrEnum):
    """How get_client() reaches a model."""

    AUTO = "auto"  # replay if recorded, else call the API (with a key) and save
    REPLAY = "replay"  # recordings only; never touches the network
    RECORD = "record"  # always call the API and save the reply
    LIVE = "live"  # always call the API and save nothing

    @property
    def explanation(self) -> str:
        return {
            Mode.AUTO: "replays recordings; calls the API only for requests never recorded (needs a key)",
            Mode.REPLAY: "replays recordings only and never touches the network",
            Mode.RECORD: "calls the API for every request and saves each reply",
            Mode.LIVE: "calls the API for every request and saves nothing",
        }[self]


def setting(name: str) -> str | None:
    """A variable's value, with blank treated as unset (a copied .env.example has blanks)."""
    value = os.environ.get(name, "").strip()
    return value or None


# DEFAULT_MODEL (helpers/models.py), unless WORKBOOK_MODEL names another (a local model, say).
MODEL: str = setting("WORKBOOK_MODEL") or DEFAULT_MODEL
"""The model every lesson and script uses, read once per process; set WORKBOOK_MODEL to use another one."""


@dataclass(frozen=True)
class Settings:
    mode: Mode
    model: str
    base_url: str
    api_key: str | None = field(repr=False)
    recordings_dir: Path
    stream_speed: float
    # The local model's server (`python3 workbook.py local` prints it), and the cap on its replies' length.
    local_model_url: str | None = None
    local_max_tokens: int = 256

    @property
    def has_key(self) -> bool:
        return self.api_key is not None

    @property
    def explores_locally(self) -> bool:
        """Auto mode, no key, a local model running: what was never recorded goes to the local model."""
        return self.mode is Mode.AUTO and not self.has_key and self.local_model_url is not None

    @property
    def targets_local_model(self) -> bool:
        """Whether the requests sent go to the local model: every one (its URL as the base URL), or the misses."""
        if self.local_model_url is None:
            return False
        return self.explores_locally or self.base_url.rstrip("/") == self.local_model_url.rstrip("/")

    @property
    def local_model(self) -> str:
        return LOCAL_MODEL

    @property
    def uses_default_endpoint(self) -> bool:
        """Whether this is Anthropic's own API (the one test of it: helpers/provenance.py)."""
        return is_anthropic_api(self.base_url)

    @property
    def base_path(self) -> str:
        """The base URL's own path ('/anthropic' behind a gateway; '' for the API itself)."""
        return unquote(urlsplit(self.base_url).path).rstrip("/")  # decoded, as httpx2 gives a request's path


# Replayed streams slower than a tenth of their pace, or faster than a hundred times, help nobody.
STREAM_SPEEDS = (0.1, 100.0)


def redact_url(url: str) -> str:
    """`url` without any user:password@ in it, fit to print.

    Everything from the scheme to the last @ goes, whatever it holds: a password with an unencoded
    / ? or # would end a URL parser's idea of the credentials early and leak the rest.
    """
    if "@" not in url:
        return url
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme, rest = "", url
    return f"{scheme}{separator}***@{rest.rsplit('@', 1)[1]}"


def _checked_base_url(raw: str | None, name: str = "ANTHROPIC_BASE_URL") -> str:
    if raw is None:
        return DEFAULT_BASE_URL
    problem = None
    try:
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https"):
            problem = "it does not start with http:// or https://"
        elif not parts.hostname:
            problem = "it names no host"
        else:
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:  # the parser's own words may quote a password, so they are not repeated
        problem = "it cannot be read as a URL (check the brackets of an IPv6 address, and the port)"
    if problem:
        raise SettingsError(
            f"{name}={redact_url(raw)!r} is not a server address: {problem}. Use a URL such as "
            "https://api.anthropic.com or http://localhost:11434, or remove the line from .env."
        )
    return raw


def _checked_stream_speed(raw: str | None) -> float:
    low, high = STREAM_SPEEDS
    try:
        speed = float(raw or "0")
    except ValueError:
        speed = math.nan
    if speed == 0 or (math.isfinite(speed) and low <= speed <= high):
        return speed
    raise SettingsError(
        f"WORKBOOK_STREAM_SPEED={raw!r} is not a speed the workbook can use. Use 0 for instant replay, "
        f"1 to pace streams as recorded, 2 for twice as fast; anything from {low:g} to {high:g}."
    )


def _checked_max_tokens(raw: str | None) -> int:
    try:
        cap = int(raw or "256")
    except ValueError:
        cap = 0
    if cap >= 1:
        return cap
    raise SettingsError(
        f"WORKBOOK_LOCAL_REPLY_LIMIT={raw!r} is not a number of tokens: use a whole number such as 256, or remove it."
    )


def read_settings() -> Settings:
    """Read the settings now (not at import), so a changed environment is seen: all but the model,
    which is MODEL, read once per process (see the module's docstring)."""
    raw_mode = (setting("WORKBOOK_MODE") or "auto").lower()
    try:
        mode = Mode(raw_mode)
    except ValueError:
        choices = ", ".join(m.value for m in Mode)
        raise SettingsError(
            f"WORKBOOK_MODE={raw_mode!r} is not a mode the workbook knows. "
            f"Use one of: {choices} (in .env or your shell)."
        ) from None

    return Settings(
        mode=mode,
        model=MODEL,
        base_url=_checked_base_url(setting("ANTHROPIC_BASE_URL")),
        api_key=setting("ANTHROPIC_API_KEY"),
        recordings_dir=Path(setting("WORKBOOK_RECORDINGS_DIR") or RECORDINGS_DIR),
        stream_speed=_checked_stream_speed(setting("WORKBOOK_STREAM_SPEED")),
        local_model_url=(
            _checked_base_url(url, "WORKBOOK_LOCAL_MODEL") if (url := setting("WORKBOOK_LOCAL_MODEL")) else None
        ),
        local_max_tokens=_checked_max_tokens(setting("WORKBOOK_LOCAL_REPLY_LIMIT")),
    )


def _jitter_seed() -> int | None:
    """WORKBOOK_SEED as a whole number, or None when it is not set."""
    raw = setting("WORKBOOK_SEED")
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(
            f"WORKBOOK_SEED={raw!r} is not a whole number: use one (e.g. 2026), or remove it."
        ) from None


JITTER_RANDOM = random.Random(_jitter_seed())
"""The random numbers of the helpers' own jitter (retry waits), read once per process like MODEL: seeded
from WORKBOOK_SEED when it is set (the tests and notebook builds set it, so jittered waits print the same
on every run), else by the system. Python's global `random` is never seeded: a student's own code and
the SDK draw from it as they would anywhere."""
