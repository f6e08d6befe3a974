import os

os.environ["DO_NOT_TRACK"] = "1"
os.environ["GX_ANALYTICS_ENABLED"] = "false"

import pytest  # noqa: E402

from orchestration import settings  # noqa: E402


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A fresh, empty CX_DATA_DIR for one test."""
    monkeypatch.setenv("CX_DATA_DIR", str(tmp_path / "data"))
    # Set through monkeypatch so that what the pipeline derives from them is undone after the test.
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "data" / "dagster"))
    monkeypatch.setenv("CX_WAREHOUSE_PATH", "")
    settings.export_dbt_env()
    return settings.paths()


@pytest.fixture(scope="session")
def dbt_manifest():
    """dbt's manifest, which the Dagster definitions load (prepare_if_dev only runs under `dagster dev`)."""
    from orchestration.lib.dbt import ensure_manifest

    ensure_manifest()
