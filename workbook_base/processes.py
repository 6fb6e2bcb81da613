"""Stopping a process the workbook started: politely first, then for sure (standard library only)."""

from __future__ import annotations

import subprocess


def stop_process(process: subprocess.Popen, grace_s: float) -> None:
    """Ask `process` to end (SIGTERM), give it `grace_s` seconds to tidy up, then kill it; always reaped,
    and its pipes, if any, drained (communicate, not wait, so a full pipe cannot hold it up)."""
    if process.poll() is None:
        process.terminate()
    try:
        process.communicate(timeout=grace_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
