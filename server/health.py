"""GET /healthz: is the database reachable, is Redis reachable."""

from __future__ import annotations

import msgspec
from litestar import Response, get
from litestar.openapi import ResponseSpec
from sqlalchemy import text

from server.auth import PUBLIC
from server.services import Services


class Health(msgspec.Struct):
    status: str
    database: str
    redis: str


@get(
    "/healthz",
    opt=PUBLIC,
    tags=["ops"],
    responses={503: ResponseSpec(Health, description="The database or Redis is down")},
)
async def healthz(services: Services) -> Response[Health]:
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
    healthy = database == redis == "ok"
    return Response(
        Health("ok" if healthy else "degraded", database, redis),
        status_code=200 if healthy else 503,
    )
