"""Starts the nightly job as soon as a new day of extracts is complete, before the 02:00 schedule."""

import dagster as dg

from orchestration import settings
from orchestration.defs.schedules import nightly_job
from orchestration.lib.warehouse import latest_complete_extract_date


@dg.sensor(
    job=nightly_job,
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Runs the nightly job when every entity has delivered its file for a new extract date.",
)
def complete_extract_day(context: dg.SensorEvaluationContext) -> dg.SensorResult | dg.SkipReason:
    extracts_dir = settings.paths().extracts_dir
    day = latest_complete_extract_date(extracts_dir)
    if day is None:
        return dg.SkipReason(f"No complete day of extracts in {extracts_dir} yet.")
    # The cursor is the last day a run was requested for: each complete day starts one run.
    if context.cursor and day.isoformat() <= context.cursor:
        return dg.SkipReason(f"Extracts of {day} already triggered a run; waiting for a newer complete day.")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"extracts-{day}")], cursor=day.isoformat())
