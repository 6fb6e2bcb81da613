"""Facts the lessons state about the API, checked against the installed SDK, so they cannot drift.

When a test here fails after an SDK upgrade, the SDK changed what is true: update the lesson (and
the constant in helpers/) to match, never the test's source of truth.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
import typing
from pathlib import Path

import anthropic
import pytest
from anthropic.resources.messages import Messages
from anthropic.resources.messages.messages import DEPRECATED_MODELS
from anthropic.types import Model, StopReason

from helpers import PRICES
from helpers.costs import Price
from helpers.models import DEFAULT_MODEL, MODELS
from helpers.settings import RECORDINGS_DIR

ROOT = Path(__file__).resolve().parent.parent
LESSON_SOURCES = sorted((ROOT / "source").glob("[0-9][0-9]_*.py"))
SCRIPTS = sorted((ROOT / "scripts").glob("*.py"))
CREATE_PARAMETERS = set(inspect.signature(Messages.create).parameters) - {"self"}
# What the SDK itself sends besides the create() arguments: stream=True for messages.stream().
SENT_BY_THE_SDK = {"stream"}


def literals(alias: object) -> set[str]:
    """The string literals of a typing alias such as Model or StopReason (nested unions included)."""
    found: set[str] = set()
    for argument in typing.get_args(alias):
        if isinstance(argument, str):
            found.add(argument)
        else:
            found |= literals(argument)
    return found


def test_the_default_model_is_one_the_sdk_knows_and_not_near_end_of_life():
    assert DEFAULT_MODEL in literals(Model), (
        f"{DEFAULT_MODEL} is not in the SDK's Model list (anthropic/types/model.py)"
    )
    assert DEFAULT_MODEL not in DEPRECATED_MODELS, f"{DEFAULT_MODEL} is deprecated: {DEPRECATED_MODELS[DEFAULT_MODEL]}"


def test_the_default_model_has_a_record_with_every_rate():
    assert DEFAULT_MODEL in MODELS, f"helpers/models.py has no record for its DEFAULT_MODEL, {DEFAULT_MODEL}"
    price = PRICES[DEFAULT_MODEL]
    for rate in Price.__dataclass_fields__:
        assert getattr(price, rate) > 0, f"PRICES[{DEFAULT_MODEL!r}].{rate} is not set"


def test_every_model_with_a_record_is_one_the_sdk_knows():
    unknown = set(MODELS) - literals(Model)
    assert not unknown, f"helpers/models.py has records for models the SDK does not know: {sorted(unknown)}"


def stop_reason_table() -> set[str]:
    """The first column of lesson 01's stop-reason table: the rows after its `stop_reason` header."""
    lines = (ROOT / "source" / "01_call_anatomy.py").read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# | `stop_reason` |"))
    rows = []
    for line in lines[start + 2 :]:
        if not line.startswith("# |"):
            break
        rows.append(line)
    return {match.group(1) for row in rows if (match := re.match(r"# \| `([a-z_]+)` \|", row))}


def test_lesson_01s_stop_reason_table_lists_exactly_the_sdks_stop_reasons():
    differ = sorted(stop_reason_table() ^ literals(StopReason))
    assert not differ, f"lesson 01's stop-reason table and anthropic.types.StopReason differ on {differ}"


def _calls_keywords(path: Path) -> set[tuple[str, str]]:
    """(file, keyword) for every keyword passed to a messages.create / messages.stream call in a file."""
    text = path.read_text(encoding="utf-8")
    found = set()
    for node in ast.walk(ast.parse(text)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("create", "stream")
        ):
            owner = node.func.value
            if isinstance(owner, ast.Attribute) and owner.attr == "messages":
                found |= {(path.name, keyword.arg) for keyword in node.keywords if keyword.arg}
    return found


@pytest.mark.parametrize("path", LESSON_SOURCES + SCRIPTS, ids=lambda path: path.name)
def test_every_argument_a_lesson_passes_is_a_parameter_of_messages_create(path):
    unknown = {keyword for _, keyword in _calls_keywords(path)} - CREATE_PARAMETERS
    assert not unknown, f"{path.name} passes {sorted(unknown)}, which Messages.create does not take"


@pytest.mark.parametrize("path", sorted(RECORDINGS_DIR.glob("*.json")), ids=lambda path: path.name)
def test_every_field_a_recorded_request_sent_is_a_parameter_of_messages_create(path):
    bodies = []
    for item in json.loads(path.read_text(encoding="utf-8"))["interactions"]:
        body = item["request"]["body"]
        if item["request"]["path"].rstrip("/").endswith("/messages/batches") and isinstance(body, dict):
            bodies += [request["params"] for request in body["requests"]]  # a batch: each request's own params
        else:
            bodies.append(body)
    sent = {name for body in bodies if isinstance(body, dict) for name in body}
    unknown = sent - CREATE_PARAMETERS - SENT_BY_THE_SDK
    assert not unknown, f"recordings/{path.name} holds requests with {sorted(unknown)}, not in Messages.create"


def test_the_sdk_has_no_sampling_parameters_on_create():
    """Lesson 01 says so: temperature and friends are gone, and passing one is a TypeError."""
    assert not {"temperature", "top_p", "top_k"} & CREATE_PARAMETERS
    with pytest.raises(TypeError):
        anthropic.Anthropic(api_key="x").messages.create(model=DEFAULT_MODEL, max_tokens=1, messages=[], temperature=0)
