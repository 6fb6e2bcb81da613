"""No API key in any tracked file: recordings, notebooks, code or docs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from dotenv import dotenv_values

ROOT = Path(__file__).resolve().parent.parent
KEY_PATTERNS = [
    re.compile(r"sk-ant-[A-Za-z0-9]{2,8}-[A-Za-z0-9_-]{20,}"),  # Anthropic keys: sk-ant-api03-...
    re.compile(r"sk-[A-Za-z0-9]{32,}"),  # other providers' secret keys
]
ALLOWED = {"sk-ant-api03-TESTONLY-"}  # the fake key the tests use, built at run time


def tracked_files() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / name for name in listed.stdout.split("\0") if name]


def test_no_tracked_file_contains_an_api_key():
    found = []
    # The tests blank ANTHROPIC_API_KEY, so look for the student's own key where it lives.
    own_key = (dotenv_values(ROOT / ".env").get("ANTHROPIC_API_KEY") or "").strip()
    for path in tracked_files():
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, FileNotFoundError):
            continue
        for pattern in KEY_PATTERNS:
            found += [f"{path.relative_to(ROOT)}: {m[:14]}..." for m in pattern.findall(text) if m not in ALLOWED]
        if len(own_key) >= 8 and own_key in text:
            found.append(f"{path.relative_to(ROOT)}: your ANTHROPIC_API_KEY")
    assert not found, "possible API keys in tracked files:\n" + "\n".join(found)


def test_the_scan_would_find_a_key():
    fake = "sk-ant-api03-" + "A1b2C3d4" * 6
    assert any(pattern.search(f"key = {fake}") for pattern in KEY_PATTERNS)


def test_env_is_ignored_by_git():
    result = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT)
    assert result.returncode == 0, ".env must be git-ignored: it holds the key"
