"""Dagster's run-sharded SQLite event log, keeping one open connection per database file.

The stock storage creates an engine, and opens and closes a connection, for every use. A run of this
pipeline stores some 650 to 1,000 events (a planned event and a result for every asset and check),
one at a time in the run's process, between the dbt events it streams, and reads about as often:
the SQL compiled again for every new engine, and every closed connection checkpointed and removed
the write-ahead log it had just written (docs/performance.md). Here each database file keeps one
engine with one connection (used under the storage's lock, as the stock one), committing without
waiting for the disk (`synchronous=NORMAL`: after a power cut the last events may be missing, the
file stays sound). A webserver follows a running run by watching its database file change, and
reads the new events through SQLite, write-ahead log included: after a write the file's times are
set, which its watcher sees, where a checkpoint into the file cost a large nightly run about a
second. The index and the 8 run databases used last keep theirs, so that a long-lived webserver
browsing many runs keeps a few.
"""

from __future__ import annotations

import os
import sqlite3
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager

from dagster import Field, StringSource
from dagster._core.storage.event_log.sqlite.sqlite_event_log import INDEX_SHARD_NAME, SqliteEventLogStorage
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.pool import StaticPool

# A run's process writes to the index and to its own run's database; the rest serve the UI's reads.
RUN_ENGINES_KEPT = 8


class CachedEngineSqliteEventLogStorage(SqliteEventLogStorage):
    """The `event_log_storage` of orchestration/dagster.yaml. `base_dir` defaults to the folder of
    Dagster's default storage under `$DAGSTER_HOME` (set by `settings.prepare_dagster_home`),
    `history/runs`, so the runs stored before stay in the UI."""

    def __init__(self, base_dir: str, inst_data=None):
        self._index_engine: Engine | None = None
        self._run_engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_pid = os.getpid()
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
            with engine.connect() as conn:
                sqlite_connection: sqlite3.Connection = conn.connection.dbapi_connection
                changes_before = sqlite_connection.total_changes
                with conn.begin():
                    yield conn
                if shard != INDEX_SHARD_NAME and sqlite_connection.total_changes != changes_before:
                    os.utime(self.path_for_shard(shard))

    def _engine(self, shard: str) -> Engine:
        if self._engines_pid != os.getpid():
            # A forked child must not share its parent's SQLite connections: it opens its own.
            self._forget_engines(close=False)
            self._engines_pid = os.getpid()
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
        engine = create_engine(
            self.conn_string_for_shard(shard),
            poolclass=StaticPool,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        event.listen(engine, "connect", _commit_without_waiting_for_the_disk)
        return engine

    def _forget_engines(self, close: bool) -> None:
        engines = [*self._run_engines.values(), *([self._index_engine] if self._index_engine else [])]
        for engine in engines:
            engine.dispose(close=close)
        self._run_engines.clear()
        self._index_engine = None

    def wipe(self) -> None:
        # The run databases are deleted: their open connections must not outlive the files.
        with self._db_lock:
            self._forget_engines(close=True)
        super().wipe()

    def dispose(self) -> None:
        with self._db_lock:
            self._forget_engines(close=True)
        super().dispose()


def _commit_without_waiting_for_the_disk(dbapi_connection: sqlite3.Connection, _connection_record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
