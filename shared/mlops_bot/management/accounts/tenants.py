"""Tenants: creation (with an admin user), listing, visibility, and quota-checked user creation.

The admins of the operator tenant (`MLOPS_BOT_OPERATOR_TENANT`, `default` unless set) run the
platform and see every tenant; any other admin sees only its own tenant, and another tenant's id
answers 404 exactly like one that does not exist.
"""

from __future__ import annotations

import logging
import secrets
import uuid

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlops_bot.access import users
from mlops_bot.access.api_keys import Permission, Principal
from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import iso, utc_now
from mlops_bot.errors import Forbidden, NotFound, ValidationFailed
from mlops_bot.management.accounts import quotas, usage
from mlops_bot.management.accounts.quotas import ResourceQuota
from mlops_bot.storage import keys
from mlops_bot.tenancy.service import register_tenant

logger = logging.getLogger("mlops_bot.management.accounts.tenants")
EMAIL_PATTERN = r"^[^@\s]{1,64}@[^@\s]{1,255}\.[^@\s]{2,63}$"


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    admin_email: str = Field(pattern=EMAIL_PATTERN, max_length=254)
    resource_quota: ResourceQuota = Field(default_factory=ResourceQuota)


class CurrentUsage(BaseModel):
    pipelines: int
    storage_gb: float
    users: int


class Tenant(BaseModel):
    id: str
    name: str
    status: str
    created_at: str
    resource_quota: ResourceQuota
    current_usage: CurrentUsage


class AdminUser(BaseModel):
    """The new tenant's first admin; the password is shown once, in this answer only."""

    id: str
    username: str
    role: Permission
    initial_password: str


class TenantCreated(Tenant):
    admin_user: AdminUser


class TenantList(BaseModel):
    tenants: list[Tenant]
    total: int


def is_operator(caller: Principal, operator_tenant: str) -> bool:
    return caller.tenant_id == operator_tenant and caller.can("admin")


def ensure_visible(caller: Principal, tenant_id: str, operator_tenant: str) -> None:
    """Own tenant, or any tenant for an operator; otherwise the tenant does not exist for the caller."""
    if tenant_id != caller.tenant_id and not is_operator(caller, operator_tenant):
        raise NotFound("Tenant not found", f"No tenant '{tenant_id}'")


def _exists(table: StateTable, tenant_id: str) -> bool:
    return table.get(keys.tenant_registry_key(tenant_id)) is not None


def current_usage(table: StateTable, tenant_id: str) -> CurrentUsage:
    counted = quotas.counters(table, tenant_id)
    return CurrentUsage(
        pipelines=counted["pipeline_count"],
        storage_gb=usage.storage_gb(table, tenant_id),
        users=counted["user_count"],
    )


def get_tenant(table: StateTable, tenant_id: str) -> Tenant:
    registry = table.get(keys.tenant_registry_key(tenant_id))
    if registry is None:
        raise NotFound("Tenant not found", f"No tenant '{tenant_id}'")
    profile = table.get(keys.tenant_profile_key(tenant_id)) or {}
    return Tenant(
        id=tenant_id,
        name=str(profile.get("name", tenant_id)),
        status=str(profile.get("status", "active")),
        created_at=str(profile.get("created_at") or registry.get("created_at", "")),
        resource_quota=ResourceQuota.model_validate(profile.get("resource_quota") or {}),
        current_usage=current_usage(table, tenant_id),
    )


def list_tenants(table: StateTable, caller: Principal, operator_tenant: str) -> TenantList:
    if is_operator(caller, operator_tenant):
        ids = [str(t["tenant_id"]) for t in table.query(keys.tenant_registry_pk(), "TENANT#")]
        ids = [i for i in ids if i != keys.SYSTEM_TENANT]
    else:
        ids = [caller.tenant_id]
    tenants = [t for t in (_readable_tenant(table, i) for i in ids if _exists(table, i)) if t is not None]
    return TenantList(tenants=tenants, total=len(tenants))


def _readable_tenant(table: StateTable, tenant_id: str) -> Tenant | None:
    """One tenant of a listing; a malformed stored profile is logged and left out, never a 500."""
    try:
        return get_tenant(table, tenant_id)
    except ValidationError as exc:
        logger.error(
            "unreadable tenant skipped", extra={"tenant_id": tenant_id, "problems": exc.errors(include_input=False)[:5]}
        )
        return None


def add_user(table: StateTable, tenant_id: str, username: str, password: str, role: Permission) -> users.User:
    """Create a user within the tenant's `max_users` quota (403 QUOTA_EXCEEDED above it).

    The name, the user and the counted slot are written together (`stores.users`), so concurrent
    creations can never pass the quota. 409 only when this tenant already has the name.
    """
    maximum = quotas.quota_of(table, tenant_id).max_users
    try:
        return users.create_user(table, tenant_id, username, password, role, max_users=maximum)
    except users.QuotaFull as full:
        raise quotas.exceeded("users", maximum) from full


def create_tenant(table: StateTable, caller: Principal, operator_tenant: str, request: TenantCreate) -> TenantCreated:
    if not is_operator(caller, operator_tenant):
        raise Forbidden("Insufficient permissions", "Only operators (admins of the operator tenant) create tenants")
    if request.resource_quota.max_users < 1:
        raise ValidationFailed("Invalid resource quota", "max_users must leave room for the tenant's admin user")
    tenant_id = f"tenant-{uuid.uuid4().hex[:12]}"
    now = iso(utc_now())
    table.put(
        {
            **keys.tenant_profile_key(tenant_id),
            "entity": "tenant",
            "tenant_id": tenant_id,
            "name": request.name,
            "admin_email": request.admin_email,
            "status": "active",
            "created_at": now,
            "resource_quota": request.resource_quota.model_dump(),
        }
    )
    register_tenant(table, tenant_id)
    password = secrets.token_urlsafe(18)
    admin = add_user(table, tenant_id, request.admin_email, password, "admin")
    tenant = get_tenant(table, tenant_id)
    return TenantCreated(
        **tenant.model_dump(),
        admin_user=AdminUser(id=admin.id, username=admin.username, role=admin.role, initial_password=password),
    )
