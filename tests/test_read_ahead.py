"""Warming the page cache for the dbt build: once per process, and only a warehouse that fits in half the
memory available."""

import os

from orchestration.lib import page_cache

CONTENT = b"duckdb" * 200  # 1,200 bytes


def test_a_warehouse_within_half_the_available_memory_is_read_through_unchanged(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    db.write_bytes(CONTENT)

    thread = page_cache.read_ahead(db, available_memory=2 * len(CONTENT))

    assert thread is not None
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert db.read_bytes() == CONTENT
    # The next steps of the run (in the same process) do not read it again.
    assert page_cache.read_ahead(db, available_memory=2 * len(CONTENT)) is thread


def test_the_read_through_sends_the_whole_file_in_chunks(tmp_path, monkeypatch):
    db = tmp_path / "warehouse.duckdb"
    db.write_bytes(CONTENT)
    calls = []
    sendfile = os.sendfile

    def recording_sendfile(out_fd, in_fd, offset, count):
        calls.append((offset, count))
        return sendfile(out_fd, in_fd, offset, count)

    monkeypatch.setattr(page_cache, "_SENDFILE_CHUNK", 500)
    monkeypatch.setattr(page_cache.os, "sendfile", recording_sendfile)

    page_cache._read_through(db)

    # 500 + 500 + 200 bytes, then the end of the file.
    assert calls == [(0, 500), (500, 500), (1000, 500), (1200, 500)]


def test_a_warehouse_over_half_the_available_memory_is_left_to_the_build(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    db.write_bytes(CONTENT)

    assert page_cache.read_ahead(db, available_memory=2 * len(CONTENT) - 1) is None


def test_nothing_is_read_before_the_first_build(tmp_path):
    assert page_cache.read_ahead(tmp_path / "warehouse.duckdb", available_memory=1 << 30) is None


def test_nothing_is_read_where_the_available_memory_is_unknown(tmp_path, monkeypatch):
    db = tmp_path / "warehouse.duckdb"
    db.write_bytes(CONTENT)
    monkeypatch.setattr(page_cache, "_available_memory", lambda: None)

    assert page_cache.read_ahead(db) is None
