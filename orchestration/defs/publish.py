"""Publishing: runs only after every ingest and dbt check of the run passed."""


import dagster as dg
import duckdb
from dagster_dbt import get_asset_key_for_model

from orchestration import settings
from orchestration.lib import warehouse
from orchestration.defs.transform import cx_dbt_models
from orchestration.lib.dbt import DAILY_FRESHNESS
from orchestration.lib.headline import latest_complete_month
from orchestration.lib.publishing import publish_marts


@dg.asset(
    key=["serving", "cx_metrics"],
    deps=[get_asset_key_for_model([cx_dbt_models], table) for table in settings.PUBLISHED_TABLES],
    group_name="serving",
    kinds={"duckdb", "parquet"},
    freshness_policy=DAILY_FRESHNESS,
    owners=["team:data-engineering"],
    description=(
        "The serving database serving/cx_metrics.duckdb (schema cx) and serving/parquet/<table>.parquet "
        "that BI tools read, switched in atomically after the quality gate passed. Its metadata carries "
        "the headline metrics of the latest complete month, plotted across runs."
    ),
)
def published_metrics(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    paths = settings.paths()
    con = warehouse.connect(paths.warehouse_db, read_only=True)
    try:
        as_of = warehouse.as_of_date(con)
    finally:
        con.close()
    publication = publish_marts(paths, settings.PUBLISHED_TABLES, as_of, context.run_id, settings.PUBLISHED_BY_KEY)
    context.log.info(f"published {', '.join(f'cx.{t} ({n} rows)' for t, n in publication.tables.items())} as of {as_of}")
    con = duckdb.connect(str(paths.serving_db), read_only=True)
    try:
        headline = latest_complete_month(con)
    finally:
        con.close()
    return dg.MaterializeResult(
        metadata={
            "as_of_date": as_of.isoformat(),
            "tables": dg.MetadataValue.json(publication.tables),
            "serving_db": dg.MetadataValue.path(str(paths.serving_db)),
            "headline_month": headline.month.isoformat() if headline.month else "none complete yet",
            # Numbers, so that the UI plots each one across runs.
            **{column: dg.MetadataValue.float(value) for column, value in headline.values.items() if value is not None},
        }
    )
