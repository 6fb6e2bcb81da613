"""Every pytest run, however it is started, uses the test environment: replay, no key.

The notebooks' kernels are started by nbval after this runs, so they inherit it too.
"""

import os

from workbook_base.environment import TEST_ENVIRONMENT

os.environ.update(TEST_ENVIRONMENT)

# Checks that read nbval's one execution of each notebook (plots, verdicts), for both editions.
pytest_plugins = ["tests.notebook_checks"]
