"""GET /healthz: is the database reachable, is Redis reachable, does SQL keep up with orders."""

from __future__ import annotations

import msgspec
from litestar import Response, get
from litestar.openapi import ResponseSpec
from sqlalchemy import text

from server.auth import PUBLIC
from server.backlog import BacklogProbe
from server.services import Services


class Health(msgspec.Struct):
    status: str
    database: str
    redis: str
    persister: str = "ok"
    """`ok`, or `lagging` past the orders' persister_lag_alarm_seconds."""
    persister_lag_seconds: float = 0.0
    dead_letters: int = 0


@get(
    "/healthz",
    opt=PUBLIC,
    tags=["ops"],
    responses={503: ResponseSpec(Health, description="The database or Redis is down")},
)
async def healthz(services: Services, backlog: BacklogProbe) -> Response[Health]:
    """A lagging persister makes the answer `degraded` but leaves it 200: the node still
    serves, and taking nodes out of rotation would not help a worker that trails."""
    database = redis = "ok"
    try:
        async with services.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as exc:  # report, do not raise: this is the probe
        database = f"down: {type(exc).__name__}"
    try:
        await services.redis.ping()
    except Exception as exc:
        redis = f"down: {type(exc).__name__}"
    health = Health("ok", database, redis)
    if redis == "ok":
        try:
            found = await backlog.read()
        except Exception as exc:
            health.persister = f"unknown: {type(exc).__name__}"
        else:
            health.persister_lag_seconds = round(found.lag_seconds, 3)
            health.dead_letters = found.dead_letters
            if found.lag_seconds > services.settings.orders.persister_lag_alarm_seconds:
                health.persister = "lagging"
    reachable = database == redis == "ok"
    if not reachable or health.persister != "ok":
        health.status = "degraded"
    return Response(health, status_code=200 if reachable else 503)
