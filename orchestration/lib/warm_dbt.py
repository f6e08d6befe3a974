"""dbt started before the run needs it: its imports and its parse overlap the work before the build.

A `dbt build` spends its first 3 to 5 s importing dbt and loading its parse state before it runs
any SQL, and dagster-dbt starts dbt only when the build begins. `cx-pipeline run` therefore starts
a worker process first (`start`), which imports dbt and parses the project while the run imports
its own code and lands the day's extracts, then waits for one dbt command. dagster-dbt runs the
command `cx-dbt` (`client_main`), which hands its arguments, environment, working folder and
output to the waiting worker over a Unix socket and exits with the worker's exit code, so that to
dagster-dbt it is the dbt process. Without a waiting worker (the Dagster UI, `dbt parse` before
the run, a second command) `cx-dbt` is dbt itself. Only the standard library is imported here: the
client starts for every dbt command.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

from orchestration.lib.process_exit import exit_without_teardown

SOCKET_ENV = "CX_WARM_DBT_SOCKET"
SOCKET_FILE = "dbt.sock"
# The dbt installed beside this interpreter, whether or not its bin/ folder is on PATH, and the
# command that runs it through a waiting worker (the console script of pyproject.toml).
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
CX_DBT_EXECUTABLE = DBT_EXECUTABLE.with_name("cx-dbt")
PARTIAL_PARSE_FILE = "partial_parse.msgpack"
# dbt's exit codes (dbt.cli.exceptions): the command failed (a model or test), or dbt itself did.
EXIT_FAILURE, EXIT_ERROR = 1, 2
_CODE = struct.Struct("!i")


class WarmDbt:
    """A worker waiting for one dbt command; `stop` ends it if none came."""

    def __init__(self, process: subprocess.Popen, folder: Path) -> None:
        self.process = process
        self.folder = folder

    @property
    def socket_path(self) -> Path:
        return self.folder / SOCKET_FILE

    def stop(self) -> None:
        """Ends the worker if it is still waiting (a run that failed before its build): a worker that
        ran its command has ended with it, since dagster-dbt reads dbt's output to its end."""
        self.process.kill()
        self.process.wait()
        self.process.stdin.close()
        shutil.rmtree(self.folder, ignore_errors=True)


def start(project_dir: Path, target_dir: Path, dbt_vars: dict) -> WarmDbt:
    """Starts a worker for the dbt project at `project_dir` (profiles.yml beside dbt_project.yml),
    parsing with `dbt_vars` from the parse state in `target_dir`; `cx-dbt` commands given
    SOCKET_ENV find it."""
    folder = Path(tempfile.mkdtemp(prefix="cx-warm-dbt-"))
    state = target_dir / PARTIAL_PARSE_FILE
    if state.exists():
        shutil.copyfile(state, folder / PARTIAL_PARSE_FILE)
    # Listening before the worker starts: a command sent at once waits for it instead of missing it.
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(folder / SOCKET_FILE))
        listener.listen(1)
        process = subprocess.Popen(
            [sys.executable, "-m", __name__, str(listener.fileno()), str(folder), str(project_dir), json.dumps(dbt_vars)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            pass_fds=[listener.fileno()],
        )
    finally:
        listener.close()
    return WarmDbt(process, folder)


def _parse(folder: Path, project_dir: Path, dbt_vars: dict):
    """The project's manifest as a command given `dbt_vars` parses it, or None if the parse failed
    (the command then parses itself and reports why). Written to the worker's own folder: the run
    reads target/ meanwhile."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(
        [
            "parse", "--quiet", "--no-write-json", "--log-level-file", "none",
            "--project-dir", str(project_dir), "--profiles-dir", str(project_dir), "--target-path", str(folder),
            *(["--vars", json.dumps(dbt_vars)] if dbt_vars else []),
        ]
    )
    return result.result if result.success else None


def _option(args: list[str], name: str) -> str | None:
    """The last value given to option `name`, as `name value` or `name=value`."""
    given = [
        arg.removeprefix(f"{name}=") if arg.startswith(f"{name}=") else args[i + 1]
        for i, arg in enumerate(args)
        if arg.startswith(f"{name}=") or (arg == name and i + 1 < len(args))
    ]
    return given[-1] if given else None


def _vars_of(args: list[str]) -> dict:
    """The vars a dbt command is given (YAML, as dbt reads them)."""
    import yaml

    given = _option(args, "--vars")
    return (yaml.safe_load(given) or {}) if given else {}


def _target_path(command: dict) -> Path:
    """Where the command writes its artifacts, as dbt resolves it (relative to the project)."""
    env = command["env"]
    path = Path(_option(command["args"], "--target-path") or env.get("DBT_TARGET_PATH") or "target")
    project_dir = Path(_option(command["args"], "--project-dir") or env.get("DBT_PROJECT_DIR") or command["cwd"])
    return path if path.is_absolute() else project_dir / path


def _receive(listener: socket.socket) -> tuple[socket.socket, dict, list[int]] | None:
    """Waits for a client's command; None when stdin closes first: the run's process ended without
    a dbt command (killed, or stopped as it failed before its build)."""
    readable, _, _ = select.select([listener, sys.stdin], [], [])
    if sys.stdin in readable:
        return None
    connection, _ = listener.accept()
    first, fds, _, _ = socket.recv_fds(connection, 1 << 16, 2)
    chunks = [first]
    while chunk := connection.recv(1 << 16):
        chunks.append(chunk)
    return connection, json.loads(b"".join(chunks)), fds


def _run(folder: Path, manifest, parsed_vars: dict, command: dict) -> int:
    from dbt.cli.main import dbtRunner

    args = command["args"]
    os.chdir(command["cwd"])
    os.environ.clear()
    os.environ.update(command["env"])
    if manifest is not None and _vars_of(args) == parsed_vars:
        # The parse state the command would have written, for the next parse to start from.
        target = _target_path(command)
        target.mkdir(parents=True, exist_ok=True)
        if (folder / PARTIAL_PARSE_FILE).exists():
            shutil.copyfile(folder / PARTIAL_PARSE_FILE, target / PARTIAL_PARSE_FILE)
    else:
        manifest = None  # other vars than the parse's: the command parses again
    result = dbtRunner(manifest=manifest).invoke(args)
    if result.success:
        return 0
    return EXIT_FAILURE if result.exception is None else EXIT_ERROR


def serve(listener: socket.socket, folder: Path, project_dir: Path, dbt_vars: dict) -> int:
    """Parses, waits for one command and runs it; the process ends with it."""
    manifest = _parse(folder, project_dir, dbt_vars)
    received = _receive(listener)
    # One command: a later client finds no socket and runs dbt itself.
    listener.close()
    (folder / SOCKET_FILE).unlink()
    if received is None:
        return 0
    connection, command, (stdout_fd, stderr_fd) = received
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(stdout_fd, 1)
    os.dup2(stderr_fd, 2)
    os.close(stdout_fd)
    os.close(stderr_fd)
    # Each event line reaches dagster-dbt as dbt writes it, as from dbt's own process.
    sys.stdout.reconfigure(line_buffering=True)
    try:
        code = _run(folder, manifest, dbt_vars, command)
    except BaseException as error:  # a KeyboardInterrupt that dbt did not turn into a result
        print(f"dbt stopped: {error!r}", file=sys.stderr, flush=True)
        code = EXIT_ERROR
    connection.sendall(_CODE.pack(code))
    connection.close()
    # The exit handlers close DuckDB (dbt-duckdb's checkpoints the warehouse) before dagster-dbt,
    # which reads the output to its end, goes on.
    exit_without_teardown(code)


def client_main() -> int:
    """`cx-dbt ARGS`: `dbt ARGS`, run by the waiting worker if there is one."""
    connection = _connect(os.environ.get(SOCKET_ENV))
    if connection is None:
        os.execv(DBT_EXECUTABLE, [str(DBT_EXECUTABLE), *sys.argv[1:]])
    worker_pid = struct.unpack("3i", connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))[0]
    # dagster-dbt stops dbt with SIGINT (then SIGKILL): passed on, dbt cancels its queries.
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda received, _frame: os.kill(worker_pid, received))
    command = json.dumps({"args": sys.argv[1:], "env": dict(os.environ), "cwd": os.getcwd()}).encode()
    socket.send_fds(connection, [command[:1]], [sys.stdout.fileno(), sys.stderr.fileno()])
    connection.sendall(command[1:])
    connection.shutdown(socket.SHUT_WR)
    reply = b""
    while len(reply) < _CODE.size and (chunk := connection.recv(_CODE.size)):
        reply += chunk
    if len(reply) < _CODE.size:
        print("cx-dbt: the dbt worker ended without an exit code", file=sys.stderr)
        return EXIT_ERROR
    return _CODE.unpack(reply)[0]


def _connect(socket_path: str | None) -> socket.socket | None:
    """A connection to the waiting worker, None if there is none (or it has served its command)."""
    if not socket_path:
        return None
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(socket_path)
    except OSError:
        connection.close()
        return None
    return connection


if __name__ == "__main__":
    sys.exit(serve(socket.socket(fileno=int(sys.argv[1])), Path(sys.argv[2]), Path(sys.argv[3]), json.loads(sys.argv[4])))
