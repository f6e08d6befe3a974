"""The event log storage of orchestration/dagster.yaml keeps one connection per database file, keeps
only a few run databases' connections however many runs are read, and signals each write to a
webserver watching the run's database file."""

import queue
import sqlite3
import time

from dagster._core.events.log import EventLogEntry

from orchestration.lib import event_log
from orchestration.lib.event_log import RUN_ENGINES_KEPT, CachedEngineSqliteEventLogStorage


def _message(run_id: str, text: str) -> EventLogEntry:
    return EventLogEntry(
        error_info=None, level=20, user_message=text, run_id=run_id, timestamp=time.time(), step_key=None,
        job_name="nightly", dagster_event=None,
    )


def _messages(storage: CachedEngineSqliteEventLogStorage, run_id: str) -> list[str]:
    return [record.event_log_entry.user_message for record in storage.get_records_for_run(run_id).records]


def _sqlite_connection(storage: CachedEngineSqliteEventLogStorage, run_id: str) -> sqlite3.Connection:
    with storage.run_connection(run_id) as conn:
        return conn.connection.dbapi_connection


def test_events_of_each_run_are_stored_through_one_connection_per_database(tmp_path):
    storage = CachedEngineSqliteEventLogStorage(str(tmp_path))
    run_ids = [f"run-{number}" for number in range(RUN_ENGINES_KEPT + 3)]
    for run_id in run_ids:
        storage.store_event(_message(run_id, "first"))
        connection = _sqlite_connection(storage, run_id)
        storage.store_event(_message(run_id, "second"))
        assert _sqlite_connection(storage, run_id) is connection
        assert connection.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL

    assert list(storage._run_engines) == run_ids[-RUN_ENGINES_KEPT:]
    # A run whose connection was let go is read (and written) through a new one.
    for run_id in run_ids:
        assert _messages(storage, run_id) == ["first", "second"]
    assert list(storage._run_engines) == run_ids[-RUN_ENGINES_KEPT:]


def test_a_webserver_watching_a_run_sees_each_event_as_it_is_stored(tmp_path):
    run_process = CachedEngineSqliteEventLogStorage(str(tmp_path))
    run_process.store_event(_message("run-a", "first"))
    webserver = CachedEngineSqliteEventLogStorage(str(tmp_path))
    seen: queue.Queue[str] = queue.Queue()
    webserver.watch("run-a", None, lambda entry, _cursor: seen.put(entry.user_message))
    try:
        run_process.store_event(_message("run-a", "second"))
        assert [seen.get(timeout=10), seen.get(timeout=10)] == ["first", "second"]
        run_process.store_event(_message("run-a", "third"))
        assert seen.get(timeout=10) == "third"
    finally:
        webserver.dispose()


def test_a_forked_process_opens_its_own_connections(tmp_path, monkeypatch):
    storage = CachedEngineSqliteEventLogStorage(str(tmp_path))
    storage.store_event(_message("run-a", "parent"))
    parents = _sqlite_connection(storage, "run-a")

    monkeypatch.setattr(event_log.os, "getpid", lambda: -1)
    storage.store_event(_message("run-a", "child"))

    assert _sqlite_connection(storage, "run-a") is not parents
    assert _messages(storage, "run-a") == ["parent", "child"]


def test_a_wiped_storage_recreates_the_run_databases_it_writes_to(tmp_path):
    storage = CachedEngineSqliteEventLogStorage(str(tmp_path))
    storage.store_event(_message("run-a", "before"))
    storage.wipe()

    storage.store_event(_message("run-a", "after"))

    assert _messages(storage, "run-a") == ["after"]
