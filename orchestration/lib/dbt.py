"""The dbt project as Dagster sees it: where it lives, how its nodes become assets."""

from __future__ import annotations

import importlib.metadata
import os
import shutil
from collections.abc import Mapping, Sequence
from datetime import timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, DbtProject
from packaging import version

from orchestration import settings
from orchestration.lib import warm_dbt

settings.export_dbt_env()
DBT_PROJECT = DbtProject(
    project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR, target_path=settings.DBT_TARGET_DIR
)
DBT_PROJECT.prepare_if_dev()
LAYERS = ("staging", "intermediate", "marts", "semantic")
KEPT_INVOCATION_TARGETS = 7
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
# The published tables must have been rebuilt in the 24 hours before 07:00 UTC every day.
DAILY_FRESHNESS = dg.FreshnessPolicy.cron(deadline_cron=settings.FRESH_BY_CRON, lower_bound_delta=timedelta(hours=24))




class CxDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt resource without two costs it pays before every dbt command, some 5 s a
    build (docs/performance.md): it ran `dbt --version` to learn the version of the dbt beside this
    interpreter, which is the dbt-core installed with it; and it opened a dbt adapter in this
    process, which only serves `fetch_row_counts` and `fetch_column_metadata`, not called here (dbt
    runs in its own process either way). Both hooks are private: dagster-dbt is pinned."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> None:
        return None


def dbt_resource() -> DbtCliResource:
    # dbt run by the worker `cx-pipeline run` starts early if one waits, else dbt itself.
    return CxDbtCliResource(project_dir=DBT_PROJECT, dbt_executable=str(warm_dbt.CX_DBT_EXECUTABLE))


def _manifest_is_current() -> bool:
    manifest = DBT_PROJECT.manifest_path
    if not manifest.exists():
        return False
    written_at = manifest.stat().st_mtime
    for folder, subfolders, files in os.walk(settings.DBT_PROJECT_DIR):
        if Path(folder) == settings.DBT_PROJECT_DIR:
            # dbt's own output, not the project: never walked (a run's target/ holds thousands of files).
            subfolders[:] = [name for name in subfolders if name not in ("target", "logs")]
        if any(Path(folder, name).stat().st_mtime >= written_at for name in files):
            return False
    return True


def prune_invocation_targets(target_path: Path, op_name: str) -> None:
    """Each dbt build of a run writes its own folder under target/, named after the op that runs it
    (compiled SQL, run results: some 30 MB), which neither dbt nor dagster-dbt removes. Only the
    newest are kept, enough to look into the last week of nightly runs."""
    invocations = sorted(
        (folder for folder in target_path.glob(f"{op_name}-*") if folder.is_dir()),
        key=lambda folder: folder.stat().st_mtime,
        reverse=True,
    )
    for folder in invocations[KEPT_INVOCATION_TARGETS:]:
        shutil.rmtree(folder, ignore_errors=True)


def keep_parse_state(invocation_target: Path) -> None:
    """Makes a build's parse state (partial_parse.msgpack) the one the next dbt command starts from.
    dagster-dbt copies target/'s into each build's own folder and never back, so every build
    compared itself with the last `dbt parse`, run with other vars or another profile, and parsed
    the whole project again (about 6 s)."""
    state = invocation_target / PARTIAL_PARSE_FILE
    if not state.exists():
        return
    kept = settings.DBT_TARGET_DIR / PARTIAL_PARSE_FILE
    staged = kept.with_name(f".{PARTIAL_PARSE_FILE}.{os.getpid()}")
    shutil.copyfile(state, staged)
    os.replace(staged, kept)


def ensure_manifest() -> None:
    """Writes target/manifest.json when the project changed; `dagster dev` does this itself."""
    settings.export_dbt_env()
    if not _manifest_is_current():
        dbt_resource().cli(["parse", "--quiet"], target_path=settings.DBT_TARGET_DIR).wait()


class CxDbtTranslator(DagsterDbtTranslator):
    """Groups dbt models by layer (their folder under models/), seeds as user-editable settings."""

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props.get("resource_type") == "seed":
            return "settings"
        folders = dbt_resource_props.get("fqn", [])[1:-1]
        return next((layer for layer in LAYERS if layer in folders), super().get_group_name(dbt_resource_props))

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return ["team:data-engineering"]

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        if manifest["nodes"].get(unique_id, {}).get("name") in settings.PUBLISHED_TABLES:
            return spec.replace_attributes(freshness_policy=DAILY_FRESHNESS)
        return spec
