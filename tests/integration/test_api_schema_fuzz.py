"""schemathesis against the management API's own OpenAPI, in process (ASGI), on moto.

For every operation, generated requests (valid and invalid) must never produce a 5xx, and every
documented response must match its schema.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from mlops_bot.api.app import create_app

ADMIN_KEY = "mlb_schema-fuzz-admin"
app = create_app()
schema = schemathesis.openapi.from_asgi("/openapi.json", app)
# One pytest item per operation, each with its own id: `schema.parametrize()` gives every operation
# the same node id, and pytest-xdist then runs one of them and reports "1 passed".
OPERATIONS = [result.ok() for result in schema.get_all_operations()]


@pytest.fixture(scope="module", autouse=True)
def aws() -> Iterator[None]:
    from mlops_bot.access.api_keys import ensure_bootstrap_key
    from mlops_bot.adapters.dynamodb import StateTable
    from mlops_bot.api import dependencies
    from mlops_bot.config import reset_settings
    from mlops_bot.management.platform.settings import reset_management_settings
    from tests.support.aws import create_state
    from tests.support.stores import api_key_stores

    saved = dict(os.environ)
    with mock_aws():
        state = create_state("fuzz")
        signing_key = boto3.client("kms").create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY")
        os.environ.update(
            {
                "MLOPS_BOT_TABLE_NAME": state.table_name,
                "MLOPS_BOT_EVENTS_QUEUE_URL": state.queues["EventsQueue"],
                "MLOPS_BOT_HEALING_QUEUE_URL": state.queues["HealingQueue"],
                "MLOPS_BOT_JWT_SECRET": "fuzz-jwt-secret-0123456789abcdef0123456789",
                "MLOPS_BOT_COMPLIANCE_KEY_ID": signing_key["KeyMetadata"]["KeyId"],
            }
        )
        reset_settings()
        reset_management_settings()
        dependencies.forget_cached()
        ensure_bootstrap_key(api_key_stores(StateTable(state.table_name)), ADMIN_KEY)
        yield
    os.environ.clear()
    os.environ.update(saved)
    dependencies.state_table.cache_clear()
    reset_settings()


@pytest.mark.parametrize("operation", OPERATIONS, ids=[operation.label for operation in OPERATIONS])
@settings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_no_server_errors_and_responses_match_the_schema(
    operation: schemathesis.APIOperation, data: st.DataObject
) -> None:
    case = data.draw(
        st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))
    )
    # Health routes answer 503 by design when a component is down (here: no GitHub on the network).
    health = case.operation.path.startswith(("/health", "/api/health", "/api/status"))
    checks = [response_schema_conformance] if health else [not_a_server_error, response_schema_conformance]
    case.call_and_validate(headers={"authorization": f"Bearer {ADMIN_KEY}"}, checks=checks)
