"""The scheduler's reconcile task builds its GitHub App client through `github_access` (stand-in GitHub, moto)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mlops_bot.config import reset_settings
from tests.integration.conftest import lambda_context, load_handler
from tests.support.aws import MockState
from tests.support.github_standin import GitHubStandIn

APP_ID = 424242


@pytest.fixture
def app_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def github(app_key: rsa.RSAPrivateKey) -> Iterator[GitHubStandIn]:
    public = app_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with GitHubStandIn(app_id=APP_ID, app_public_key=public) as standin:
        yield standin


@pytest.fixture
def settings_reset() -> Iterator[None]:
    reset_settings()
    yield
    reset_settings()


def test_reconcile_redelivers_lost_deliveries_with_the_apps_credentials(
    aws: MockState,
    github: GitHubStandIn,
    app_key: rsa.RSAPrivateKey,
    monkeypatch: pytest.MonkeyPatch,
    settings_reset: None,
) -> None:
    pem = app_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    monkeypatch.setenv("GITHUB_API_URL", github.url)
    monkeypatch.setenv("GITHUB_APP_ID", str(APP_ID))
    monkeypatch.setenv("GITHUB_APP_PRIVATE_KEY", pem)
    lost = github.add_hook_delivery("guid-lost", 500)
    reset_settings()

    answer = load_handler("scheduler").handler({"task": "reconcile"}, lambda_context("scheduler"))

    assert (answer["reconciled"], answer["redelivered"]) == (True, ["guid-lost"])
    assert github.redelivery_requests == [lost]


def test_reconcile_is_skipped_without_app_credentials(
    aws: MockState, github: GitHubStandIn, monkeypatch: pytest.MonkeyPatch, settings_reset: None
) -> None:
    monkeypatch.setenv("GITHUB_API_URL", github.url)
    monkeypatch.setenv("GITHUB_TOKEN", "t0k")  # a token cannot list the App's deliveries
    github.add_hook_delivery("guid-lost", 500)
    reset_settings()

    answer = load_handler("scheduler").handler({"task": "reconcile"}, lambda_context("scheduler"))

    assert answer == {"reconciled": False}
    assert github.redelivery_requests == []
