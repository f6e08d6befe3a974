"""The closing summary of `cx-pipeline run`: what came in, what was held back, what was published."""

from __future__ import annotations

from dagster import AssetCheckSeverity, DagsterEventType, DagsterInstance, ExecuteInProcessResult

from orchestration.lib.build_mode import HISTORY_WIDE_TAG, INCREMENTAL

# Step keys of the nightly job that are not ingest steps, by the stage they are.
STAGE_OF_STEP = {"cx_dbt_models": "dbt build", "serving__cx_metrics": "publish", "serving__cx_report": "report"}
STAGES = ("ingest", "dbt build", "publish", "report")


def _metadata_value(entry):
    return getattr(entry, "value", entry)


def _failure_message(data) -> str:
    """The user's own description, else the innermost error (Dagster wraps it in its own)."""
    if data.user_failure_data and data.user_failure_data.description:
        return data.user_failure_data.description
    error = data.error
    while error.cause is not None:
        error = error.cause
    return f"{error.cls_name}: {error.message}"


def stage_seconds(instance: DagsterInstance, run_id: str) -> dict[str, float]:
    """Wall-clock seconds of each stage of a run: from its first step's start to its last step's end."""
    spans: dict[str, list[float]] = {}
    ends = (DagsterEventType.STEP_SUCCESS, DagsterEventType.STEP_FAILURE)
    for entry in instance.all_logs(run_id, of_type={DagsterEventType.STEP_START, *ends}):
        stage = STAGE_OF_STEP.get(entry.step_key, "ingest")
        spans.setdefault(stage, []).append(entry.timestamp)
    return {stage: round(max(spans[stage]) - min(spans[stage]), 1) for stage in STAGES if stage in spans}


def _checks_not_run(instance: DagsterInstance, run_id: str, evaluations) -> list:
    """The checks the run planned and never evaluated: the history-wide data tests an incremental
    build leaves to the full refreshes, and the tests of a build stopped before them."""
    planned = {
        (entry.dagster_event.asset_check_planned_data.asset_key, entry.dagster_event.asset_check_planned_data.check_name)
        for entry in instance.all_logs(run_id, of_type=DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED)
    }
    evaluated = {(evaluation.asset_key, evaluation.check_name) for evaluation in evaluations}
    return sorted(planned - evaluated, key=lambda check: (check[0].to_user_string(), check[1]))


def summarize(result: ExecuteInProcessResult, instance: DagsterInstance) -> str:
    ingest_rows = {}
    published = None
    build = None
    for event in result.get_asset_materialization_events():
        materialization = event.step_materialization_data.materialization
        metadata = {k: _metadata_value(v) for k, v in materialization.metadata.items()}
        path = "/".join(materialization.asset_key.path)
        if "rows_read" in metadata:
            ingest_rows[path] = metadata
        elif "tables" in metadata and "as_of_date" in metadata:
            published = metadata
        elif "build_mode" in metadata:
            build = metadata

    evaluations = result.get_asset_check_evaluations()
    failed_checks = [e for e in evaluations if not e.passed and e.severity == AssetCheckSeverity.ERROR]
    warnings = [e for e in evaluations if not e.passed and e.severity == AssetCheckSeverity.WARN]
    not_run = _checks_not_run(instance, result.run_id, evaluations)

    lines = ["", "=" * 72, f"Nightly run {'SUCCEEDED' if result.success else 'FAILED'} (run id {result.run_id})"]
    if ingest_rows:
        files = [record.data for metadata in ingest_rows.values() for record in metadata["files"].records]
        read = sum(m["rows_read"] for m in ingest_rows.values())
        landed = sum(m["rows_landed"] for m in ingest_rows.values())
        quarantined = sum(m["rows_quarantined"] for m in ingest_rows.values())
        held_back = sum(m["rows_held_back"] for m in ingest_rows.values())
        lines.append(f"Files in:         {len(files)} new or re-delivered")
        lines.append(
            f"Rows in:          {read:,} read = {landed:,} landed + {quarantined:,} quarantined"
            + (f" + {held_back:,} held back (entity rolled back)" if held_back else "")
        )
        for counts in sorted(files, key=lambda f: f["file"]):
            lines.append(
                f"  {counts['file']:<40} {counts['rows_read']:>10,} read {counts['rows_landed']:>10,} landed "
                f"{counts['rows_quarantined']:>7,} quarantined"
                + (f" {counts['rows_held_back']:>7,} held back" if counts["rows_held_back"] else "")
            )
    if build:
        lines.append(f"dbt build:        {build['build_mode']} ({build['build_mode_reason']})")
    passed = len(evaluations) - len(failed_checks) - len(warnings)
    lines.append(
        f"Checks:           {passed} passed, {len(warnings)} warned, {len(failed_checks)} failed"
        + (f", {len(not_run)} not run" if not_run else "")
    )
    for asset_key, check_name in not_run:
        lines.append(f"  NOT RUN {asset_key.to_user_string()} :: {check_name}")
    if not_run and build and build["build_mode"] == INCREMENTAL:
        lines.append(f"          (an incremental build leaves the data tests tagged {HISTORY_WIDE_TAG} to the full refreshes)")
    for evaluation in warnings:
        lines.append(f"  WARN   {evaluation.asset_key.to_user_string()} :: {evaluation.check_name}")
    for evaluation in failed_checks:
        lines.append(f"  FAILED {evaluation.asset_key.to_user_string()} :: {evaluation.check_name}")
        sample = _metadata_value(evaluation.metadata.get("sample", []))
        lines.extend(f"         {problem}" for problem in sample)
    if published:
        tables = ", ".join(f"cx.{name} ({rows} rows)" for name, rows in published["tables"].items())
        lines.append(f"Published:        {tables}")
        lines.append(f"As-of date:       {published['as_of_date']}")
    else:
        lines.append("Published:        nothing; the tables published before stay as they were")
    for failure in result.get_step_failure_events():
        data = failure.step_failure_data
        lines.append(f"Failed step {failure.step_key}: {_failure_message(data).strip()}")
    stages = stage_seconds(instance, result.run_id)
    lines.append("Stage times:      " + ", ".join(f"{stage} {seconds:,.1f} s" for stage, seconds in stages.items()))
    lines.append("=" * 72)
    return "\n".join(lines)
