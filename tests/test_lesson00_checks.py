"""Lesson 00's exercise checks, and what every check shares: names looked up, never a raise, clear words."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from helpers import MODEL, get_client
from helpers.checks import NOT_YET, PASS, safely
from helpers.checks.lesson00 import ANSWERS, check_local_settings, check_placements
from helpers.checks.lesson03 import check_chat
from helpers.errors import MissingRecordingError

GOOD_SETTINGS = {
    "ANTHROPIC_BASE_URL": "http://localhost:11434",
    "ANTHROPIC_API_KEY": "ollama",
    "WORKBOOK_MODEL": "qwen3:8b",
    "WORKBOOK_MODE": "live",
}


def verdict(capsys) -> str:
    return capsys.readouterr().out.strip()


def test_the_right_placements_pass(capsys):
    check_placements(dict(ANSWERS))
    assert verdict(capsys).startswith(PASS)


def test_a_wrong_placement_names_the_situation(capsys):
    check_placements({**ANSWERS, "offline": "hosted"})
    out = verdict(capsys)
    assert out.startswith(NOT_YET) and "'offline'" in out


def test_placeholders_are_not_yet(capsys):
    check_placements(dict.fromkeys(ANSWERS, ...))
    assert verdict(capsys).startswith(NOT_YET)


def test_the_right_local_settings_pass(capsys):
    check_local_settings(GOOD_SETTINGS)
    assert verdict(capsys).startswith(PASS)


@pytest.mark.parametrize(
    ("change", "hint"),
    [
        ({"ANTHROPIC_BASE_URL": "http://localhost:11434/v1"}, "leave /v1 off"),
        ({"ANTHROPIC_BASE_URL": "http://localhost:8000"}, "the port is 8000"),
        ({"ANTHROPIC_BASE_URL": "localhost:11434"}, "has no scheme"),
        ({"ANTHROPIC_BASE_URL": "https://localhost:11434"}, "plain HTTP"),
        ({"ANTHROPIC_BASE_URL": "http://ollama.com:11434"}, "runs on this machine"),
        ({"ANTHROPIC_BASE_URL": "http://localhost:11434/api"}, "leave the path '/api' off"),
        ({"ANTHROPIC_BASE_URL": "http://localhost"}, "names no port"),
        ({"ANTHROPIC_BASE_URL": "http://[::1"}, "is not an address"),
        ({"ANTHROPIC_API_KEY": ""}, "non-empty"),
        ({"ANTHROPIC_API_KEY": "sk-ant-api03-real"}, "real Anthropic key"),
        ({"WORKBOOK_MODEL": "claude-sonnet-4-6"}, "qwen3:8b"),
        ({"WORKBOOK_MODE": "auto"}, "'live'"),
    ],
)
def test_each_settings_mistake_gets_a_specific_hint(capsys, change, hint):
    check_local_settings({**GOOD_SETTINGS, **change})
    out = verdict(capsys)
    assert out.startswith(NOT_YET) and hint in out, out


# --- every check: called by name, it never raises ----------------------------------------

SOURCES = Path(__file__).resolve().parent.parent / "source"
CHECK_CALL = re.compile(r"^(check_\w+)\((.*)\)", re.MULTILINE)


def check_cells() -> list[tuple[str, str, list[str]]]:
    """(lesson, check, the names it is given) for every check call in source/*.py."""
    found = []
    for path in sorted(SOURCES.glob("0*.py")):
        for match in CHECK_CALL.finditer(path.read_text(encoding="utf-8")):
            arguments = ast.parse(f"f({match[2]})").body[0].value.args
            names = [arg.value if isinstance(arg, ast.Constant) else ast.unparse(arg) for arg in arguments]
            found.append((path.stem, match[1], names))
    return found


def test_every_check_cell_passes_names_so_a_failed_cell_above_cannot_raise_a_name_error():
    cells = check_cells()
    assert {lesson[:2] for lesson, _, _ in cells} == {"00", "01", "02", "03", "04", "05", "06", "07"}, cells
    for lesson, check, names in cells:
        assert names and all(re.fullmatch(r"[a-z_]\w*", name) for name in names), f"{lesson}: {check}({names})"


@pytest.mark.parametrize(("lesson", "check", "names"), check_cells(), ids=lambda value: str(value))
def test_a_check_whose_names_are_missing_says_run_the_cells_above_and_never_raises(lesson, check, names, capsys):
    module = importlib.import_module(f"helpers.checks.lesson{lesson[:2]}")
    namespace = {"check": getattr(module, check)}
    exec(f"check({', '.join(map(repr, names))})", namespace)  # as the notebook cell runs it, names undefined
    out = verdict(capsys)
    assert out.startswith(NOT_YET) and "run the cells above first" in out and f"`{names[0]}`" in out, out


def test_a_check_finds_the_name_among_the_callers_variables(capsys):
    placements = dict(ANSWERS)
    check_placements("placements")
    assert verdict(capsys).startswith(PASS), placements


def test_a_check_finds_a_notebook_global_as_a_cell_defines_it(capsys):
    namespace = {"check_placements": check_placements, "placements": dict(ANSWERS)}
    exec('check_placements("placements")', namespace)
    assert verdict(capsys).startswith(PASS)


# --- the wrapper's words for an exception ----------------------------------------------------


def test_an_exception_without_a_message_shows_just_its_type(capsys):
    def bad(placements):
        raise AssertionError

    safely(bad)(dict(ANSWERS))
    out = verdict(capsys)
    assert out.startswith(NOT_YET) and "raised AssertionError." in out and "AssertionError:" not in out, out


def test_a_message_ending_in_a_period_gets_no_second_one(capsys):
    def bad(placements):
        raise ValueError("the value is wrong.")

    safely(bad)(dict(ANSWERS))
    out = verdict(capsys)
    assert "raised ValueError: the value is wrong. Read" in out and ".." not in out, out


def test_a_name_error_in_the_students_code_suggests_running_the_cells_above(capsys):
    safely(lambda placements: undefined_in_a_cell_above)(dict(ANSWERS))  # noqa: F821
    out = verdict(capsys)
    assert "NameError" in out and "run the cells above first" in out, out


def test_a_missing_recording_from_the_students_own_client_says_use_the_client_passed_in(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("WORKBOOK_RECORDINGS_DIR", str(tmp_path))
    monkeypatch.setenv("WORKBOOK_MODE", "replay")
    notebook_client = get_client("03_statelessness", max_retries=0, quiet=True)  # the notebook's `client`

    def chat_with_the_notebooks_client(client, messages, user_text):
        messages.append({"role": "user", "content": user_text})
        reply = notebook_client.messages.create(model=MODEL, max_tokens=100, messages=messages)
        return reply.content[0].text

    check_chat(chat_with_the_notebooks_client)
    out = verdict(capsys)
    assert out.startswith(NOT_YET) and "use the client passed to your function" in out.lower(), out
    assert "undo your edit" not in out, out


def test_a_missing_recording_raised_outside_the_students_code_keeps_its_own_message(capsys):
    from helpers.checks import explain

    assert "undo your edit" in explain(MissingRecordingError("nothing matches: undo your edit to the cell."))


def test_a_name_the_workbook_defines_but_the_student_did_not_import_gets_the_import_line():
    from helpers.checks import explain

    try:
        is_transient  # noqa: B018 - deliberately undefined here
    except NameError as err:
        assert explain(err).endswith("Import it first: from helpers.retries import is_transient")
    try:
        no_such_name_anywhere  # noqa: B018
    except NameError as err:
        assert "run the cells above first" in explain(err)


def test_students_code_that_calls_sys_exit_gets_a_hint_and_does_not_end_the_check(capsys):
    def bad(placements):
        raise SystemExit(3)

    safely(bad)(dict(ANSWERS))
    out = verdict(capsys)
    assert out.startswith(NOT_YET) and "SystemExit" in out, out


def test_a_missing_standard_module_is_not_offered_from_a_helpers_module(capsys):
    safely(lambda placements: json.dumps(placements))(dict(ANSWERS))  # noqa: F821 - `json` not imported here
    out = verdict(capsys)
    assert "NameError" in out and "from helpers" not in out, out
