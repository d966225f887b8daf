"""The reconciler against the stand-in GitHub's deliveries API (App JWT) and the real table (moto)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.adapters.github import GitHubAppDeliveries
from mlops_bot.reconciliation.service import ReconcilerStores, reconcile
from mlops_bot.stores.deliveries import Delivery, DynamoDeliveryStore
from mlops_bot.stores.redeliveries import DynamoRedeliveryRequestStore
from mlops_bot.stores.repositories import DynamoRepositoryStore
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


def test_failed_deliveries_are_redelivered_once_and_delivered_ones_left_alone(
    aws: MockState, github: GitHubStandIn, app_key: rsa.RSAPrivateKey
) -> None:
    table = StateTable(aws.table_name)
    github.add_hook_delivery("guid-recovered", 502)
    github.add_hook_delivery("guid-recovered", 202, redelivery=True)
    lost = github.add_hook_delivery("guid-lost", 500)
    github.add_hook_delivery("guid-stored", 504)  # timed out at GitHub, but we stored and queued it
    stores = ReconcilerStores(
        DynamoRepositoryStore(table), DynamoDeliveryStore(table), DynamoRedeliveryRequestStore(table)
    )
    stored = Delivery(
        tenant_id="default",
        delivery_id="guid-stored",
        event="workflow_run",
        execution_id="exec-1",
        received_at="2026-11-27T10:00:00Z",
        expires_at=1_900_000_000,
    )
    assert stores.deliveries.claim(stored) is None
    stores.deliveries.mark_queued(stored, "2026-11-27T10:00:01Z")
    pem = app_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    source = GitHubAppDeliveries(APP_ID, pem, github.url)

    report = reconcile(stores, source)
    assert report.redelivered == ["guid-lost"]
    assert report.examined == 3 and report.already_delivered == 2
    assert github.redelivery_requests == [lost]

    again = reconcile(stores, source)  # the next run, before GitHub's redelivery has arrived
    assert again.redelivered == [] and again.already_requested == 1
    assert github.redelivery_requests == [lost]
    [listing] = github.calls_to("GET", r"^/app/hook/deliveries$")[:1]
    assert listing.headers["authorization"].startswith("Bearer ")  # the App JWT, not a token
