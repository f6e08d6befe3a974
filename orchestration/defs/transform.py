"""dbt models as assets, dbt tests as their asset checks; a failing error-level test fails the step."""


import json
import os
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration import settings
from orchestration.lib import build_mode, page_cache, warehouse
from orchestration.lib.dbt import DBT_PROJECT, CxDbtTranslator, keep_parse_state, prune_invocation_targets


def _plan_build(dbt_vars: dict[str, Any]) -> build_mode.BuildPlan:
    manifest = json.loads(DBT_PROJECT.manifest_path.read_text())
    con = warehouse.connect(settings.paths().warehouse_db, read_only=True)
    try:
        if warehouse.as_of_date(con) is None:
            raise dg.Failure(f"No extract has been landed yet: put files under {settings.paths().extracts_dir}")
        fingerprint = build_mode.project_sql_fingerprint(manifest, Path(DBT_PROJECT.project_dir) / "dbt_project.yml")
        return build_mode.plan_build(con, dbt_vars, fingerprint, build_mode.incremental_tables(manifest))
    finally:
        con.close()


def _export_build_values(plan: build_mode.BuildPlan) -> None:
    """The build's as-of date and watermark, for the dbt macro build_value."""
    for name, value in plan.dbt_env().items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def _record_attempt(plan: build_mode.BuildPlan, run_id: str) -> None:
    con = warehouse.connect(settings.paths().warehouse_db, checkpoint_on_close=False)
    try:
        build_mode.record_attempt(con, plan, run_id)
    finally:
        con.close()


def _record_success(run_id: str) -> None:
    con = warehouse.connect(settings.paths().warehouse_db, checkpoint_on_close=False)
    try:
        build_mode.record_success(con, run_id)
    finally:
        con.close()


def _failing_rows(run_results: dict) -> dict[str, list[dict]]:
    """The first failing rows of each failed or warning dbt test, by unique_id. Read once dbt has
    finished: it holds the warehouse's write lock while it runs."""
    tests = [
        r for r in run_results.get("results", [])
        if r["unique_id"].startswith("test.") and r.get("status") in ("fail", "warn", "error")
    ]
    if not tests:
        return {}
    con = warehouse.connect(settings.paths().warehouse_db, read_only=True)
    try:
        return {r["unique_id"]: warehouse.failing_test_rows(con, r.get("compiled_code") or "") for r in tests}
    finally:
        con.close()


def _describe_failures(run_results: dict, failing_rows: dict[str, list[dict]]) -> str:
    """Names each failed dbt node with its test's first failing rows, so the log says what broke."""
    failed = [r for r in run_results.get("results", []) if r.get("status") in ("fail", "error")]
    lines = []
    for result in failed:
        rows = failing_rows.get(result["unique_id"])
        message = " ".join((result.get("message") or "").split())
        lines.append(f"{result['unique_id'].split('.')[2]}: {message}" + (f"; failing rows: {rows}" if rows else ""))
    return f"{len(failed)} dbt node(s) failed the quality gate; nothing was published:\n" + "\n".join(lines)


def _with_failing_rows(check: dg.AssetCheckResult, failing_rows: dict[str, list[dict]]) -> dg.AssetCheckResult:
    """The check with its dbt test's first failing rows, so the UI shows what failed, not only how many."""
    unique_id = getattr(check.metadata["unique_id"], "value", check.metadata["unique_id"])
    return dg.AssetCheckResult(
        passed=False,
        asset_key=check.asset_key,
        check_name=check.check_name,
        severity=check.severity,
        description=check.description,
        metadata={**check.metadata, "sample": dg.MetadataValue.json(failing_rows.get(unique_id, []))},
    )


class MetricSettings(dg.Config):
    """Per-run overrides of the metric settings (dbt vars of dbt_project.yml), e.g. gross_margin_pct: 80."""

    dbt_vars: dict[str, Any] = {}


@dbt_assets(manifest=DBT_PROJECT.manifest_path, project=DBT_PROJECT, dagster_dbt_translator=CxDbtTranslator())
def cx_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: MetricSettings):
    settings.export_dbt_env()
    plan = _plan_build(config.dbt_vars)
    context.log.info(
        f"dbt build as of {plan.as_of_date}" + (f" with settings {config.dbt_vars}" if config.dbt_vars else "")
        + f": {plan.mode} ({plan.reason})"
    )
    build_metadata = {"build_mode": plan.mode, "build_mode_reason": plan.reason}
    page_cache.read_ahead(settings.paths().warehouse_db)
    _record_attempt(plan, context.run_id)
    prune_invocation_targets(settings.DBT_TARGET_DIR, context.op_execution_context.op.name)
    _export_build_values(plan)
    # No dbt.log: its debug events, every statement of every node, cost the nightly build about 2 s
    # of dbt's time (docs/decisions.md). Dagster keeps dbt's events, target/ the SQL that ran.
    invocation = dbt.cli(["build", "--log-level-file", "none", *plan.dbt_args()], context=context, raise_on_error=False)
    failed_checks = []
    for event in invocation.stream():
        if isinstance(event, dg.AssetCheckResult) and not event.passed:
            failed_checks.append(event)  # completed with its failing rows once dbt has finished
        elif isinstance(event, dg.Output):
            yield event.with_metadata({**event.metadata, **build_metadata})
        else:
            yield event
    keep_parse_state(invocation.target_path)
    run_results = invocation.get_artifact("run_results.json")
    failing_rows = _failing_rows(run_results)
    for check in failed_checks:
        yield _with_failing_rows(check, failing_rows)
    if not invocation.is_successful():
        raise dg.Failure(
            description=_describe_failures(run_results, failing_rows),
            metadata={"failing_rows": dg.MetadataValue.json(failing_rows), **build_metadata},
        )
    # A subset (some models picked in the UI) may have left incremental models behind: only a whole
    # build can be the watermark of the next one.
    if not context.is_subset:
        _record_success(context.run_id)
