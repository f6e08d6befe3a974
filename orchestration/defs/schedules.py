"""The nightly job and its 02:00 schedule (running as soon as the code location loads)."""

import dagster as dg

from orchestration import settings

nightly_job = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.all(),
    description="Ingest new extracts, build and test the dbt models, publish the marts if every check passed.",
)

nightly_schedule = dg.ScheduleDefinition(
    job=nightly_job,
    cron_schedule=settings.NIGHTLY_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
