"""The README's generated tables, written from the one home of their facts; a test fails when one is stale.

    python -m tools.readme_tables            # rewrite them in README.md
    python -m tools.readme_tables --check    # exit 1 if one is stale

Each table sits between two markers, `<!-- NAME -->` and `<!-- /NAME -->`; what is between them is
replaced. tools/build_notebooks.py rewrites them too, on every build.
"""

from __future__ import annotations

import argparse
import re
import textwrap
from collections.abc import Callable
from pathlib import Path

from helpers import models
from helpers.costs import Price

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


class MarkerError(Exception):
    """README.md lacks a generated table's markers."""


def _dollars(amount: float) -> str:
    return f"${amount:,.2f}"


def _tokens(count: int) -> str:
    """1M, 200K, or the count itself: as the models' pages write a context window."""
    for size, suffix in ((1_000_000, "M"), (1_000, "K")):
        if count % size == 0:
            return f"{count // size:,}{suffix}"
    return f"{count:,}"


def models_table() -> str:
    """Every model in helpers/models.py: its prices and its context window."""
    rows = [
        "| Model | Input | Output | Cache write, 5 min | Cache write, 1 h | Cache read | Context window |",
        "|---|--:|--:|--:|--:|--:|--:|",
    ]
    for model in models.MODELS.values():
        label = f"{model.name}, `{model.id}`" + (" (the default)" if model.id == models.DEFAULT_MODEL else "")
        price = Price.of(model)
        rates = (price.input, price.output, price.cache_write, price.cache_write_1h, price.cache_read)
        cells = [label, *map(_dollars, rates), _tokens(model.context_window)]
        rows.append("| " + " | ".join(cells) + " |")
    caption = (
        f"US dollars per million tokens; the Message Batches API bills {models.BATCH_DISCOUNT:.0%} of these. "
        "Generated from `helpers/models.py`, which names its sources and the date they were checked."
    )
    return "\n".join([*rows, "", *textwrap.wrap(caption, width=100)])


TABLES: dict[str, Callable[[], str]] = {"models-table": models_table}


def with_fresh_tables(readme: str) -> str:
    """The README's text with every generated table written anew from its facts."""
    for name, table in TABLES.items():
        begin, end = f"<!-- {name} -->", f"<!-- /{name} -->"
        pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end), flags=re.DOTALL)
        if not pattern.search(readme):
            raise MarkerError(f"README.md has no {begin} ... {end} markers on lines of their own for the {name}")
        fresh = f"{begin}\n{table()}\n{end}"
        readme = pattern.sub(lambda _, fresh=fresh: fresh, readme, count=1)  # a function: no escapes read
    return readme


def is_stale(path: Path = README) -> bool:
    text = path.read_text(encoding="utf-8")
    return with_fresh_tables(text) != text


def write(path: Path = README) -> bool:
    """Rewrite the README's generated tables; True when that changed the file."""
    text = path.read_text(encoding="utf-8")
    fresh = with_fresh_tables(text)
    if fresh != text:
        path.write_text(fresh, encoding="utf-8")
    return fresh != text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="only report whether a table is stale")
    args = parser.parse_args()
    try:
        if args.check:
            if is_stale():
                raise SystemExit("README.md's generated tables are stale. Rewrite them: python -m tools.readme_tables")
            print("README.md's generated tables are up to date")
        else:
            print("README.md's tables rewritten" if write() else "README.md's tables were up to date")
    except MarkerError as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    main()
