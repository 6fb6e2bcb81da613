"""The reply lesson 00 shows beside the hosted one: the same question, answered by the small local model.

It was recorded from llama.cpp's `llama-server` running SmolLM2-135M-Instruct (`python3 workbook.py
local`), by `.venv/bin/python -m instructor.record_local_reply`, into recordings/00_local_model.json,
which says which server build and which model gave it. It is read from there as it was recorded,
whatever mode the workbook is in: no request is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from anthropic.types import Message

from workbook_base.local_model import LOCAL_MODEL_SIZE

from .errors import CorruptRecordingError
from .recordings import RecordingFile, recorded_message
from .replies import reply_text
from .settings import RECORDINGS_DIR

LOCAL_RECORDING = RECORDINGS_DIR / "00_local_model.json"


@dataclass(frozen=True)
class LocalReply:
    """One recorded exchange with the local model, and where it came from."""

    question: str
    message: Message
    seconds: float | None  # from sending the request to the whole reply, on the machine that recorded it
    model: str
    server: str
    recorded_on: str


def recorded_local_reply(path: Path = LOCAL_RECORDING) -> LocalReply:
    """The first exchange in `path`, a recording made from the local model."""
    file = RecordingFile(path)
    for item in file.data["interactions"]:
        message = recorded_message(item["responses"][-1])
        if item.get("provenance") == "local" and message is not None:
            question = item["request"]["body"]["messages"][-1]["content"]
            return LocalReply(
                question=question if isinstance(question, str) else str(question),
                message=message,
                seconds=item["responses"][-1].get("elapsed"),
                model=item["model"],
                server=item.get("server", "llama.cpp llama-server"),
                recorded_on=item["recorded_on"],
            )
    raise CorruptRecordingError(
        f"{path} holds no reply from the local model: restore it with `git checkout -- {path.name}` in its folder."
    )


def show_local_reply(path: Path = LOCAL_RECORDING) -> LocalReply:
    """Print the recorded local reply with its provenance, and return it."""
    local = recorded_local_reply(path)
    usage = local.message.usage
    took = f" in {local.seconds:.1f} s" if local.seconds is not None else ""
    print(f"Asked: {local.question!r}")
    print(
        f"Answered by {local.model}, a {LOCAL_MODEL_SIZE} open-weight model (not Claude), on a CPU, served by "
        f"{local.server}; recorded {local.recorded_on}."
    )
    print(f"Reply: {reply_text(local.message)}")
    print(
        f"{usage.input_tokens} input and {usage.output_tokens} output tokens{took}; no price per token: "
        "it ran on the machine, and the prompt never left it."
    )
    return local
