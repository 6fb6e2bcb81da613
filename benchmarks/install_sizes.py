"""How big and how slow is each install, on a clean virtual environment with nothing cached?

    .venv/bin/python benchmarks/install_sizes.py

Creates a fresh virtual environment in a temporary folder for each set of requirements, the
lessons' (requirements.txt, what `python3 workbook.py lab` installs) and the developers'
(requirements-dev.txt, what `python3 workbook.py test` installs), installs it with pip's cache
turned off, and reports the time taken and the environment's size on disk. It needs the network
(the package index). This is a measurement, not a test: networks and machines differ.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIREMENTS = {
    "lessons (workbook.py lab)": "requirements.txt",
    "everything (workbook.py test)": "requirements-dev.txt",
}


def size_of(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file() and not path.is_symlink())


def measure(requirements: str) -> tuple[float, int]:
    """(seconds to install, bytes on disk) for one requirements file, in a fresh environment."""
    with tempfile.TemporaryDirectory(prefix="install-size-") as scratch:
        environment = Path(scratch) / "venv"
        venv.create(environment, with_pip=True)
        python = environment / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
        empty = size_of(environment)
        started = time.perf_counter()
        pip = [python, "-m", "pip", "install", "--quiet", "--no-cache-dir", "--disable-pip-version-check"]
        installed = subprocess.run(
            [*pip, "-r", ROOT / requirements],
            cwd=ROOT,
            capture_output=True,  # pip's own notes about this machine's index settings: shown only on failure
            text=True,
        )
        seconds = time.perf_counter() - started
        if installed.returncode != 0:
            sys.exit(f"installing {requirements} failed:\n{installed.stderr[-2000:]}")
        return seconds, size_of(environment) - empty


def main() -> None:
    print(f"Python {sys.version.split()[0]}; a fresh virtual environment each, pip's cache off")
    print("| Install | Installs | Size | Time |")
    print("|---|---|---|---|")
    for label, requirements in REQUIREMENTS.items():
        seconds, size = measure(requirements)
        print(f"| {label} | `{requirements}` | {size / 1e6:.0f} MB | {seconds:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
