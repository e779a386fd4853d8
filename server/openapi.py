"""What /schema says beyond the handlers' signatures: bearer auth, the error answers, and
`[epoch, offset]` pairs.

The schema is a contract that `tests/test_schema_fuzz.py` holds the app to: schemathesis
sends what it describes and fails on any answer it does not describe.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec
from litestar import Controller
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import Components, OpenAPIType, Schema, SecurityScheme
from litestar.plugins import OpenAPISchemaPlugin
from litestar.plugins.core._msgspec import kwarg_definition_from_field
from litestar.typing import FieldDefinition

from server.errors import ErrorBody

BEARER = "BearerToken"
BEARER_SCHEME = SecurityScheme(
    type="http",
    scheme="bearer",
    bearer_format="JWT",
    description="A role token: `POST /api/auth/viewer` for a viewer, "
    "`storecast create-token` for staff. Send it as `Authorization: Bearer <token>`.",
)
ERRORS = {
    400: "Malformed, out of bounds, or naming something that does not exist",
    404: "Not found, or not yours to see",
    409: "Not possible in the current state",
    429: "Too many requests; slow down",
    500: "A failure on our side; the body names nothing inside",
}
AUTH_ERRORS = {
    401: "No token, or an expired or forged one",
    403: "The token's role may not do this",
}


class ArrayLikeStructSchemaPlugin(OpenAPISchemaPlugin):
    """Litestar describes every Struct as an object; an `array_like` Struct is a JSON array
    on the wire (a `StreamPosition` is `["3f2a...", 41]`), so it is described as one."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        kind = field_definition.type_
        return (
            isinstance(kind, type)
            and issubclass(kind, msgspec.Struct)
            and kind.__struct_config__.array_like
        )

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        info = msgspec.inspect.type_info(field_definition.type_)
        assert isinstance(info, msgspec.inspect.StructType)
        hints = field_definition.get_type_hints(include_extras=True, resolve_generics=True)
        items = []
        for field in info.fields:
            bounds = kwarg_definition_from_field(field)[0]  # what Litestar reads from `Meta`
            extra = {"kwarg_definition": bounds} if bounds else {}
            items.append(
                schema_creator.for_field_definition(
                    FieldDefinition.from_annotation(hints[field.name], name=field.name, **extra)
                )
            )
        return Schema(
            type=OpenAPIType.ARRAY,
            prefix_items=items,
            min_items=len(items),
            max_items=len(items),
            description=(field_definition.type_.__doc__ or "").strip() or None,
        )


def openapi_components() -> Components:
    return Components(security_schemes={BEARER: BEARER_SCHEME})


def route_handlers(
    routes: Iterable[HTTPRouteHandler | type[Controller]],
) -> list[HTTPRouteHandler]:
    """The HTTP handlers of routes as the app registers them: plain handlers, and the
    handlers of Controller classes."""
    found: list[HTTPRouteHandler] = []
    for route in routes:
        if isinstance(route, HTTPRouteHandler):
            found.append(route)
        else:
            found.extend(v for v in vars(route).values() if isinstance(v, HTTPRouteHandler))
    return found


def describe_errors(routes: Iterable[HTTPRouteHandler | type[Controller]]) -> None:
    """Give each API route its bearer requirement and its error answers, all one `ErrorBody`.

    A route that declares an answer of its own for a status (POST /api/orders' rejection)
    keeps it. Done on the handlers before the app is built (the app copies a Controller's
    handlers from its class), as their decorators would."""
    for handler in route_handlers(routes):
        public = bool(handler.opt.get("public"))
        errors = ERRORS if public else {**ERRORS, **AUTH_ERRORS}
        declared = dict(handler.responses or {})
        for status, description in errors.items():
            declared.setdefault(status, ResponseSpec(ErrorBody, description=description, generate_examples=False))
        handler.responses = declared
        if not public:
            handler.security = [{BEARER: []}]
