"""Schemathesis over /schema: every operation, with a token of each role and with none,
against a real app process on the demo chain, on PostgreSQL (SQLite where there is no
initdb): the API is the same on both, and PostgreSQL is the stricter backend (an id past
its integer range is an error there, not on SQLite), so it runs once, there.

Schemathesis sends what /schema describes (and, in negative mode, what it forbids) and this
test fails on any 5xx, and on any answer whose status, content type or body /schema does
not describe. The examples per operation are bounded so it runs in about a minute.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as examples_settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bench.processes import ServiceProcess
from server.auth import Role
from server.demo import load_demo_data
from server.settings import Settings

pytestmark = [pytest.mark.one_backend, pytest.mark.slow, pytest.mark.demo]

EXAMPLES_PER_OPERATION = {GenerationMode.POSITIVE: 15, GenerationMode.NEGATIVE: 8}
"""Enough to reach every field's bounds (schemathesis starts from them); each example is
sent once per role, so an operation costs at most (15 + 8) x 5 requests."""
CONFORMANCE = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
"""What every answer must satisfy, to a valid request or an invalid one. (Schemathesis's
`negative_data_rejection` is left out: a property it adds that the schema does not forbid
may be taken, and that is no fault.)"""


def _role_headers(
    app: ServiceProcess, token_for: Callable[..., str], demo: Any
) -> dict[str, dict[str, str]]:
    staff_id, store_id, _ = demo.hosts[0]
    guide_id, guide_store, _ = demo.guides[0]
    login = httpx.post(f"{app.url}/api/auth/viewer", json={"code": "fuzz-viewer"})
    login.raise_for_status()
    return {
        "outsider": {},
        "viewer": {"Authorization": f"Bearer {login.json()['token']}"},
        "guide": {"Authorization": f"Bearer {token_for(Role.GUIDE, guide_id, guide_store)}"},
        "host": {"Authorization": f"Bearer {token_for(Role.HOST, staff_id, store_id)}"},
        "hq": {"Authorization": f"Bearer {token_for(Role.HQ, demo.hq_staff_id)}"},
    }


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    send: Callable[[Any], None],
) -> None:
    """Hypothesis over one operation: raises the smallest failing example it finds."""

    @given(case=operation.as_strategy(generation_mode=mode))
    @examples_settings(
        max_examples=EXAMPLES_PER_OPERATION[mode],
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def each_case(case: Any) -> None:
        send(case)

    each_case()


def test_no_request_described_by_the_schema_gets_a_server_error_or_an_undescribed_answer(
    settings: Settings,
    start_app_process: Callable[..., ServiceProcess],
    token_for: Callable[..., str],
) -> None:
    demo = asyncio.run(load_demo_data(settings))
    app = start_app_process()
    roles = _role_headers(app, token_for, demo)
    schema = schemathesis.openapi.from_url(f"{app.url}/schema/openapi.json")
    session = requests.Session()

    def as_each_role(case: Any) -> None:
        for role, headers in roles.items():
            try:
                case.call_and_validate(
                    base_url=app.url, session=session, headers=headers, checks=CONFORMANCE
                )
            except (Exception, BaseExceptionGroup) as exc:
                exc.add_note(f"sent as: {role}")
                raise

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20, "the schema lost its operations"
    failures: list[str] = []
    for operation in operations:
        for mode in EXAMPLES_PER_OPERATION:
            try:
                _fuzz(operation, mode, as_each_role)
            except Unsatisfiable:
                pass  # nothing to negate: an operation without parameters or body
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis groups its failures
                notes = "; ".join(getattr(exc, "__notes__", []))
                failures.append(f"{operation.label} ({mode.value}, {notes}): {exc}")
    assert not failures, "\n\n".join(failures)
