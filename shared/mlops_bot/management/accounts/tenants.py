"""Tenants: creation (with an admin user), listing, visibility, and quota-checked user creation.

The admins of the operator tenant (`MLOPS_BOT_OPERATOR_TENANT`, `default` unless set) run the
platform and see every tenant; any other admin sees only its own tenant, and another tenant's id
answers 404 exactly like one that does not exist.

The functions take `TenantStores`, which the API's dependencies and the CLI build.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.access import users
from mlops_bot.access.api_keys import Permission, Principal
from mlops_bot.access.users import AccessStores
from mlops_bot.clock import iso, utc_now
from mlops_bot.errors import Forbidden, NotFound, ValidationFailed
from mlops_bot.management.accounts import quotas, usage
from mlops_bot.management.accounts.quotas import ResourceQuota
from mlops_bot.stores.tenants import TenantProfile, TenantStatus, TenantStore, UnreadableProfile
from mlops_bot.stores.usage import UsageStore

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
    status: TenantStatus
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


@dataclass(frozen=True)
class TenantStores:
    """What the tenant services read and write."""

    tenants: TenantStore
    usage: UsageStore
    access: AccessStores


def is_operator(caller: Principal, operator_tenant: str) -> bool:
    return caller.tenant_id == operator_tenant and caller.can("admin")


def ensure_visible(caller: Principal, tenant_id: str, operator_tenant: str) -> None:
    """Own tenant, or any tenant for an operator; otherwise the tenant does not exist for the caller."""
    if tenant_id != caller.tenant_id and not is_operator(caller, operator_tenant):
        raise NotFound("Tenant not found", f"No tenant '{tenant_id}'")


def current_usage(stores: TenantStores, tenant_id: str) -> CurrentUsage:
    counted = stores.tenants.counters(tenant_id)
    return CurrentUsage(
        pipelines=counted.pipeline_count,
        storage_gb=usage.storage_gb(stores.usage, tenant_id),
        users=counted.user_count,
    )


def get_tenant(stores: TenantStores, tenant_id: str) -> Tenant:
    """The registered tenant (404 otherwise); `UnreadableProfile` when its stored profile is malformed."""
    registration = stores.tenants.registration(tenant_id)
    if registration is None:
        raise NotFound("Tenant not found", f"No tenant '{tenant_id}'")
    profile = stores.tenants.profile(tenant_id) or TenantProfile(tenant_id=tenant_id)
    return Tenant(
        id=tenant_id,
        name=profile.name or tenant_id,
        status=profile.status,
        created_at=profile.created_at or registration.created_at,
        resource_quota=profile.resource_quota,
        current_usage=current_usage(stores, tenant_id),
    )


def registered_ids(stores: TenantStores) -> list[str]:
    """Every registered tenant's id (never the reserved `_system` tenant), for operators' fleet-wide views."""
    return [registration.tenant_id for registration in stores.tenants.registered()]


def list_tenants(stores: TenantStores, caller: Principal, operator_tenant: str) -> TenantList:
    if is_operator(caller, operator_tenant):
        ids = [registration.tenant_id for registration in stores.tenants.registered()]
    else:
        ids = [caller.tenant_id]
    tenants = [t for t in (_readable_tenant(stores, i) for i in ids) if t is not None]
    return TenantList(tenants=tenants, total=len(tenants))


def _readable_tenant(stores: TenantStores, tenant_id: str) -> Tenant | None:
    """One tenant of a listing; an unregistered id or a malformed profile (logged by the store) is left out."""
    try:
        return get_tenant(stores, tenant_id)
    except NotFound:
        return None
    except UnreadableProfile:
        logger.error("unreadable tenant skipped", extra={"tenant_id": tenant_id})
        return None


def add_user(stores: TenantStores, tenant_id: str, username: str, password: str, role: Permission) -> users.User:
    """Create a user within the tenant's `max_users` quota (403 QUOTA_EXCEEDED above it).

    The name, the user and the counted slot are written together (`stores.users`), so concurrent
    creations can never pass the quota. 409 only when this tenant already has the name. The tenant
    is registered (once) so the sweep and the operators' listing see it.
    """
    maximum = stores.tenants.quota(tenant_id).max_users
    try:
        user = users.create_user(stores.access, tenant_id, username, password, role, max_users=maximum)
    except users.QuotaFull as full:
        raise quotas.exceeded("users", maximum) from full
    stores.tenants.register(tenant_id, iso(utc_now()))
    return user


def create_tenant(
    stores: TenantStores, caller: Principal, operator_tenant: str, request: TenantCreate
) -> TenantCreated:
    if not is_operator(caller, operator_tenant):
        raise Forbidden("Insufficient permissions", "Only operators (admins of the operator tenant) create tenants")
    if request.resource_quota.max_users < 1:
        raise ValidationFailed("Invalid resource quota", "max_users must leave room for the tenant's admin user")
    tenant_id = f"tenant-{uuid.uuid4().hex[:12]}"
    now = iso(utc_now())
    stores.tenants.save_profile(
        TenantProfile(
            tenant_id=tenant_id,
            name=request.name,
            admin_email=request.admin_email,
            status=TenantStatus.ACTIVE,
            created_at=now,
            resource_quota=request.resource_quota,
        )
    )
    stores.tenants.register(tenant_id, now)
    password = secrets.token_urlsafe(18)
    admin = add_user(stores, tenant_id, request.admin_email, password, "admin")
    tenant = get_tenant(stores, tenant_id)
    return TenantCreated(
        **tenant.model_dump(),
        admin_user=AdminUser(id=admin.id, username=admin.username, role=admin.role, initial_password=password),
    )
