"""Shared plumbing for the benchmarks: processes on 127.0.0.1 only, temp databases, timing, RSS.

Every process a benchmark starts is recorded in a `Stack` and stopped (by its own pid) when the
benchmark ends, also on Ctrl-C or error.
"""

from __future__ import annotations

import asyncio
import os
import platform
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
TEMPORAL_CLI = Path(PY).parent / "temporal"
HOST = "127.0.0.1"
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def command_line() -> str:
    """The exact command that reproduces this run (from the repository root)."""
    script = os.path.relpath(os.path.abspath(sys.argv[0]), ROOT)
    return " ".join([".venv/bin/python", script, *map(shlex.quote, sys.argv[1:])])


def machine() -> str:
    import temporalio

    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        rev = "?"
    return (f"repo HEAD={rev} nproc={os.cpu_count()} mem={mem_gb:.1f} GiB python={platform.python_version()} "
            f"temporalio={temporalio.__version__} loadavg={' '.join(f'{x:.1f}' for x in os.getloadavg())} date={time.strftime('%Y-%m-%d %H:%M %Z')}")


def load() -> str:
    """1/5/15-minute load averages: other work on the machine skews every timing."""
    return "loadavg " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with code {proc.returncode} before listening on {port}")
        with socket.socket() as s:
            if s.connect_ex((HOST, port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {HOST}:{port} within {timeout:.0f} s")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def summary_ms(values_s: list[float]) -> str:
    ms = [v * 1000 for v in values_s]
    return (f"p50={percentile(ms, 50):.1f} ms p95={percentile(ms, 95):.1f} ms p99={percentile(ms, 99):.1f} ms "
            f"max={max(ms):.1f} ms mean={statistics.fmean(ms):.1f} ms n={len(ms)}")


def _status_bytes(pid: int, field: str) -> int:
    """One kB figure of /proc/PID/status (e.g. VmRSS), in bytes; 0 when the kernel does not give it."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(f"{field}:"):
                return int(line.split()[1]) * 1024
    return 0


def rss_bytes(pid: int) -> int:
    """Resident set size of one process (VmRSS), from /proc."""
    return _status_bytes(pid, "VmRSS")


def hwm_bytes(pid: int) -> int:
    """Kernel-recorded peak RSS of the process (VmHWM)."""
    return _status_bytes(pid, "VmHWM")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mib(n: int) -> str:
    return f"{n / 2**20:.0f} MiB"


# --- databases -----------------------------------------------------------------------------------


def sqlite_value(value):
    """A row value as SQLite stores it through SQLAlchemy (UTC datetimes without zone, ISO dates): for
    bulk inserts with the sqlite3 module that bypass the ORM."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


@contextmanager
def postgres_database(prefix: str = "bench"):
    """A fresh PostgreSQL database on 127.0.0.1, dropped afterwards; yields its SQLAlchemy URL."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- processes -----------------------------------------------------------------------------------


def snapshot_source(dest: Path, worktree: bool = False, rev: str = "HEAD") -> Path:
    """A frozen copy of the code the benchmark runs: HEAD (default) or the working tree, plus the current bench/.

    Other people edit the repository while a benchmark runs; the workflow sandbox re-reads
    workflows/*.py from disk for every workflow instance it creates, so a half-finished edit would
    otherwise break (or change) a run midway.
    """
    import shutil

    dest.mkdir(parents=True)
    if worktree:
        anywhere = shutil.ignore_patterns(".git", "__pycache__", "*.egg-info")

        def ignore(folder: str, names: list[str]) -> set[str]:
            # the run's own state (data/, .venv/) only at the top: workcalendar/data is code
            top = {".venv", "data", "build"} & set(names) if Path(folder) == ROOT else set()
            return set(anywhere(folder, names)) | top

        shutil.copytree(ROOT, dest, dirs_exist_ok=True, ignore=ignore)
    else:
        archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        shutil.copytree(ROOT / "bench", dest / "bench", dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__"))
    return dest


@dataclass
class Stack:
    """Processes started by one benchmark run, stopped in reverse order by their own pids."""

    workdir: Path
    procs: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    temporal_port: int | None = None
    extra_dirs: list[Path] = field(default_factory=list)
    src: Path = ROOT

    def start(self, name: str, args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "wb")
        proc = subprocess.Popen(args, cwd=self.src, env={**os.environ, "PYTHONPATH": str(self.src), **(env or {})}, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def temporal(self, db_dir: str | None = None) -> str:
        """A Temporal dev server with a temp SQLite file and the project's search attributes.

        `db_dir` puts that file elsewhere than the run's temp folder (e.g. /dev/shm, to take fsync out).
        """
        from workflows.search_attributes import dev_server_flags

        self.temporal_port = free_port()
        folder = Path(tempfile.mkdtemp(prefix="temporal-", dir=db_dir)) if db_dir else self.workdir
        if db_dir:
            self.extra_dirs.append(folder)
        proc = self.start("temporal", [
            str(TEMPORAL_CLI), "server", "start-dev", "--db-filename", str(folder / "temporal.db"),
            "--ip", HOST, "--port", str(self.temporal_port), "--http-port", str(free_port()),
            "--metrics-port", str(free_port()), "--headless", "--log-level", "error", *dev_server_flags(),
        ])
        wait_for_port(self.temporal_port, 60, "Temporal dev server", proc)
        return f"{HOST}:{self.temporal_port}"

    def smtp_sink(self) -> int:
        """An SMTP server that accepts and discards every message (letters are e-mailed on intake)."""
        port = free_port()
        proc = self.start("smtp", [PY, "-m", "aiosmtpd", "-n", "-l", f"{HOST}:{port}", "-c", "aiosmtpd.handlers.Sink"])
        wait_for_port(port, 20, "SMTP sink", proc)
        return port

    def worker(self, env: dict[str, str], name: str = "worker") -> subprocess.Popen:
        return self.start(name, [PY, "worker.py"], env)

    def api(self, env: dict[str, str], port: int) -> subprocess.Popen:
        proc = self.start("api", [PY, "-m", "uvicorn", "--factory", "api.main:create_app", "--host", HOST,
                                  "--port", str(port), "--log-level", "warning", "--no-access-log"], env)
        wait_for_port(port, 60, "API (uvicorn)", proc)
        return proc

    def stop(self, proc: subprocess.Popen, timeout: float = 20) -> None:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def cpu(self) -> dict[str, float]:
        """CPU seconds used so far by each running process of the stack."""
        out = {}
        for name, proc in self.procs:
            try:
                out[name] = cpu_seconds(proc.pid)
            except OSError:
                pass
        out["load-generator"] = cpu_seconds(os.getpid())  # this process: HTTP clients or the raw Temporal client
        return out

    def cpu_delta(self, before: dict[str, float]) -> str:
        now = self.cpu()
        return ", ".join(f"{k} {now[k] - before.get(k, 0):.1f}s" for k in now)

    def close(self) -> None:
        for _, proc in reversed(self.procs):
            self.stop(proc)


@contextmanager
def stack(keep: bool = False, worktree: bool = False, rev: str = "HEAD"):
    """Processes, temp folder and a frozen copy of the code (imported by this process too, first on sys.path)."""
    workdir = Path(tempfile.mkdtemp(prefix="disclosure-bench-"))
    s = Stack(workdir)
    s.src = snapshot_source(workdir / "src", worktree, rev)
    if not worktree:
        full = subprocess.run(["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True).stdout.strip()
        print(f"# code under test: frozen copy of {rev} = {full} (+ bench/ from the working tree)", flush=True)
    else:
        print("# code under test: copy of the working tree", flush=True)
    sys.path.insert(0, str(s.src))
    try:
        yield s
    finally:
        s.close()
        import shutil

        for folder in s.extra_dirs:
            shutil.rmtree(folder, ignore_errors=True)
        if str(s.src) in sys.path:
            sys.path.remove(str(s.src))
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"(kept logs and data in {workdir})")


# --- the security model (log-in, payload encryption, rate limits), as the tests set it up -------------

# The tests' fixed secrets (tests/helpers.py; never used outside tests and benchmarks). Revisions
# before log-in existed ignore these variables.
BENCH_JWT_SECRET = "test-only-jwt-secret-0123456789-abcdefghijklmnop"
BENCH_CODEC_KEYS = ("t2:Z2lmdC1rZXktdHdvLWZvci10ZXN0cy1vbmx5LTAwMDA=,"
                    "t1:dGVzdC1rZXktb25lLWZvci10ZXN0cy1vbmx5LTAwMDA=")
BENCH_PASSWORD = "bench-password-不用于生产"
SECURITY_ENV = {
    "DISCLOSURE_JWT_SECRET": BENCH_JWT_SECRET,
    "DISCLOSURE_CODEC_KEYS": BENCH_CODEC_KEYS,
    "DISCLOSURE_ACCESS_TOKEN_MINUTES": "240",
    # Raised for the benchmark (core/config.py): the defaults are 10 / 30 / 20 a minute per client.
    "DISCLOSURE_RATE_LIMIT_PUBLIC_INTAKE_PER_MINUTE": "1000000",
    "DISCLOSURE_RATE_LIMIT_LOOKUP_PER_MINUTE": "1000000",
    "DISCLOSURE_RATE_LIMIT_LOGIN_PER_MINUTE": "1000000",
    # The example agency (issue 24 point 6): benchmarks run on example values, like `make run`.
    "DISCLOSURE_EXAMPLE_AGENCY": "true",
}


def security_settings() -> dict[str, object]:
    """Keyword arguments for core.config.Settings matching SECURITY_ENV (the raw client's codec)."""
    from core.config import Settings

    if "codec_keys" not in Settings.model_fields:
        return {}
    return {"jwt_secret": BENCH_JWT_SECRET, "codec_keys": BENCH_CODEC_KEYS, "access_token_minutes": 240}


def has_log_in() -> bool:
    return _accounts() is not None


def _accounts():
    """The staff-accounts module of the revision measured (core.accounts before it moved to services/)."""
    import importlib

    for name in ("services.accounts", "core.accounts"):
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def seed_user(engine, username: str, roles: list[str], department: str | None = None) -> None:
    """A staff user through services.accounts (as admin.py and tests/helpers.seed_test_users do)."""
    from sqlmodel import Session

    create_user = _accounts().create_user
    from db.models_security import StaffUser

    with Session(engine) as session:
        if session.get(StaffUser, username) is None:
            create_user(session, username=username, password=BENCH_PASSWORD, roles=roles, department=department)
        session.commit()


def bearer_headers(base_url: str, username: str) -> dict[str, str]:
    """Log in through POST /api/v1/auth/token (OAuth2 password flow); {} on a revision without log-in."""
    import httpx

    if not has_log_in():
        return {}
    response = httpx.post(f"{base_url}/api/v1/auth/token", data={"username": username, "password": BENCH_PASSWORD},
                          timeout=30)
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def app_env(temporal_address: str, database_url: str, smtp_port: int, workdir: Path, task_queue: str,
            bytecode_cache: bool = False) -> dict[str, str]:
    """Environment for API and worker processes.

    bytecode_cache: let them write and reuse .pyc files in a temp folder (PYTHONPYCACHEPREFIX) even when the
    environment says PYTHONDONTWRITEBYTECODE=1 (as the Dockerfile does). Without .pyc files the workflow
    sandbox compiles workflows/application.py from source for every workflow instance it creates.
    """
    extra = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(workdir / "pycache")} if bytecode_cache else {}
    return {
        **extra,
        **SECURITY_ENV,
        "DISCLOSURE_TEMPORAL_ADDRESS": temporal_address,
        "DISCLOSURE_DATABASE_URL": database_url,
        "DISCLOSURE_SMTP_HOST": HOST,
        "DISCLOSURE_SMTP_PORT": str(smtp_port),
        "DISCLOSURE_DATA_DIR": str(workdir),
        "DISCLOSURE_TASK_QUEUE": task_queue,
        "PYTHONUNBUFFERED": "1",
    }


# --- a lean HTTP/1.1 load generator --------------------------------------------------------------


class KeepAliveClient:
    """One keep-alive HTTP/1.1 connection per simulated client, requests pre-encoded.

    Why not httpx: at 100 concurrent clients httpx.AsyncClient spent about 16 ms of CPU per request
    in the load generator (more than the API it measured), on the same 2 cores as the API and
    Temporal, so it capped the figure. This sends bytes and reads one Content-Length response: tens
    of microseconds per request. Only for our own server (uvicorn always sends Content-Length here).
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    @staticmethod
    def encode(method: str, path: str, host: str, headers: dict[str, str], body: bytes = b"") -> bytes:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}", "Connection: keep-alive",
                 *(f"{k}: {v}" for k, v in headers.items())]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        for attempt in (1, 2):  # a connection the server closed while idle is opened again once
            if self._writer is None:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            try:
                self._writer.write(raw)
                head = await self._reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                length, close = 0, False
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    name = name.strip().lower()
                    if name == b"content-length":
                        length = int(value)
                    elif name == b"connection" and value.strip().lower() == b"close":
                        close = True
                body = await self._reader.readexactly(length)
                if close:
                    await self.close()
                return status, body
            except (ConnectionError, asyncio.IncompleteReadError):
                await self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


# --- harness pieces the stack benchmarks share -----------------------------------------------------


def bench_parser(doc: str | None):
    """The argument parser of a benchmark script: its module docstring as the description."""
    import argparse

    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def add_code_options(parser) -> None:
    """--rev / --worktree / --keep: which code a frozen copy runs, and whether the temp folder stays."""
    parser.add_argument("--rev", default="HEAD", help="git revision to benchmark (a frozen copy is run)")
    parser.add_argument("--worktree", action="store_true",
                        help="run the working tree as it is now instead of the last commit (HEAD)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (logs, databases)")


def add_stack_options(parser) -> None:
    """The options of a benchmark that starts the dev server, API and workers (Stack), then add_code_options."""
    parser.add_argument("--temporal-db-dir", default=None,
                        help="folder for the dev server's temp --db-filename (default: the run's temp folder on disk; "
                             "/dev/shm takes fsync out of Temporal's persistence)")
    parser.add_argument("--bytecode-cache", action="store_true",
                        help="let API/worker write .pyc files to a temp PYTHONPYCACHEPREFIX despite PYTHONDONTWRITEBYTECODE")
    add_code_options(parser)


def database_url(kind: str, s: Stack, resources, prefix: str) -> str:
    """The run's application database: a fresh PostgreSQL one (dropped when `resources` closes) or SQLite in the temp folder."""
    if kind == "postgres":
        return resources.enter_context(postgres_database(prefix))
    return f"sqlite:///{s.workdir / 'disclosure.db'}"


def cpu_per(s: Stack, before: dict[str, float], n: int, what: str) -> str:
    """CPU of each process of the stack since `before`, in ms per unit of work (processes under 50 ms left out)."""
    now = s.cpu()
    return ", ".join(f"{k} {(now[k] - before.get(k, 0)) * 1000 / n:.1f}" for k in now
                     if now[k] - before.get(k, 0) > 0.05) + f" (ms CPU per {what})"


def print_footer() -> None:
    """The last lines of a RESULT: how busy the machine was, and the command that reproduces the run."""
    print(f"  machine at the end: {load()} (nproc {os.cpu_count()})")
    print(f"  reproduce: {command_line()}")


def print_result_table(title: str, columns: list[str], rows: list[str]) -> None:
    """A RESULT line followed by a Markdown table of `rows` (already formatted) and the footer."""
    print()
    print(f"RESULT {title}")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    print("\n".join(rows))
    print_footer()


class PostPool:
    """`concurrency` keep-alive connections to the API, each sending one pre-encoded request at a time."""

    def __init__(self, port: int, concurrency: int, request: bytes, timeout: float) -> None:
        self.request, self.timeout = request, timeout
        self.idle: asyncio.Queue[KeepAliveClient] = asyncio.Queue()
        for _ in range(concurrency):
            self.idle.put_nowait(KeepAliveClient(HOST, port))

    async def post(self, _: int) -> str:
        """One request; 'ok' on 201 Created, else 'http-<status>' (for run_closed_loop's outcomes)."""
        connection = await self.idle.get()
        try:
            status, _ = await asyncio.wait_for(connection.request(self.request), self.timeout)
        except BaseException:
            await connection.close()
            raise
        finally:
            self.idle.put_nowait(connection)
        return "ok" if status == 201 else f"http-{status}"

    async def close(self) -> None:
        while not self.idle.empty():
            await self.idle.get_nowait().close()


def application_template(body: dict, settings, engine):
    """What the intake route derives from a request body: the validated ApplicationCreate, its reply-period
    policy and the calendar from its year on (for starting the application workflow without the API)."""
    from api.deps import CalendarSource
    from api.schemas import ApplicationCreate
    from policy import profile_named

    create = ApplicationCreate.model_validate(body)
    policy = profile_named(getattr(create, "policy", None) or settings.reply_period_profile).model_copy(
        update={"reminder_days_before_due": settings.reminder_days_before_due}
    )
    return create, policy, CalendarSource(engine).since(create.received_on.year)


def application_input(application_id: str, create, registered_by: str, policy, calendar_data, settings):
    """The application workflow's input, as the intake route builds it, registered now."""
    from contracts.intake import ApplicationInput

    return ApplicationInput(
        application_id=application_id, channel=create.channel, received_on=create.received_on,
        registered_at=datetime.now(UTC), registered_by=registered_by,
        applicant=create.applicant, items=create.items, delivery_method=create.delivery_method,
        policy=policy, calendar=calendar_data, agency_name=settings.agency_name, handler=create.handler,
        department=create.department,
    )


def raw_application_body() -> tuple[dict, str]:
    """The tests' application body for a workflow started without the API, and who registers it (a field of
    ApplicationCreate only in revisions before the API took identity from the token)."""
    from api.schemas import ApplicationCreate
    from tests.helpers import application_body

    body = application_body()
    registered_by = body.pop("registered_by")
    if "registered_by" in ApplicationCreate.model_fields:
        body["registered_by"] = registered_by
    return body, registered_by


def services(s: Stack, args, resources, prefix: str, task_queue: str):
    """The application database (tables created), a Temporal dev server (`args.temporal_db_dir`) and an SMTP
    sink, for a benchmark that starts workflows without the API: (database URL, engine, Temporal address,
    environment for worker processes)."""
    from db.session import init_db, make_engine

    url = database_url(args.database, s, resources, prefix)
    engine = make_engine(url)
    init_db(engine)
    address = s.temporal(args.temporal_db_dir)
    env = app_env(address, url, s.smtp_sink(), s.workdir, task_queue, args.bytecode_cache)
    return url, engine, address, env


async def raw_client(address: str, url: str, task_queue: str, **extra):
    """Settings as the worker's environment gives them (so core.temporal.connect gives the same encrypting
    converter) and a Temporal client connected with them."""
    from core.config import Settings
    from core.temporal import connect

    settings = Settings(temporal_address=address, database_url=url, task_queue=task_queue, **extra,
                        **security_settings())
    return settings, await connect(settings)


def registrar_headers(engine, api_port: int, username: str) -> dict[str, str]:
    """A registrar seeded in the database and logged in as the tests do (tests/helpers.py); {} on a
    revision without log-in."""
    if not has_log_in():
        return {}
    seed_user(engine, username, ["registrar"])
    return bearer_headers(f"http://{HOST}:{api_port}", username)
