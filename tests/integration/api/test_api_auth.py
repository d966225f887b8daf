"""API keys, JWT login/refresh/revoke, roles: what a caller may and may not do."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from mlops_bot.access import api_keys, passwords, tokens
from mlops_bot.management.accounts import tenants
from mlops_bot.storage import keys
from tests.integration.api.conftest import JWT_SECRET, Api
from tests.support.stores import api_key_stores, tenant_stores

PASSWORD = "correct horse battery staple"


def _user(api: Api, role: str = "admin", tenant: str = "default", username: str = "dana@example.com") -> None:
    tenants.add_user(tenant_stores(api.table), tenant, username, PASSWORD, role)  # type: ignore[arg-type]


def _login(api: Api, username: str = "dana@example.com", password: str = PASSWORD) -> Any:
    return api.client.post("/auth/login", json={"username": username, "password": password})


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {
        "sub": "user-x",
        "tenant_id": "default",
        "type": "access",
        "iat": now,
        "exp": now + 3600,
        "jti": "j1",
        "iss": tokens.ISSUER,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


# ------------------------------------------------------------------------------ API keys


def test_a_request_without_credentials_is_unauthorized_in_the_spec_format(api: Api) -> None:
    response = api.client.get("/api/v1/issues")
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "UNAUTHORIZED"
    assert error["request_id"] == response.headers["x-request-id"]
    assert error["timestamp"].endswith("Z")


def test_an_unknown_api_key_is_unauthorized(api: Api) -> None:
    response = api.client.get("/api/v1/issues", headers=_bearer("mlb_not-a-real-key"))
    assert response.status_code == 401


def test_a_revoked_api_key_stops_working_at_once(api: Api) -> None:
    headers = api.key("read")
    assert api.client.get("/api/v1/issues", headers=headers).status_code == 200
    [record] = [k for k in api_keys.list_keys(api_key_stores(api.table), "default") if k.name == "read-key"]
    api_keys.revoke(api_key_stores(api.table), record.id)
    response = api.client.get("/api/v1/issues", headers=headers)
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]["details"]


def test_a_read_key_cannot_use_a_write_route(api: Api) -> None:
    incident = api.incident()
    response = api.client.post(f"/api/v1/issues/{incident['id']}/resolve", headers=api.key("read"), json={})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"
    assert api.healing_messages() == []


def test_roles_are_ordered_read_write_admin(api: Api) -> None:
    write, admin = api.key("write"), api.key("admin")
    assert api.client.get("/api/v1/playbooks", headers=write).status_code == 200  # write includes read
    body = {"enabled": False}
    assert api.client.patch("/api/v1/playbooks/flaky_test_response", headers=write, json=body).status_code == 403
    assert api.client.patch("/api/v1/playbooks/flaky_test_response", headers=admin, json=body).status_code == 200


def test_api_keys_are_stored_only_as_digests(api: Api) -> None:
    secret, principal = api_keys.generate(api_key_stores(api.table), "default", "ci", ["read"])
    stored = api.table.get(keys.api_key_key("default", principal.key_id))
    assert stored is not None
    assert secret not in json.dumps(stored)
    assert stored["key_hash"] == api_keys.digest(secret)


# ------------------------------------------------------------------------------ JWT


def test_login_returns_the_spec_tokens_and_the_access_token_works(api: Api) -> None:
    _user(api, role="write")
    response = _login(api)
    assert response.status_code == 200
    body = response.json()
    assert body["expires_in"] == 3600
    assert body["user_info"]["role"] == "write"
    assert body["user_info"]["tenant_id"] == "default"
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "HS256"
    claims = jwt.decode(body["access_token"], JWT_SECRET, algorithms=["HS256"], issuer=tokens.ISSUER)
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["type"] == "access"
    assert api.client.get("/api/v1/issues", headers=_bearer(body["access_token"])).status_code == 200


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(api: Api) -> None:
    _user(api)
    wrong = _login(api, password="not the password at all")
    unknown = _login(api, username="nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]


def test_passwords_are_stored_as_scrypt_hashes(api: Api) -> None:
    _user(api)
    [user] = api.table.query(keys.tenant_pk("default"), "USER#")
    assert PASSWORD not in json.dumps(user)
    assert user["password_hash"].startswith("scrypt$")
    assert passwords.verify_password(PASSWORD, user["password_hash"])
    assert not passwords.verify_password(PASSWORD + "!", user["password_hash"])


def test_repeated_failed_logins_are_throttled(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLOPS_BOT_LOGIN_ATTEMPTS", "2")
    from mlops_bot.management.platform.settings import reset_management_settings

    reset_management_settings()
    _user(api)
    assert _login(api, password="wrong password 1").status_code == 401
    assert _login(api, password="wrong password 2").status_code == 401
    throttled = _login(api)
    assert throttled.status_code == 429
    assert throttled.json()["error"]["retry_after"] > 0


def test_someone_guessing_from_another_address_never_locks_the_user_out(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLOPS_BOT_LOGIN_ATTEMPTS", "2")
    from mlops_bot.management.platform.settings import reset_management_settings

    reset_management_settings()
    _user(api)
    attacker = TestClient(api.client.app, raise_server_exceptions=False, client=("203.0.113.66", 40000))
    owner = TestClient(api.client.app, raise_server_exceptions=False, client=("198.51.100.7", 40000))
    guesses = [
        attacker.post("/auth/login", json={"username": "dana@example.com", "password": f"guess {n}"}).status_code
        for n in range(6)
    ]
    assert guesses == [401, 401, 429, 429, 429, 429]
    assert owner.post("/auth/login", json={"username": "dana@example.com", "password": PASSWORD}).status_code == 200


def test_an_expired_access_token_is_refused(api: Api) -> None:
    now = int(time.time())
    token = jwt.encode(_claims(iat=now - 7200, exp=now - 3600), JWT_SECRET, algorithm="HS256")
    response = api.client.get("/api/v1/issues", headers=_bearer(token))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Token expired"


def test_a_tampered_token_is_refused(api: Api) -> None:
    _user(api, role="read")
    token = _login(api).json()["access_token"]
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["tenant_id"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    response = api.client.get("/api/v1/issues", headers=_bearer(f"{header}.{forged}.{signature}"))
    assert response.status_code == 401


@pytest.mark.parametrize("algorithm", ["none", "HS512", "RS256"])
def test_tokens_with_another_algorithm_are_refused(api: Api, algorithm: str) -> None:
    _user(api)
    [user] = api.table.query(keys.tenant_pk("default"), "USER#")
    session = jwt.decode(_login(api).json()["access_token"], options={"verify_signature": False})["fam"]
    claims = _claims(sub=user["id"], fam=session)
    if algorithm == "none":
        token = jwt.encode(claims, None, algorithm="none")
    elif algorithm == "HS512":
        token = jwt.encode(claims, JWT_SECRET, algorithm="HS512")
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        token = jwt.encode(claims, pem, algorithm="RS256")
    assert api.client.get("/api/v1/issues", headers=_bearer(token)).status_code == 401
    # the same claims, signed as the server signs, are accepted: only the algorithm differs
    good = jwt.encode(claims, JWT_SECRET, algorithm="HS256")
    assert api.client.get("/api/v1/issues", headers=_bearer(good)).status_code == 200


def test_a_token_missing_a_required_claim_is_refused(api: Api) -> None:
    _user(api)
    [user] = api.table.query(keys.tenant_pk("default"), "USER#")
    token = jwt.encode(_claims(sub=user["id"], tenant_id=None), JWT_SECRET, algorithm="HS256")
    assert api.client.get("/api/v1/issues", headers=_bearer(token)).status_code == 401


def test_a_refresh_token_is_not_an_access_token_and_back(api: Api) -> None:
    _user(api)
    pair = _login(api).json()
    assert api.client.get("/api/v1/issues", headers=_bearer(pair["refresh_token"])).status_code == 401
    wrong_kind = api.client.post("/auth/refresh", json={"refresh_token": pair["access_token"]})
    assert wrong_kind.status_code == 401


def test_refresh_rotates_and_a_reused_refresh_token_revokes_the_session(api: Api) -> None:
    _user(api)
    first = _login(api).json()
    second = api.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert api.client.get("/api/v1/issues", headers=_bearer(rotated["access_token"])).status_code == 200
    replay = api.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status_code == 401
    # the copy was detected: the legitimate holder's newer token is dead too
    assert api.client.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]}).status_code == 401


def test_a_revoked_session_cannot_refresh(api: Api) -> None:
    _user(api)
    pair = _login(api).json()
    assert api.client.post("/auth/revoke", json={"refresh_token": pair["refresh_token"]}).status_code == 200
    assert api.client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_revoking_a_session_ends_its_access_tokens_too(api: Api) -> None:
    _user(api)
    pair = _login(api).json()
    assert api.client.get("/api/v1/issues", headers=_bearer(pair["access_token"])).status_code == 200
    assert api.client.post("/auth/revoke", json={"refresh_token": pair["refresh_token"]}).status_code == 200
    refused = api.client.get("/api/v1/issues", headers=_bearer(pair["access_token"]))
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] == "UNAUTHORIZED"


def test_a_reused_refresh_token_ends_every_access_token_of_that_login(api: Api) -> None:
    _user(api)
    first = _login(api).json()
    rotated = api.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}).json()
    assert api.client.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code == 401
    for token in (first["access_token"], rotated["access_token"]):
        assert api.client.get("/api/v1/issues", headers=_bearer(token)).status_code == 401


def test_a_disabled_user_is_refused_even_with_a_valid_token(api: Api) -> None:
    _user(api)
    token = _login(api).json()["access_token"]
    [user] = api.table.query(keys.tenant_pk("default"), "USER#")
    api.table.set_fields(keys.user_key("default", user["id"]), {"disabled": True})
    assert api.client.get("/api/v1/issues", headers=_bearer(token)).status_code == 401


def test_login_without_a_configured_secret_is_service_unavailable(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLOPS_BOT_JWT_SECRET")
    from mlops_bot.management.platform.settings import reset_management_settings

    reset_management_settings()
    _user(api)
    response = _login(api)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"


def test_the_jwt_secret_is_read_from_secrets_manager(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    arn = boto3.client("secretsmanager").create_secret(Name="jwt", SecretString="s" * 48)["ARN"]
    monkeypatch.delenv("MLOPS_BOT_JWT_SECRET")
    monkeypatch.setenv("MLOPS_BOT_JWT_SECRET_NAME", arn)
    from mlops_bot.management.platform.settings import reset_management_settings

    reset_management_settings()
    _user(api)
    token = _login(api).json()["access_token"]
    assert jwt.decode(token, "s" * 48, algorithms=["HS256"], issuer=tokens.ISSUER)["type"] == "access"
