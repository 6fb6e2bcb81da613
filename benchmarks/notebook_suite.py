"""How much of the notebook tests' time is more than starting kernels?

    .venv/bin/python benchmarks/notebook_suite.py [--repeat N]

Measures the bare floor: for each notebook, start one kernel, import what that
notebook imports, and stop it, one after another. Then the nbval part of the
suite (every notebook, both editions), run one notebook at a time. The two
alternate for N rounds (3 by default) and each keeps its fastest. Last, the suite
once more, spread over the cores as `workbook.py test` runs it. The goal is a sequential
ratio under 1.3: the lessons themselves (replayed calls, checks, plots) should
add little to the kernels' own cost. This is a measurement, not a test: machines
differ, so nothing here passes or fails.
"""

from __future__ import annotations

import argparse
import ast
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from jupyter_client.manager import start_new_kernel

from instructor.grading import parsed_code_cells
from workbook_base.environment import TEST_ENVIRONMENT, with_test_environment

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from workbook import PARALLEL  # noqa: E402 - after the path is set

GOAL = 1.3


def notebooks() -> list[Path]:
    return sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("solutions/*.ipynb")])


def imports_of(path: Path) -> str:
    """The import statements of a notebook's code cells, as one block of code."""
    lines = []
    for _, tree in parsed_code_cells(nbformat.read(path, as_version=4)):
        lines += [ast.unparse(node) for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)]
    return "\n".join(lines)


def time_suite(options: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *options, *map(str, notebooks())],
        cwd=ROOT,
        env=with_test_environment(),
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def time_bare_kernels() -> float:
    os.environ.update(TEST_ENVIRONMENT)
    started = time.perf_counter()
    for path in notebooks():
        manager, client = start_new_kernel(kernel_name="python3", cwd=str(path.parent))
        try:
            client.execute_interactive(imports_of(path) or "pass", timeout=120)
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rounds of floor and suite, interleaved (default 3)")
    rounds = parser.parse_args().repeat
    count = len(notebooks())
    # One run swings by a tenth or more on a shared machine, so the floor and the suite
    # alternate and each keeps its fastest round: the time with the least interference.
    bares, sequentials = [], []
    for round_number in range(1, rounds + 1):
        bares.append(time_bare_kernels())
        sequentials.append(time_suite(["-p", "no:xdist"]))
        print(f"round {round_number}: floor {bares[-1]:5.1f} s, nbval {sequentials[-1]:5.1f} s", flush=True)
    bare, sequential = min(bares), min(sequentials)
    parallel = time_suite(PARALLEL)
    print(f"notebooks:                                 {count}")
    print(f"bare kernels + imports, one at a time:     {bare:6.1f} s  (fastest of {rounds})")
    print(f"nbval over the same notebooks, one at a time: {sequential:6.1f} s  ratio {sequential / bare:.2f}")
    print(f"nbval as `workbook.py test` runs it:       {parallel:6.1f} s  ratio {parallel / bare:.2f}")
    print(f"goal: a one-at-a-time ratio under {GOAL}")


if __name__ == "__main__":
    main()
