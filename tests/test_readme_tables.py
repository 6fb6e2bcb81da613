"""The README's generated tables are written from helpers/: prove they are fresh, and that a changed fact shows."""

from __future__ import annotations

import dataclasses

import pytest

from helpers import models
from instructor.pack import student_readme
from tools import readme_tables


def test_the_readme_tables_match_their_facts():
    assert not readme_tables.is_stale(), (
        "README.md's generated tables are stale. Run: .venv/bin/python -m tools.readme_tables"
    )


def test_a_changed_price_makes_the_models_table_stale(monkeypatch):
    readme = readme_tables.README.read_text(encoding="utf-8")
    default = models.MODELS[models.DEFAULT_MODEL]
    changed = dataclasses.replace(default, input_price=default.input_price + 1)
    monkeypatch.setitem(models.MODELS, default.id, changed)
    assert readme_tables.with_fresh_tables(readme) != readme, "a changed input price left the README's table as it was"


def test_the_models_table_has_a_row_per_model_and_marks_the_default_alone():
    rows = [line for line in readme_tables.models_table().splitlines() if line.startswith("| ") and "`" in line]
    named = [row.split("`")[1] for row in rows]
    assert named == list(models.MODELS), f"the table's rows name {named}, not the records of helpers/models.py"
    marked = [model_id for model_id, row in zip(named, rows, strict=True) if "(the default)" in row]
    assert marked == [models.DEFAULT_MODEL], f"the table marks {marked} as the default, not {models.DEFAULT_MODEL}"
    widths = {row.count("|") for row in readme_tables.models_table().splitlines() if row.startswith("|")}
    assert len(widths) == 1, "the table's rows have different numbers of cells"


def test_a_readme_without_the_markers_is_refused_with_their_names():
    with pytest.raises(readme_tables.MarkerError, match="<!-- models-table -->"):
        readme_tables.with_fresh_tables("# A README\n\nNo table here.\n")


def test_the_student_pack_readme_keeps_the_table_without_its_markers():
    readme = student_readme(readme_tables.README.read_text(encoding="utf-8"))
    assert readme_tables.models_table() in readme, "the student pack's README lost the models table"
    assert "models-table" not in readme, "the student pack's README shows the table's markers"
