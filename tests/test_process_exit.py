"""A process that ends without tearing down its modules still runs its exit handlers, flushes its
output and ends with its code."""

import os
import subprocess
import sys
from pathlib import Path


def test_an_exit_without_teardown_runs_the_exit_handlers_flushes_and_keeps_the_code():
    script = (
        "import atexit\n"
        "from orchestration.lib.process_exit import exit_without_teardown\n"
        "atexit.register(print, 'exit handler ran')\n"
        "print('buffered output', end=' ')\n"
        "exit_without_teardown(3)\n"
    )
    # Output to a pipe is buffered unless PYTHONUNBUFFERED says otherwise.
    buffered = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}
    ended = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=buffered)
    assert (ended.returncode, ended.stdout) == (3, "buffered output exit handler ran\n")


def test_the_cx_pipeline_command_ends_with_its_command_s_code_and_output(tmp_path):
    ended = subprocess.run(
        [str(Path(sys.executable).parent / "cx-pipeline"), "report"],
        capture_output=True,
        text=True,
        env={**os.environ, "CX_DATA_DIR": str(tmp_path)},
    )
    assert ended.returncode == 1
    assert ended.stdout.startswith(f"Nothing published yet: {tmp_path}")
