"""python -m helpers forget [LESSON ...]: the workbook's maintenance commands (see workbook.py)."""

import sys

from .recordings import main

raise SystemExit(main(sys.argv[1:]))
