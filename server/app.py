"""The app factory: assembles the domain packages into one Litestar app."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import redis.asyncio
from litestar import Litestar, MediaType, Request, Router, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.logging.config import LoggingConfig
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import RapidocRenderPlugin
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler
from sqlalchemy.ext.asyncio import AsyncSession

import attribution.controllers
import attribution.followthrough_controllers
import attribution.followups_controllers
import live.controllers
import live.followups_share
import live.schedule_controllers
import live.scores_controllers
import orders.controllers
from attribution.runtime import AttributionRuntime
from live.directory import RoomDirectoryController
from live.publish import LiveRooms
from live.runtime import LiveRuntime
from orders.persister_lag import read_backlog
from orders.rooms_port import Rooms
from orders.runtime import OrdersRuntime
from server.auth import PUBLIC, Principal, TokenAuthMiddleware, role_guard, signer_of
from server.backlog import BacklogProbe
from server.demo_clip import MEDIA_URL, media_dir
from server.errors import EXCEPTION_HANDLERS
from server.health import healthz
from server.metrics import metrics
from server.openapi import ArrayLikeStructSchemaPlugin, describe_errors, openapi_components
from server.services import Services, open_services
from server.settings import Settings, load_settings

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


@dataclass(frozen=True)
class Runtimes:
    """Everything long-lived one app process holds, built once by the lifespan."""

    services: Services
    attribution: AttributionRuntime
    orders: OrdersRuntime
    live: LiveRuntime


@asynccontextmanager
async def open_runtimes(settings: Settings) -> AsyncIterator[Runtimes]:
    """Open the services, build each package's runtime, start the room gateway and the order
    notices; on exit stop them in the reverse order and close the services."""
    async with AsyncExitStack() as stack:
        services = await open_services(settings)
        stack.push_async_callback(services.close)
        rooms = LiveRooms(services.redis)
        orders = OrdersRuntime.build(services, rooms)
        live = LiveRuntime.build(services, rooms, orders)
        await live.start(settings.http.host, settings.http.ws_port)
        stack.push_async_callback(live.close)
        await orders.start_notices()
        stack.push_async_callback(orders.close)
        yield Runtimes(services, AttributionRuntime.build(settings), orders, live)


def _runtimes(state: State) -> Runtimes:
    runtimes: Runtimes = state.runtimes
    return runtimes


async def provide_db(state: State) -> AsyncIterator[AsyncSession]:
    """A session per request; domain functions open their own explicit transactions on it."""
    async with _runtimes(state).services.sessionmaker() as session:
        yield session


def provide_services(state: State) -> Services:
    """The process's long-lived parts (settings, Redis, database, signer)."""
    return _runtimes(state).services


def provide_caller(request: Request[Principal, str, State]) -> Principal:
    """Who is calling, as the token middleware found them (routes guard roles with `allow`)."""
    return request.user


def provide_rooms(state: State) -> Rooms:
    """live/'s side of what orders/ needs of the rooms, handed to orders/' handlers here so
    orders/ never imports live/."""
    return _runtimes(state).orders.rooms


def provide_backlog(state: State) -> BacklogProbe:
    client = _runtimes(state).services.redis
    return BacklogProbe(lambda: read_backlog(client))


def provide_redis(state: State) -> redis.asyncio.Redis:
    """The process's Redis client (GET /metrics reads Redis' own state with it)."""
    return _runtimes(state).services.redis


def provide_orders(state: State) -> OrdersRuntime:
    return _runtimes(state).orders


def provide_live(state: State) -> LiveRuntime:
    return _runtimes(state).live


def provide_attribution(state: State) -> AttributionRuntime:
    return _runtimes(state).attribution


@get("/", opt=PUBLIC, include_in_schema=False, media_type=MediaType.HTML)
async def index() -> Redirect:
    return Redirect("/static/index.html")


def freeze_startup_heap() -> None:
    """Keep the objects made at startup out of every later garbage collection.

    Startup leaves a great many long-lived objects (modules, routes, mappers), which a full
    collection would walk while the node's loop waits. Frozen (and given back at shutdown),
    they cost a collection nothing; `make bench-inprocess` measures both (docs/benchmarks.md)."""
    gc.collect()
    gc.freeze()


API_ROUTES: list[ControllerRouterHandler] = [
    healthz,
    *attribution.controllers.ROUTES,
    *live.controllers.ROUTES,
    *live.schedule_controllers.ROUTES,
    *live.scores_controllers.ROUTES,
    RoomDirectoryController,
    *orders.controllers.ROUTES,
    *attribution.followups_controllers.CONTROLLERS,
    live.followups_share.GuideShareController,
    *attribution.followthrough_controllers.ROUTES,
]


@asynccontextmanager
async def lifespan(app: Litestar) -> AsyncIterator[None]:
    """Open the runtimes with the settings in the app's state (there, not fixed at assembly,
    so that the test suite builds one app and starts it on each test's databases)."""
    settings: Settings = app.state.settings
    async with open_runtimes(settings) as runtimes:
        app.state.runtimes = runtimes
        freeze = settings.http.freeze_startup_heap
        if freeze:
            freeze_startup_heap()
        try:
            yield
        finally:
            if freeze:
                gc.unfreeze()
            del app.state.runtimes  # closed: nothing may reach them through the app


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings()
    describe_errors(API_ROUTES)

    return Litestar(
        route_handlers=[
            index,
            *API_ROUTES,
            metrics,
            create_static_files_router("/static", [STATIC_DIR], opt=PUBLIC, html_mode=False),
            # Media the app keeps under its var dir: the demo's HLS clip (server/demo_clip.py).
            create_static_files_router(
                MEDIA_URL,
                [media_dir(settings.var_path)],
                opt=PUBLIC,
                html_mode=False,
                include_in_schema=False,
            ),
        ],
        lifespan=[lifespan],
        state=State({"settings": settings}),
        dependencies={
            "db": Provide(provide_db),
            "rooms": Provide(provide_rooms, sync_to_thread=False),
            "services": Provide(provide_services, sync_to_thread=False),
            "caller": Provide(provide_caller, sync_to_thread=False),
            "orders": Provide(provide_orders, sync_to_thread=False),
            "backlog": Provide(provide_backlog, sync_to_thread=False),
            "redis": Provide(provide_redis, sync_to_thread=False),
            "live": Provide(provide_live, sync_to_thread=False),
            "attribution": Provide(provide_attribution, sync_to_thread=False),
        },
        middleware=[DefineMiddleware(TokenAuthMiddleware, signer=signer_of(settings))],
        guards=[role_guard],
        exception_handlers=EXCEPTION_HANDLERS,
        plugins=[ArrayLikeStructSchemaPlugin()],
        # Our JSON handler on the root logger (server/logs.py) formats Litestar's records too.
        # Exceptions are logged once, by server/errors.py: refusals at info, failures with
        # their traceback.
        logging_config=LoggingConfig(
            configure_root_logger=False,
            log_exceptions="never",
            loggers={"litestar": {"level": "INFO", "handlers": [], "propagate": True}},
        ),
        openapi_config=OpenAPIConfig(
            title="Storecast",
            version="0.1.0",
            path="/schema",
            use_handler_docstrings=True,
            components=openapi_components(),
            # Served from static/vendor: the machines that run this have no route to a CDN.
            render_plugins=[
                RapidocRenderPlugin(js_url="/static/vendor/rapidoc/rapidoc-min.js", path="/")
            ],
            # The API docs are public; everything they describe still checks its roles.
            openapi_router=Router(
                "/schema", route_handlers=[], opt=PUBLIC, include_in_schema=False
            ),
        ),
    )


def app_from_environment() -> Litestar:
    """Entry for uvicorn's factory mode: `uvicorn --factory server.app:app_from_environment`."""
    return create_app(load_settings())
