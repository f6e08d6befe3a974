"""Dagster's run-sharded SQLite event log, keeping one SQLAlchemy engine per database file.

The stock storage creates an engine for every connection, and SQLAlchemy's cache of compiled
statements lives on the engine, so every event stored compiled its inserts again. A run of this
pipeline stores some 800 to 1,000 events (a planned event and a result for every asset and check),
one at a time in the run's process, between the dbt events it streams (docs/performance.md).
Connections are still opened for each use and never pooled (NullPool), under the same lock, as in the
stock storage: only the engine, with its statement cache, is kept; for the index database and the
most recently used run databases, so that a long-lived webserver browsing many runs keeps a few.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.pool import NullPool

# A run's process writes to the index and to its own run's database; the rest serve the UI's reads.
RUN_ENGINES_KEPT = 8


class CachedEngineSqliteEventLogStorage(SqliteEventLogStorage):
    """The `event_log_storage` of orchestration/dagster.yaml. `base_dir` defaults to the folder of
    Dagster's default storage under `$DAGSTER_HOME` (set by `settings.prepare_dagster_home`),
    `history/runs`, so the runs stored before stay in the UI."""

    def __init__(self, base_dir: str, inst_data=None):
        self._index_engine: Engine | None = None
        self._run_engines: OrderedDict[str, Engine] = OrderedDict()
        super().__init__(base_dir, inst_data=inst_data)

    @classmethod
    def config_type(cls):
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        base_dir = config_value.get("base_dir") or os.path.join(os.environ["DAGSTER_HOME"], "history", "runs")
        return cls(base_dir, inst_data=inst_data)

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    def _engine(self, shard: str) -> Engine:
        if shard == INDEX_SHARD_NAME:
            if self._index_engine is None:
                self._index_engine = self._create_engine(shard)
            return self._index_engine
        engine = self._run_engines.pop(shard, None) or self._create_engine(shard)
        self._run_engines[shard] = engine
        while len(self._run_engines) > RUN_ENGINES_KEPT:
            self._run_engines.popitem(last=False)[1].dispose()
        return engine

    def _create_engine(self, shard: str) -> Engine:
        return create_engine(
            self.conn_string_for_shard(shard),
            poolclass=NullPool,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS},
        )
