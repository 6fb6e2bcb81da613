"""The checks a student runs first (lesson 00): is this machine ready for the workbook?

Each line says what was checked and, when something is off, what to do. The key
is reported as set or not set, never shown.
"""

from __future__ import annotations

import platform
import re
from importlib import metadata

from .server_check import check_server, something_to_probe
from .settings import DEFAULT_BASE_URL, REPO_ROOT, Mode, Settings, read_settings

COURSE_PACKAGES = ("anthropic", "httpx2", "jupyterlab", "ipywidgets", "matplotlib", "python-dotenv")
OK, WARN, INFO = "✅", "❌", "ℹ️"


def pinned_versions() -> dict[str, str]:
    """The exact versions requirements.txt asks for, by package name."""
    pins = {}
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.-]+)==([^\s#]+)", line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def python_line() -> str:
    version = platform.python_version()
    major, minor = (int(part) for part in version.split(".")[:2])
    if (major, minor) >= (3, 11):
        return f"{OK} Python {version} (3.11 or newer is needed)"
    return f"{WARN} Python {version}: the workbook needs 3.11 or newer. Install a newer Python, then rerun workbook.py."


def package_lines() -> list[str]:
    pins = pinned_versions()
    lines = []
    for name in COURSE_PACKAGES:
        wanted = pins.get(name)
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            lines.append(f"{WARN} {name} is not installed: run `python3 workbook.py lab` to set up.")
            continue
        if wanted and installed != wanted:
            lines.append(
                f"{WARN} {name} {installed}, but requirements.txt pins {wanted}: rerun `python3 workbook.py lab`."
            )
        else:
            lines.append(f"{OK} {name} {installed}")
    return lines


# What a key changes, in each mode (helpers/settings.py Mode; helpers/transport.py does it).
_WITH_KEY = {
    Mode.AUTO: "Calls never recorded go to the API; replies are kept in recordings/improvised/.",
    Mode.REPLAY: "Replay mode ignores it: every reply comes from the recordings.",
    Mode.RECORD: "Every call goes to the API; each reply is saved in recordings/.",
    Mode.LIVE: "Every call goes to the API; nothing is saved.",
}


def key_line(settings: Settings) -> str:
    if settings.has_key:
        return f"{OK} ANTHROPIC_API_KEY is set (not shown). {_WITH_KEY[settings.mode]}"
    return (
        f"{INFO} ANTHROPIC_API_KEY is not set. Every lesson still runs from its recordings; "
        "put a key in .env (see .env.example) to call the API."
    )


def endpoint_line(settings: Settings) -> str:
    if settings.uses_default_endpoint:
        return f"{INFO} Endpoint: {DEFAULT_BASE_URL} (Anthropic's API). Model: {settings.model}."
    return f"{INFO} Endpoint: {settings.base_url} (from ANTHROPIC_BASE_URL). Model: {settings.model}."


def setup_report() -> str:
    settings = read_settings()
    lines = [
        python_line(),
        *package_lines(),
        key_line(settings),
        f"{INFO} Mode: {settings.mode.value}, which {settings.mode.explanation}.",
        endpoint_line(settings),
    ]
    if something_to_probe(settings):  # with a key or a base URL: what that server can do
        if settings.mode is Mode.REPLAY:  # which promises to send nothing
            lines.append(f"{INFO} Replay mode sends nothing: `python3 workbook.py check-server` probes the server.")
        else:
            lines += [f"{INFO} What the server can do (`python3 workbook.py check-server`):", *check_server(settings)]
    return "\n".join(lines)
