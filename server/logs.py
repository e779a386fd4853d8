"""Structured logs: one JSON object per line on stderr, from our code and from the stdlib.

Every line passes through `mask_credentials_processor`, so a URL with a password in it
(`redis://:secret@host`, `postgresql://user:secret@host/db`) is written with `***` instead,
whoever logged it. Exceptions are written as formatted tracebacks, from the stdlib's
loggers too.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

CREDENTIALS_IN_URL = re.compile(
    r"(?P<head>[A-Za-z][A-Za-z0-9+.-]{0,31}://[^:/@\s]{0,256}:)[^@\s]{1,256}@"
)
"""Bounded repeats: a log line may carry a client's long text, and an unbounded pattern
would cost time quadratic in it."""


def mask_credentials(text: str) -> str:
    """`redis://:s3cr3t@host:6379` -> `redis://:***@host:6379`."""
    return CREDENTIALS_IN_URL.sub(r"\g<head>***@", text)


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_credentials(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_masked(item) for item in value)
    return value


def mask_credentials_processor(
    logger: Any, method_name: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    return {key: _masked(value) for key, value in event_dict.items()}


def configure_logging(level: str = "INFO") -> None:
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.format_exc_info,
            mask_credentials_processor,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                # A stdlib record's exc_info is a tuple; without this it is written as
                # "<traceback object at 0x...>".
                structlog.processors.format_exc_info,
                mask_credentials_processor,
                structlog.processors.JSONRenderer(),
            ],
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Alembic announces every plugin at INFO; a person running `db upgrade` wants the outcome.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    # httpx logs every request's full URL at INFO, and WeChat's code2session carries the
    # app secret in its query string (attribution/wechat.py): its failures still reach us
    # as exceptions, so its INFO lines are not needed.
    logging.getLogger("httpx").setLevel(logging.WARNING)
