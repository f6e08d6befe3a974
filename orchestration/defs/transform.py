"""dbt models as assets, dbt tests as their asset checks; a failing error-level test fails the step."""


import json
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration import settings
from orchestration.lib import warehouse
from orchestration.lib.dbt import DBT_PROJECT, CxDbtTranslator


def _as_of_date() -> str:
    con = warehouse.connect(settings.paths().warehouse_db, read_only=True)
    try:
        as_of = warehouse.as_of_date(con)
    finally:
        con.close()
    if as_of is None:
        raise dg.Failure(f"No extract has been landed yet: put files under {settings.paths().extracts_dir}")
    return as_of.isoformat()


def _describe_failures(run_results: dict) -> tuple[str, dict]:
    """Names each failed dbt node with the first rows its test stored, so the log says what broke."""
    failed = [r for r in run_results.get("results", []) if r.get("status") in ("fail", "error")]
    con = warehouse.connect(settings.paths().warehouse_db, read_only=True)
    try:
        lines, samples = [], {}
        for result in failed:
            name = result["unique_id"].split(".")[2]
            # Only tests store failing rows; a failed model's relation holds no evidence.
            is_test = result["unique_id"].startswith("test.")
            rows = warehouse.failed_test_samples(con, result.get("relation_name") or "") if is_test else []
            samples[name] = rows
            message = " ".join((result.get("message") or "").split())
            lines.append(f"{name}: {message}" + (f"; failing rows: {rows}" if rows else ""))
    finally:
        con.close()
    summary = f"{len(failed)} dbt node(s) failed the quality gate; nothing was published:\n" + "\n".join(lines)
    return summary, samples


def _with_failing_rows(failed_checks: list[dg.AssetCheckResult], manifest: dict) -> list[dg.AssetCheckResult]:
    """Adds the first rows each failed dbt test stored (store_failures) to its check's metadata, so
    the UI shows what failed, not only how many rows did."""
    if not failed_checks:
        return []
    con = warehouse.connect(settings.paths().warehouse_db, read_only=True)
    try:
        enriched = []
        for check in failed_checks:
            unique_id = check.metadata["unique_id"]
            unique_id = getattr(unique_id, "value", unique_id)
            relation = manifest["nodes"].get(unique_id, {}).get("relation_name") or ""
            rows = warehouse.failed_test_samples(con, relation)
            enriched.append(
                dg.AssetCheckResult(
                    passed=False,
                    asset_key=check.asset_key,
                    check_name=check.check_name,
                    severity=check.severity,
                    description=check.description,
                    metadata={**check.metadata, "sample": dg.MetadataValue.json(rows)},
                )
            )
        return enriched
    finally:
        con.close()


class MetricSettings(dg.Config):
    """Per-run overrides of the metric settings (dbt vars of dbt_project.yml), e.g. gross_margin_pct: 80."""

    dbt_vars: dict[str, Any] = {}


@dbt_assets(manifest=DBT_PROJECT.manifest_path, project=DBT_PROJECT, dagster_dbt_translator=CxDbtTranslator())
def cx_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, config: MetricSettings):
    settings.export_dbt_env()
    as_of = _as_of_date()
    context.log.info(f"dbt build as of {as_of}" + (f" with settings {config.dbt_vars}" if config.dbt_vars else ""))
    # Unit tests check the SQL, not the data: they run in the test suite, not every night.
    invocation = dbt.cli(
        ["build", "--vars", json.dumps({**config.dbt_vars, "as_of_date": as_of}), "--exclude", "test_type:unit"],
        context=context,
        raise_on_error=False,
    )
    failed_checks = []
    for event in invocation.stream():
        if isinstance(event, dg.AssetCheckResult) and not event.passed:
            failed_checks.append(event)  # its stored failing rows are readable once dbt lets go of the warehouse
        else:
            yield event
    yield from _with_failing_rows(failed_checks, invocation.manifest)
    if not invocation.is_successful():
        summary, samples = _describe_failures(invocation.get_artifact("run_results.json"))
        raise dg.Failure(description=summary, metadata={"failing_rows": dg.MetadataValue.json(samples)})
