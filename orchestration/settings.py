"""Every path and tunable of the pipeline, in one place.

`CX_DATA_DIR` selects the data folder (default: `data/` in the repository). Everything the pipeline
reads or writes lives under it, so two data folders never share state.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
# dbt's artifacts (manifest, parse state), and under it each dagster-dbt build's own folder.
DBT_TARGET_DIR = DBT_PROJECT_DIR / "target"
DAGSTER_HOME_TEMPLATE = REPO_ROOT / "orchestration" / "dagster.yaml"

# Telemetry is off everywhere, whatever the caller's environment says.
os.environ["DO_NOT_TRACK"] = "1"
os.environ["GX_ANALYTICS_ENABLED"] = "false"
os.environ["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"

# The nightly run starts at 02:00 UTC (or earlier, as soon as a day of extracts is complete); BI
# users read the tables in the morning, so the published tables are due fresh by 07:00 UTC.
NIGHTLY_CRON = "0 2 * * *"
FRESH_BY_CRON = "0 7 * * *"

SERVING_SCHEMA = "cx"
# Files BI tools open must stay readable by DuckDB 1.x clients.
SERVING_STORAGE_VERSION = "v1.0.0"
PUBLISHED_TABLES = (
    "cx_mrr_monthly",
    "cx_churn_monthly",
    "cx_revenue_monthly",
    "cx_tickets_monthly",
    "cx_costs_monthly",
    "cx_clv_monthly",
    "cx_surveys_monthly",
    "cx_feedback",
    "cx_cohort_retention",
    "cx_roi_drivers",
    "cx_customer_360",
    "cx_segment_monthly",
)
# Incremental marts a publication copies from the last one but for the rows written since, by their
# unique key: writing cx_feedback's two million responses whole took 3.2 s of a nightly run at a
# million accounts, its night's rows 0.3 s (docs/performance.md).
PUBLISHED_BY_KEY = {"cx_feedback": "response_id"}


@dataclass(frozen=True)
class Paths:
    data_dir: Path

    @property
    def extracts_dir(self) -> Path:
        return self.data_dir / "extracts"

    @property
    def warehouse_db(self) -> Path:
        return self.data_dir / "warehouse" / "cx_warehouse.duckdb"

    @property
    def serving_dir(self) -> Path:
        return self.data_dir / "serving"

    @property
    def current_publication(self) -> Path:
        """Link to the folder of the live publication; serving_db and parquet_dir lead through it."""
        return self.serving_dir / "current"

    @property
    def previous_publication(self) -> Path:
        """Link to the publication before the live one, kept for readers until the next publication."""
        return self.serving_dir / "previous"

    @property
    def serving_db(self) -> Path:
        return self.serving_dir / "cx_metrics.duckdb"

    @property
    def parquet_dir(self) -> Path:
        return self.serving_dir / "parquet"

    @property
    def dbt_docs_dir(self) -> Path:
        """The dbt docs site of this data folder's warehouse (its catalog is this warehouse's)."""
        return self.data_dir / "dbt_docs"

    @property
    def report_html(self) -> Path:
        return self.serving_dir / "report.html"

    @property
    def dagster_home(self) -> Path:
        return self.data_dir / "dagster"


def data_dir() -> Path:
    return Path(os.environ.get("CX_DATA_DIR", REPO_ROOT / "data")).resolve()


def paths() -> Paths:
    return Paths(data_dir())


def quarantine_threshold() -> float:
    """Largest share of an entity's rows in one run that may be quarantined before the run fails."""
    return float(os.environ.get("CX_QUARANTINE_THRESHOLD", "0.01"))


def duckdb_memory_limit() -> str:
    return os.environ.get("CX_DUCKDB_MEMORY_LIMIT", "8GB")


def export_dbt_env() -> None:
    """dbt's profiles.yml reads the warehouse path from the environment."""
    p = paths()
    p.warehouse_db.parent.mkdir(parents=True, exist_ok=True)
    os.environ["CX_WAREHOUSE_PATH"] = str(p.warehouse_db)
    os.environ["CX_DUCKDB_MEMORY_LIMIT"] = duckdb_memory_limit()


def prepare_dagster_home() -> Path:
    """Points DAGSTER_HOME at the data folder, with the repository's dagster.yaml (telemetry off)."""
    home = paths().dagster_home
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    template = DAGSTER_HOME_TEMPLATE.read_text()
    if not config.exists() or config.read_text() != template:
        config.write_text(template)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
