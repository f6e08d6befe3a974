"""Modules imported on their first use instead of when a library that names them is imported.

Great Expectations imports scipy.stats and altair as it is imported, for expectations and charts
that the input contract does not use: a second of every run's start-up (docs/performance.md).
`defer` puts a stand-in in `sys.modules`; the library binds the stand-in, and the first name read
from it imports the module, which then replaces it for every later import.
"""

from __future__ import annotations

import importlib
import sys
import types


class _DeferredModule(types.ModuleType):
    def __getattr__(self, attribute: str) -> object:
        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attribute)


def defer(*names: str) -> None:
    """Defers each module not imported yet."""
    for name in names:
        if name not in sys.modules:
            sys.modules[name] = _DeferredModule(name)
