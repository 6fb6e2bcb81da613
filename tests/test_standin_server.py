"""The stand-in server as a process: what it prints beside the replies it serves."""

from __future__ import annotations

import pytest

from tools.standin.http import StandinServer

CLIENT = ("127.0.0.1", 50000)


@pytest.mark.parametrize("hang_up", [BrokenPipeError(32, "Broken pipe"), ConnectionResetError(104, "reset by peer")])
def test_a_client_that_hangs_up_mid_reply_prints_no_traceback_but_a_bug_still_does(capsys, hang_up):
    with StandinServer() as server:
        for error in (hang_up, ValueError("a bug in the stand-in")):
            try:
                raise error
            except Exception:  # as socketserver calls handle_error: inside the handler's except block
                server.httpd.handle_error(None, CLIENT)
    printed = capsys.readouterr().err
    assert type(hang_up).__name__ not in printed, f"a client hanging up printed a traceback:\n{printed}"
    assert "ValueError: a bug in the stand-in" in printed, "a real error in the stand-in must still show"
