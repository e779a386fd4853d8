"""Role tokens: a host or guide token always names its store, from the signer and the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest

from bench.processes import ROOT
from server.auth import Principal, Role, TokenError, TokenSigner
from server.settings import load_settings

SECRET = "test-secret-of-at-least-32-bytes-for-hs256"


@pytest.mark.parametrize("role", [Role.HOST, Role.GUIDE])
def test_a_host_or_guide_principal_without_a_store_cannot_be_made_or_issued(role: Role) -> None:
    with pytest.raises(ValueError, match="store is required"):
        TokenSigner(SECRET, 60).issue(Principal(role, 9))


@pytest.mark.parametrize("role", ["host", "guide"])
def test_a_signed_host_or_guide_token_without_a_store_is_refused(role: str) -> None:
    now = int(time.time())
    claims = {"role": role, "sub": "9", "store": None, "iat": now, "exp": now + 60}
    storeless = jwt.encode(claims, SECRET, algorithm="HS256")
    with pytest.raises(TokenError):
        TokenSigner(SECRET, 60).verify(storeless)


def test_hq_and_viewer_tokens_need_no_store_and_a_host_token_keeps_its_store() -> None:
    signer = TokenSigner(SECRET, 60)
    for principal in (Principal(Role.HQ, 1), Principal(Role.VIEWER, 4), Principal(Role.HOST, 9, 2)):
        assert signer.verify(signer.issue(principal)) == principal


def _create_token(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORECAST_")}
    env["STORECAST_VAR_DIR"] = str(tmp_path / "var")
    return subprocess.run(
        [sys.executable, "-m", "server.cli", "create-token", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_create_token_refuses_a_host_without_store_and_names_the_option(tmp_path: Path) -> None:
    refused = _create_token(tmp_path, "host", "9")
    assert refused.returncode == 2
    assert "--store" in refused.stderr
    assert refused.stdout == ""


def test_create_token_for_a_host_of_a_store_verifies_as_that_store(tmp_path: Path) -> None:
    issued = _create_token(tmp_path, "host", "9", "--store", "2")
    assert issued.returncode == 0, issued.stderr
    settings = load_settings({"STORECAST_VAR_DIR": str(tmp_path / "var")})
    signer = TokenSigner(settings.auth.secret, settings.auth.token_ttl_seconds)
    assert signer.verify(issued.stdout.strip()) == Principal(Role.HOST, 9, 2)
