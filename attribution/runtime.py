"""attribution/' long-lived objects in one process, built once by the assembly and injected
into handlers as the `attribution` dependency."""

from __future__ import annotations

from dataclasses import dataclass

from attribution.identity import IdentityProvider
from attribution.login import identity_provider
from server.settings import Settings


@dataclass(frozen=True)
class AttributionRuntime:
    identity: IdentityProvider
    """Who a mini-program login is (the demo provider, or WeChat's code2session)."""

    @classmethod
    def build(cls, settings: Settings) -> AttributionRuntime:
        return cls(identity=identity_provider(settings))
