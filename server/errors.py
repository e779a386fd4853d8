"""One error body for every refusal and failure, and how each is logged.

A refusal (4xx) is the client's business: it is logged at info, one line, no traceback. A
failure (5xx) is ours: it is logged at error with its formatted traceback, and the client
gets a body that names nothing inside.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

import msgspec
import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException
from litestar.types import ExceptionHandlersMap

log = structlog.get_logger()


class FieldError(msgspec.Struct, omit_defaults=True):
    """What was wrong with one part of the request."""

    message: str
    key: str | None = None
    """The field, path or query parameter at fault."""
    source: str | None = None
    """body | path | query | header | cookie"""


class ErrorBody(msgspec.Struct, omit_defaults=True):
    """Every error answer of the HTTP API, whatever raised it."""

    status_code: int
    detail: str
    extra: list[FieldError] | None = None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value.value if isinstance(value, Enum) else value)


def _field_errors(extra: Any) -> list[FieldError] | None:
    if not isinstance(extra, list):
        return None
    return [
        FieldError(
            message=str(item.get("message", "")),
            key=_text(item.get("key")),
            source=_text(item.get("source")),
        )
        for item in extra
        if isinstance(item, dict)
    ] or None


def _response(body: ErrorBody, headers: dict[str, str] | None = None) -> Response[ErrorBody]:
    return Response(body, status_code=body.status_code, headers=headers, media_type=MediaType.JSON)


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[ErrorBody]:
    body = ErrorBody(exc.status_code, exc.detail, _field_errors(exc.extra))
    where = {"method": request.method, "path": request.url.path, "status": exc.status_code}
    if exc.status_code >= 500:
        log.error("http.failed", detail=exc.detail, **where, exc_info=exc)
    else:
        log.info("http.refused", detail=exc.detail, **where)
    return _response(body, exc.headers)


class DomainError(Exception):
    """A refusal a domain function raises; mapped to its status once, here, for every route.

    Subclass the kind that fits (`class DealClosed(Conflict)`); the message is the `detail`
    the client reads, so it says what was wrong in words a caller can act on."""

    status_code = 400


class Invalid(DomainError):
    """The request is well formed but asks for something the rules refuse."""


class NotFound(DomainError):
    """No such thing, or not one the caller may know exists."""

    status_code = 404


class Forbidden(DomainError):
    """The caller is known but may not do this."""

    status_code = 403


class Conflict(DomainError):
    """The thing's current state refuses the request (already done, full, closed)."""

    status_code = 409


class Unauthorized(DomainError):
    """The caller could not be identified (a refused login)."""

    status_code = 401


class Unavailable(DomainError):
    """Something we depend on (a payment or identity provider) is down; try again later."""

    status_code = 503


def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[ErrorBody]:
    log.info(
        "http.refused",
        detail=str(exc),
        method=request.method,
        path=request.url.path,
        status=exc.status_code,
    )
    return _response(ErrorBody(exc.status_code, str(exc)))


def on_crash(request: Request[Any, Any, Any], exc: Exception) -> Response[ErrorBody]:
    log.error("http.failed", method=request.method, path=request.url.path, exc_info=exc)
    return _response(ErrorBody(500, "Internal Server Error"))


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    HTTPException: on_http_error,
    DomainError: on_domain_error,
    Exception: on_crash,
}
