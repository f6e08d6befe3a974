"""Warming the page cache with the warehouse file before the dbt build reads it.

Only the standard library is imported here: `cx-pipeline run` starts the read-ahead, beside dbt's
worker, before it imports anything heavy (Dagster, dbt, Great Expectations), so that the reading
overlaps the whole start-up.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


def read_ahead(db_path: Path, available_memory: int | None = None) -> threading.Thread | None:
    """Reads the warehouse file front to back in a background thread, once per process, so that the
    dbt build finds it in the page cache: DuckDB reads a table's blocks one at a time as a query
    needs them, and from a cold cache a nightly build at a million accounts spent a quarter of its
    node time waiting for them, where one sequential read of the whole file takes seconds
    (docs/performance.md). `cx-pipeline run` starts it before its imports, so the reading overlaps
    start-up and ingest; a run's steps share one process (in-process executor), and the
    ingest and dbt steps start it in a run launched otherwise (the Dagster UI). Skipped
    when the file would take more than half of the memory available (MemAvailable, Linux only): the
    cache would then evict what it had just read."""
    with _read_ahead_lock:
        if db_path in _read_aheads:
            return _read_aheads[db_path]
        if available_memory is None:
            available_memory = _available_memory()
        if not db_path.is_file() or available_memory is None or db_path.stat().st_size > available_memory // 2:
            return None
        thread = threading.Thread(target=_read_through, args=(db_path,), name="warehouse-read-ahead", daemon=True)
        thread.start()
        _read_aheads[db_path] = thread
        return thread


_read_aheads: dict[Path, threading.Thread] = {}
_read_ahead_lock = threading.Lock()
_SENDFILE_CHUNK = 1 << 30


def _read_through(path: Path) -> None:
    # sendfile to /dev/null fills the page cache without copying the file into this process: reading
    # it into a buffer cost 9 to 21 s of system CPU for the 8.5 GiB warehouse at a million accounts,
    # taken from the imports, the ingest and the build beside it, against 0.3 s (docs/performance.md).
    try:
        with path.open("rb", buffering=0) as source, open(os.devnull, "wb", buffering=0) as sink:
            offset = 0
            while sent := os.sendfile(sink.fileno(), source.fileno(), offset, _SENDFILE_CHUNK):
                offset += sent
    except OSError:
        pass  # Only a warm-up: the build reads what it needs itself, and reports its own errors.


def _available_memory() -> int | None:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None
