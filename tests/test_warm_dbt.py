"""`cx-dbt` is dbt: run by a worker that started before it was needed, or by dbt itself without one."""

import json
import os
import subprocess

from orchestration import cli, settings
from orchestration.lib import warm_dbt

CX_DBT = os.fspath(warm_dbt.CX_DBT_EXECUTABLE)
LIST_MARTS = ["ls", "--resource-type", "model", "--select", "marts", "--output", "name"]


def _cx_dbt(args: list[str], worker: warm_dbt.WarmDbt | None) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != warm_dbt.SOCKET_ENV}
    if worker is not None:
        env[warm_dbt.SOCKET_ENV] = os.fspath(worker.socket_path)
    return subprocess.run(
        [CX_DBT, *args], cwd=settings.DBT_PROJECT_DIR, env=env, capture_output=True, text=True, timeout=300
    )


def _start_worker(dbt_vars: dict | None = None) -> warm_dbt.WarmDbt:
    return warm_dbt.start(settings.DBT_PROJECT_DIR, settings.DBT_TARGET_DIR, dbt_vars or {})


def _names(output: str) -> list[str]:
    return sorted(line for line in output.splitlines() if line.startswith("cx_"))


def test_a_worker_runs_one_command_as_dbt_would_and_ends_with_it(data_dir, dbt_manifest):
    worker = _start_worker()
    try:
        served = _cx_dbt(LIST_MARTS, worker)
        assert served.returncode == 0, served.stdout + served.stderr
        assert worker.process.wait(timeout=60) == 0
        assert not worker.socket_path.exists()
        # The second command finds no worker: dbt runs it itself, with the same answer.
        by_dbt = _cx_dbt(LIST_MARTS, worker)
    finally:
        worker.stop()
    assert by_dbt.returncode == 0, by_dbt.stdout + by_dbt.stderr
    assert _names(served.stdout) == _names(by_dbt.stdout)
    assert "cx_churn_monthly" in _names(served.stdout) and "cx_customer_360" in _names(served.stdout)
    assert "stg_crm__accounts" not in served.stdout


def test_a_worker_runs_a_command_on_its_parse_only_if_given_the_vars_it_parsed_with(data_dir, dbt_manifest, tmp_path):
    # A command that parses writes its manifest.json; one run on the worker's parse writes none.
    for name, parsed_with, vars_args, parsed_by_the_command in (
        ("same", {"gross_margin_pct": 80}, ["--vars", json.dumps({"gross_margin_pct": 80})], False),
        ("other", {"gross_margin_pct": 80}, ["--vars", json.dumps({"gross_margin_pct": 70})], True),
        ("given-as-one-argument", {}, [f"--vars={json.dumps({'gross_margin_pct': 70})}"], True),
    ):
        worker = _start_worker(parsed_with)
        target = tmp_path / name
        try:
            served = _cx_dbt([*LIST_MARTS, *vars_args, "--target-path", os.fspath(target)], worker)
        finally:
            worker.stop()
        assert served.returncode == 0, served.stdout + served.stderr
        assert "cx_churn_monthly" in _names(served.stdout)
        assert (target / "manifest.json").exists() == parsed_by_the_command
        assert (target / "partial_parse.msgpack").exists()  # the parse state, for the next command


def test_a_worker_gives_back_dbt_s_exit_code(data_dir, dbt_manifest):
    worker = _start_worker()
    try:
        served = _cx_dbt(["ls", "--no-such-option"], worker)
    finally:
        worker.stop()
    by_dbt = _cx_dbt(["ls", "--no-such-option"], None)
    assert served.returncode == by_dbt.returncode == warm_dbt.EXIT_ERROR


def test_a_worker_without_a_command_ends_when_its_run_does(data_dir, dbt_manifest):
    closed = _start_worker()
    closed.process.stdin.close()  # what a run's process ending does, killed or not
    assert closed.process.wait(timeout=120) == 0
    closed.stop()
    assert not closed.folder.exists()

    stopped = _start_worker()
    stopped.stop()
    assert stopped.process.returncode is not None
    assert not stopped.folder.exists()


def test_a_run_parses_a_changed_project_itself_and_keeps_the_worker_for_its_build(data_dir, monkeypatch):
    """`cx-pipeline run` starts the worker before it checks the manifest: handed to the worker, the
    `dbt parse` of a changed project would take the one command it waits for, the build's."""
    from orchestration.lib import dbt

    sockets = {}

    def parse():
        sockets["parse"] = os.environ.get(warm_dbt.SOCKET_ENV)

    def build(args):
        sockets["build"] = os.environ.get(warm_dbt.SOCKET_ENV)
        return 0

    monkeypatch.setattr(dbt, "ensure_manifest", parse)
    monkeypatch.setattr(cli, "_run_nightly_job", build)

    assert cli.main(["run"]) == 0

    assert sockets["parse"] is None
    assert sockets["build"] is not None and sockets["build"].endswith(warm_dbt.SOCKET_FILE)
    assert warm_dbt.SOCKET_ENV not in os.environ


def test_the_dbt_resource_runs_cx_dbt():
    from orchestration.lib.dbt import dbt_resource

    assert dbt_resource().dbt_executable == CX_DBT
    assert os.access(CX_DBT, os.X_OK)
