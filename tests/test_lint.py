"""ruff over the code and the notebooks: lint and formatting, with the settings in pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ruff(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=ROOT, capture_output=True, text=True)


def test_ruff_finds_no_lint_problems():
    result = ruff("check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_would_change_nothing():
    result = ruff("format", "--check", ".")
    assert result.returncode == 0, "run `ruff format .`:\n" + result.stdout


def imported_packages(path: Path) -> set[str]:
    """The top-level names a module imports (absolute imports only: relative ones stay in its package)."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.level == 0}
    return {name.split(".")[0] for name in names if name}


def test_helpers_import_neither_the_launcher_nor_a_tool_nor_the_instructors_code():
    """Lessons and the student pack get helpers/ alone: what it imports must ship with it."""
    for path in sorted((ROOT / "helpers").rglob("*.py")):
        wrong = imported_packages(path) & {"workbook", "tools", "instructor", "tests", "benchmarks"}
        assert not wrong, f"{path.relative_to(ROOT)} imports {', '.join(sorted(wrong))}"


def test_workbook_base_needs_only_the_standard_library():
    """workbook.py imports it on a bare system Python, before .venv/ exists."""
    for path in sorted((ROOT / "workbook_base").rglob("*.py")):
        outside = imported_packages(path) - set(sys.stdlib_module_names) - {"__future__", "workbook_base"}
        assert not outside, f"{path.relative_to(ROOT)} imports {', '.join(sorted(outside))}, not the standard library"
