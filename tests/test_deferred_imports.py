"""scipy.stats and altair, which Great Expectations imports but the contract does not use, load on
first use (orchestration/lib/deferred_imports.py)."""

import subprocess
import sys

PROBE = """
import sys
import orchestration.lib.validation
print(type(sys.modules["scipy.stats"]).__name__, type(sys.modules["altair"]).__name__)
from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl
print(round(float(kl.stats.entropy([0.5, 0.5], [0.9, 0.1])), 6), type(sys.modules["scipy.stats"]).__name__)
import scipy.stats
print(scipy.stats is sys.modules["scipy.stats"], scipy.stats.entropy is kl.stats.entropy)
"""


def test_the_modules_great_expectations_does_not_need_load_on_first_use():
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)

    before, used, imported_later = result.stdout.splitlines()
    assert before == "_DeferredModule _DeferredModule"
    # 0.5 ln(0.5 / 0.9) + 0.5 ln(0.5 / 0.1), by the expectation that reads scipy.stats: the real module.
    assert used == "0.510826 module"
    assert imported_later == "True True"
