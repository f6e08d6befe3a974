"""The Dagster code location: ingest -> dbt (staging, intermediate, marts) -> serving -> report."""

import dagster as dg

from orchestration.defs.ingest import ingest
from orchestration.defs.publish import published_metrics
from orchestration.defs.report import cx_report
from orchestration.defs.schedules import nightly_job, nightly_schedule
from orchestration.defs.sensors import complete_extract_day
from orchestration.defs.transform import cx_dbt_models
from orchestration.lib.dbt import dbt_resource

defs = dg.Definitions(
    assets=[ingest, cx_dbt_models, published_metrics, cx_report],
    jobs=[nightly_job],
    schedules=[nightly_schedule],
    sensors=[complete_extract_day],
    resources={"dbt": dbt_resource()},
    # One process: DuckDB allows one writer per file, and the steps run one after another anyway.
    executor=dg.in_process_executor,
)
