"""A pytest plugin loaded before all others (`-p tests.startup` in pyproject.toml): a faster start.

nbval imports nbformat, nbformat imports jsonschema, and jsonschema, if it can, imports
rfc3987_syntax (which comes with JupyterLab's dependencies), whose Earley grammar takes about a
second to build, in every pytest process and every xdist worker. It serves only jsonschema's
"iri" formats, which neither the notebook format nor any test here uses; jsonschema goes without
it when it cannot be imported, so it is made unimportable, in the test processes only.
"""

import sys

sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type] - None makes `import` raise ImportError
