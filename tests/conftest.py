import contextlib
import io
import os
import shutil
from pathlib import Path

os.environ["DO_NOT_TRACK"] = "1"
os.environ["GX_ANALYTICS_ENABLED"] = "false"

import pytest  # noqa: E402

from orchestration import cli, settings  # noqa: E402

HANDBUILT = Path(__file__).parent / "fixtures" / "handbuilt" / "extracts"


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


@pytest.fixture(scope="session")
def handbuilt_baseline(tmp_path_factory, dbt_manifest):
    """One successful run on the hand-built extracts; tests work on copies of its data folder."""
    data = tmp_path_factory.mktemp("handbuilt") / "data"
    shutil.copytree(HANDBUILT, data / "extracts")
    with pytest.MonkeyPatch.context() as env, contextlib.redirect_stdout(io.StringIO()) as output:
        env.setenv("CX_DATA_DIR", str(data))
        env.setenv("DAGSTER_HOME", str(data / "dagster"))
        env.setenv("CX_WAREHOUSE_PATH", "")
        exit_code = cli.main(["run"])
    assert exit_code == 0, output.getvalue()
    return data, output.getvalue()


@pytest.fixture
def handbuilt_run(handbuilt_baseline, data_dir):
    """A data folder where the hand-built extracts were run and published once."""
    baseline, output = handbuilt_baseline
    # symlinks=True: the serving folder's links must stay links in the copy.
    shutil.copytree(baseline, data_dir.data_dir, symlinks=True, dirs_exist_ok=True)
    return data_dir, output
