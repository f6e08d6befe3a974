"""The event log storage of orchestration/dagster.yaml keeps an engine per database file, and keeps
only a few run databases' engines however many runs are read."""

import time

from dagster._core.events.log import EventLogEntry

from orchestration.lib.event_log import RUN_ENGINES_KEPT, CachedEngineSqliteEventLogStorage


def _message(run_id: str, text: str) -> EventLogEntry:
    return EventLogEntry(
        error_info=None, level=20, user_message=text, run_id=run_id, timestamp=time.time(), step_key=None,
        job_name="nightly", dagster_event=None,
    )


def test_events_of_each_run_are_stored_through_one_engine_per_database(tmp_path):
    storage = CachedEngineSqliteEventLogStorage(str(tmp_path))
    run_ids = [f"run-{number}" for number in range(RUN_ENGINES_KEPT + 3)]
    for run_id in run_ids:
        storage.store_event(_message(run_id, "first"))
        engine = storage._run_engines[run_id]
        storage.store_event(_message(run_id, "second"))
        assert storage._run_engines[run_id] is engine

    assert list(storage._run_engines) == run_ids[-RUN_ENGINES_KEPT:]
    # A run whose engine was let go is read (and written) through a new one.
    for run_id in run_ids:
        assert [record.event_log_entry.user_message for record in storage.get_records_for_run(run_id).records] == [
            "first", "second",
        ]
    assert list(storage._run_engines) == run_ids[-RUN_ENGINES_KEPT:]


def test_a_wiped_storage_recreates_the_run_databases_it_writes_to(tmp_path):
    storage = CachedEngineSqliteEventLogStorage(str(tmp_path))
    storage.store_event(_message("run-a", "before"))
    storage.wipe()

    storage.store_event(_message("run-a", "after"))

    assert [record.event_log_entry.user_message for record in storage.get_records_for_run("run-a").records] == ["after"]
