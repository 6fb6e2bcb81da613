"""`python3 workbook.py check-server` (helpers/server_check.py): what a server can do, probed against the stand-in."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from helpers.server_check import FEATURES, check_server, missing, probe
from helpers.settings import read_settings
from helpers.setup_check import setup_report
from instructor import record_lessons
from tests.conftest import FAKE_KEY
from tests.test_live_path import CLOSED
from tools.standin.http import StandinServer

# Each degraded shape the stand-in serves, and the features a probe must find missing in it.
SHAPES = {
    "full": ({}, set()),
    "stream as JSON": ({"stream_as_json": True}, {"stream"}),
    "no count_tokens, no batches": ({"missing": {"count_tokens": 500, "batches": 501}}, {"count_tokens", "batches"}),
    "batches 404": ({"missing": {"batches": 404}}, {"batches"}),
    "batch create as a Message": ({"batch_create_as_message": True}, {"batches"}),
    "llama-server": ({"llama_cpp": True}, {"tools", "structured", "thinking", "rate_limits", "batches"}),
    "plain text": (
        {"plain_text": True},
        {"count_tokens", "tools", "structured", "thinking", "rate_limits", "batches"},
    ),
}


def point_at(monkeypatch: pytest.MonkeyPatch, url: str, key: str = FAKE_KEY) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", key)


@pytest.mark.parametrize("shape", SHAPES, ids=list(SHAPES))
def test_each_shape_gives_its_missing_features_and_a_line_for_each(shape, recordings, monkeypatch):
    options, expected = SHAPES[shape]
    with StandinServer(**options) as server:
        point_at(monkeypatch, server.url)
        results = probe(read_settings())
        assert [result.feature for result in results] == list(FEATURES), "a feature was not probed"
        assert set(missing(results)) == expected, [(r.feature, r.detail) for r in results]
        lines = check_server()
    missing_lines = [line for line in lines if line.startswith("Missing")]
    assert len(missing_lines) == len(expected), lines
    for feature in expected:
        assert any(FEATURES[feature].name in line and FEATURES[feature].lessons in line for line in missing_lines)
    assert "not Anthropic's API" in lines[0], lines[0]


def test_a_dead_server_is_one_line(recordings, monkeypatch):
    point_at(monkeypatch, CLOSED)
    lines = check_server()
    assert len(lines) == 2 and lines[1].startswith("Could not probe it:"), lines


def test_with_neither_key_nor_base_url_there_is_nothing_to_probe(recordings, monkeypatch):
    point_at(monkeypatch, "", "")
    lines = check_server()
    assert len(lines) == 1 and "ANTHROPIC_BASE_URL" in lines[0], lines


def test_the_command_never_shows_a_traceback(recordings, monkeypatch):
    environment = {**os.environ, "ANTHROPIC_BASE_URL": CLOSED, "ANTHROPIC_API_KEY": FAKE_KEY}
    result = subprocess.run(
        [sys.executable, "-m", "helpers.server_check"], env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0 and "Traceback" not in result.stdout + result.stderr, result.stderr
    assert "Could not probe it" in result.stdout, result.stdout


def test_lesson_00_shows_the_table_only_with_a_key_or_a_base_url(recordings, monkeypatch):
    point_at(monkeypatch, "", "")
    assert "check-server" not in setup_report(), "replay without a key must show nothing new"
    with StandinServer(stream_as_json=True) as server:
        point_at(monkeypatch, server.url)
        report = setup_report()
        monkeypatch.setenv("WORKBOOK_MODE", "replay")
        replay = setup_report()
    assert "Missing stream" in report, report
    assert "Missing" not in replay and "check-server" in replay, "replay mode sends nothing, not even a probe"


def test_the_rerecord_command_says_first_what_will_be_lost(recordings, monkeypatch, capsys):
    with StandinServer(missing={"count_tokens": 500}) as server:
        record_lessons.say_what_will_be_lost(server.url, FAKE_KEY)
    out = capsys.readouterr().out
    assert "Missing count_tokens" in out and "will lose" in out, out
