"""A streamed request whose reply the SDK could not read: a notice and the reply, or one clear line."""

from __future__ import annotations

import asyncio

import pytest

from helpers import MODEL, get_async_client, get_client
from helpers.stream_shapes import JSON_FOR_A_STREAM, StreamWithoutStartError
from tools.standin.http import StandinServer

REQUEST = {"model": MODEL, "max_tokens": 100, "messages": [{"role": "user", "content": "Hello"}]}


def live(monkeypatch, server: StandinServer, tmp_path) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", server.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "test-key")
    monkeypatch.setenv("WORKBOOK_MODE", "live")
    monkeypatch.setenv("WORKBOOK_RECORDINGS_DIR", str(tmp_path))


def test_a_stream_answered_as_json_is_read_as_one_stream_after_one_notice(monkeypatch, tmp_path, capsys):
    with StandinServer(plain_text=True, stream_as_json=True) as server:
        live(monkeypatch, server, tmp_path)
        with get_client("lesson", quiet=True).messages.stream(**REQUEST) as stream:
            text = "".join(stream.text_stream)
            final = stream.get_final_message()
        plain = get_client("lesson", quiet=True).messages.create(**REQUEST)
    assert text and text == final.content[0].text == plain.content[0].text
    assert final.usage.output_tokens == plain.usage.output_tokens
    assert capsys.readouterr().out.count(JSON_FOR_A_STREAM) == 1, "one notice, and only for the stream"


def test_the_async_face_reads_a_stream_answered_as_json_too(monkeypatch, tmp_path):
    async def streamed() -> str:
        async with get_async_client("lesson", quiet=True).messages.stream(**REQUEST) as stream:
            return (await stream.get_final_message()).content[0].text

    with StandinServer(plain_text=True, stream_as_json=True) as server:
        live(monkeypatch, server, tmp_path)
        assert asyncio.run(streamed())


def test_a_stream_without_message_start_is_one_clear_error(monkeypatch, tmp_path):
    with StandinServer(llama_cpp=True, stream_without_start=True) as server:
        live(monkeypatch, server, tmp_path)
        client = get_client("lesson", quiet=True)
        with pytest.raises(StreamWithoutStartError, match=r"`message_start`"), client.messages.stream(**REQUEST) as s:
            s.get_final_message()
