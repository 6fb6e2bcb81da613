"""Settings: the mode, the one model constant, and clear messages for bad values."""

from __future__ import annotations

import re

import anthropic
import pytest

from helpers import DEFAULT_MODEL, MODEL, SettingsError, get_client, read_settings
from helpers.settings import REPO_ROOT, Mode


def test_tests_run_with_the_default_model():
    assert MODEL == DEFAULT_MODEL, "WORKBOOK_MODEL is set in the test environment; recordings would not match"


def test_mode_defaults_to_auto(monkeypatch):
    monkeypatch.setenv("WORKBOOK_MODE", "")
    assert read_settings().mode is Mode.AUTO


def test_blank_values_from_a_copied_env_example_count_as_unset(monkeypatch):
    for name in ("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "WORKBOOK_MODEL"):
        monkeypatch.setenv(name, "  ")
    settings = read_settings()
    assert (settings.has_key, settings.base_url, settings.model) == (False, "https://api.anthropic.com", MODEL)


def test_an_unknown_mode_is_refused_with_the_choices(monkeypatch):
    monkeypatch.setenv("WORKBOOK_MODE", "offline")
    with pytest.raises(SettingsError, match="auto, replay, record, live"):
        read_settings()


@pytest.mark.parametrize("speed", ["fast", "-1", "nan"])
def test_a_bad_stream_speed_is_refused(monkeypatch, speed):
    monkeypatch.setenv("WORKBOOK_STREAM_SPEED", speed)
    with pytest.raises(SettingsError, match="WORKBOOK_STREAM_SPEED"):
        read_settings()


@pytest.mark.parametrize("mode", ["record", "live"])
def test_modes_that_call_the_api_need_a_key(recordings, monkeypatch, mode):
    monkeypatch.setenv("WORKBOOK_MODE", mode)
    with pytest.raises(SettingsError, match="ANTHROPIC_API_KEY"):
        get_client("lesson", quiet=True)


def test_the_key_is_not_in_the_settings_repr(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-do-not-print-me")
    assert "do-not-print-me" not in repr(read_settings())


def test_get_client_returns_the_real_sdk_client(recordings):
    assert isinstance(get_client("lesson", quiet=True), anthropic.Anthropic)


def test_env_example_lists_every_setting_the_workbook_reads():
    helpers_source = "\n".join(path.read_text() for path in (REPO_ROOT / "helpers").rglob("*.py"))
    read = set(re.findall(r'setting\("([A-Z_]+)"\)', helpers_source))
    assert {"ANTHROPIC_API_KEY", "WORKBOOK_MODE"} <= read, "the scan for settings found too little"
    example = (REPO_ROOT / ".env.example").read_text()
    missing = sorted(name for name in read if f"{name}=" not in example)
    assert not missing, f".env.example does not document {missing}"
