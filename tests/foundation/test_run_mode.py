"""STORECAST_ENV=production refuses to start on anything meant only for the demo, naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import structlog.testing

from bench.processes import ROOT
from server.cli import warn_if_demo
from server.settings import SettingsError, load_settings


@pytest.fixture
def production(tmp_path: Path) -> dict[str, str]:
    """A production environment with everything of its own: real providers, own secrets."""
    merchant_key = tmp_path / "apiclient_key.pem"
    platform_key = tmp_path / "pub_key.pem"
    merchant_key.write_text("merchant key")
    platform_key.write_text("platform key")
    return {
        "STORECAST_ENV": "production",
        "STORECAST_AUTH_SECRET": "a-secret-of-our-own-0123456789abcdef",
        "STORECAST_ORDERS_PAYMENT_SECRET": "another-secret-of-our-own-0123456789",
        "STORECAST_AUTH_LOGIN_PROVIDER": "wechat",
        "STORECAST_AUTH_WECHAT_APP_ID": "wx0123456789abcdef",
        "STORECAST_AUTH_WECHAT_APP_SECRET": "app-secret",
        "STORECAST_ORDERS_PAYMENT_PROVIDER": "wechatpay",
        "STORECAST_ORDERS_WECHATPAY_MCH_ID": "1900000109",
        "STORECAST_ORDERS_WECHATPAY_APP_ID": "wx0123456789abcdef",
        "STORECAST_ORDERS_WECHATPAY_MERCHANT_KEY_PATH": str(merchant_key),
        "STORECAST_ORDERS_WECHATPAY_MERCHANT_SERIAL": "5157F09EFDC096DE15EBE81A47057A72",
        "STORECAST_ORDERS_WECHATPAY_PLATFORM_KEY_PATH": str(platform_key),
        "STORECAST_ORDERS_WECHATPAY_PLATFORM_SERIAL": "PUB_KEY_ID_0000000000000024101100397200000006",
        "STORECAST_ORDERS_WECHATPAY_API_V3_KEY": "0123456789abcdef0123456789abcdef",
    }


def test_production_with_its_own_secrets_and_real_providers_starts(
    production: dict[str, str],
) -> None:
    assert load_settings(production).env == "production"


def test_the_demo_mode_keeps_every_default() -> None:
    settings = load_settings({})
    assert (settings.env, settings.auth.login_provider, settings.orders.payment_provider) == (
        "demo",
        "demo",
        "sandbox",
    )


@pytest.mark.parametrize(
    ("unset", "named"),
    [
        ("STORECAST_AUTH_SECRET", "STORECAST_AUTH_SECRET is the public default"),
        (
            "STORECAST_ORDERS_PAYMENT_SECRET",
            "STORECAST_ORDERS_PAYMENT_SECRET is the public default",
        ),
        ("STORECAST_ORDERS_PAYMENT_PROVIDER", "STORECAST_ORDERS_PAYMENT_PROVIDER is the sandbox"),
        ("STORECAST_AUTH_LOGIN_PROVIDER", "STORECAST_AUTH_LOGIN_PROVIDER is demo"),
    ],
)
def test_production_refuses_each_demo_default_naming_it(
    production: dict[str, str], unset: str, named: str
) -> None:
    del production[unset]
    with pytest.raises(SettingsError, match=named):
        load_settings(production)


@pytest.mark.parametrize(
    "unset",
    [
        "STORECAST_AUTH_WECHAT_APP_SECRET",
        "STORECAST_ORDERS_WECHATPAY_MCH_ID",
        "STORECAST_ORDERS_WECHATPAY_PLATFORM_SERIAL",
    ],
)
def test_a_real_provider_without_its_credentials_is_refused_naming_them(
    production: dict[str, str], unset: str
) -> None:
    del production[unset]
    with pytest.raises(SettingsError, match=f"{unset} is not set"):
        load_settings(production)


def test_an_api_v3_key_that_is_not_32_bytes_is_refused(production: dict[str, str]) -> None:
    production["STORECAST_ORDERS_WECHATPAY_API_V3_KEY"] = "too-short"
    with pytest.raises(SettingsError, match="STORECAST_ORDERS_WECHATPAY_API_V3_KEY"):
        load_settings(production)


def test_an_unknown_run_mode_is_named() -> None:
    with pytest.raises(SettingsError, match="STORECAST_ENV"):
        load_settings({"STORECAST_ENV": "staging"})


def test_the_service_refuses_to_start_in_production_on_the_defaults(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORECAST_")}
    env.update(STORECAST_ENV="production", STORECAST_VAR_DIR=str(tmp_path))
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "STORECAST_AUTH_SECRET is the public default" in done.stderr
    assert "STORECAST_AUTH_LOGIN_PROVIDER is demo" in done.stderr


def test_an_app_node_in_demo_mode_says_what_production_would_refuse() -> None:
    with structlog.testing.capture_logs() as logs:
        warn_if_demo(load_settings({}))
    assert logs[0]["event"] == "storecast.demo_mode"
    assert "STORECAST_AUTH_SECRET is the public default" in logs[0]["not_for_production"]
