"""What analysts see: every published table read through SQLAlchemy and duckdb-engine as Superset
reads it, with the dbt descriptions as comments, the same rows in the Parquet files, and the dbt
docs site."""

import json

import duckdb
import sqlalchemy

from orchestration import cli, settings
from published import published_rows


def test_every_published_table_reads_through_sqlalchemy_with_duckdb_engine(handbuilt_run):
    paths, _ = handbuilt_run
    published = dict(published_rows(paths, "SELECT table_name, row_count FROM cx._publication"))
    # The connection string the README gives for Superset.
    engine = sqlalchemy.create_engine(f"duckdb:///{paths.serving_db}?access_mode=read_only")
    try:
        inspector = sqlalchemy.inspect(engine)
        assert set(inspector.get_table_names(schema="cx")) == {*settings.PUBLISHED_TABLES, "_publication"}
        with engine.connect() as connection:
            for table in settings.PUBLISHED_TABLES:
                columns = [column["name"] for column in inspector.get_columns(table, schema="cx")]
                rows = connection.execute(sqlalchemy.text(f"SELECT * FROM cx.{table}")).fetchall()
                assert len(rows) == published[table], table
                assert len(rows[0]) == len(columns), table
            mrr = connection.execute(
                sqlalchemy.text("SELECT mrr_end FROM cx.cx_mrr_monthly WHERE month = :month"), {"month": "2024-02-01"}
            ).scalar_one()
    finally:
        engine.dispose()
    assert mrr == 400  # tests/fixtures/handbuilt/expected.md


def test_every_published_table_and_column_carries_its_dbt_description(handbuilt_run):
    paths, _ = handbuilt_run
    tables = published_rows(
        paths, "SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'cx' AND table_name LIKE 'cx_%'"
    )
    undocumented = published_rows(
        paths,
        "SELECT table_name, column_name FROM duckdb_columns() "
        "WHERE schema_name = 'cx' AND table_name LIKE 'cx_%' AND (comment IS NULL OR comment = '')",
    )

    assert {table for table, _ in tables} == set(settings.PUBLISHED_TABLES)
    assert all(comment for _, comment in tables)
    assert undocumented == []
    assert published_rows(
        paths, "SELECT comment FROM duckdb_columns() WHERE table_name = 'cx_mrr_monthly' AND column_name = 'mrr_end'"
    ) == [("MRR at the end of the month (for the running month, at the as-of date).",)]


def test_the_parquet_files_hold_the_published_rows(handbuilt_run):
    paths, _ = handbuilt_run
    for table in settings.PUBLISHED_TABLES:
        in_parquet = duckdb.sql(f"SELECT * FROM '{paths.parquet_dir / f'{table}.parquet'}' ORDER BY ALL").fetchall()
        assert in_parquet == published_rows(paths, f"SELECT * FROM cx.{table} ORDER BY ALL"), table


def test_the_dbt_docs_site_is_built_from_this_warehouse(handbuilt_run):
    paths, _ = handbuilt_run

    assert cli.main(["docs", "--no-serve"]) == 0

    catalog = json.loads((paths.dbt_docs_dir / "catalog.json").read_text())
    mrr = catalog["nodes"]["model.cx_metrics.cx_mrr_monthly"]
    assert mrr["metadata"]["schema"] == "marts"
    assert mrr["columns"]["mrr_end"]["comment"] == "MRR at the end of the month (for the running month, at the as-of date)."
    assert (paths.dbt_docs_dir / "index.html").stat().st_size > 100_000
