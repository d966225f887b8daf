"""Routing events to tenants and enrolling repositories.

An event belongs to the tenant its GitHub App installation was registered to, else to the tenant
that registered its repository. With auto-enrolment on, a repository (or installation) seen for
the first time joins the `default` tenant; with it off, events of unknown repositories are ignored.
"""

from __future__ import annotations

from typing import Any

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import iso, utc_now
from mlops_bot.storage import keys


def _route_tenant(item: dict[str, Any] | None) -> str | None:
    return str(item["tenant_id"]) if item and item.get("tenant_id") else None


def resolve_tenant(
    table: StateTable, installation_id: int | None, repository: str | None, auto_enroll: bool
) -> str | None:
    """The tenant of an event, enrolling into `default` when allowed; None when nobody owns it."""
    if installation_id is not None:
        tenant = _route_tenant(table.get(keys.installation_route_key(installation_id), consistent=False))
        if tenant:
            # Enrol the repository the first time it shows up (one read on the webhook path after that).
            if repository and table.get(keys.repository_route_key(repository), consistent=False) is None:
                enroll_repository(table, tenant, repository, source="installation")
            return tenant
    if repository:
        tenant = _route_tenant(table.get(keys.repository_route_key(repository), consistent=False))
        if tenant:
            return tenant
    if not auto_enroll:
        return None
    tenant = keys.DEFAULT_TENANT
    if installation_id is not None:
        register_installation(table, tenant, installation_id)
    if repository:
        return enroll_repository(table, tenant, repository, source="auto_enroll")
    return tenant


def register_installation(table: StateTable, tenant_id: str, installation_id: int) -> str:
    """Map an installation to a tenant; the first registration wins. Returns the owning tenant."""
    item = {
        **keys.installation_route_key(installation_id),
        "tenant_id": tenant_id,
        "installation_id": installation_id,
        "created_at": iso(utc_now()),
    }
    if table.put_new(item):
        return tenant_id
    return _route_tenant(table.get(keys.installation_route_key(installation_id))) or tenant_id


def enroll_repository(table: StateTable, tenant_id: str, full_name: str, source: str) -> str:
    """Register a repository with a tenant (idempotent); returns the tenant that owns it."""
    now = iso(utc_now())
    route = {**keys.repository_route_key(full_name), "tenant_id": tenant_id, "created_at": now}
    if not table.put_new(route):
        owner = _route_tenant(table.get(keys.repository_route_key(full_name)))
        if owner and owner != tenant_id:
            return owner
    register_tenant(table, tenant_id)
    table.put_new(
        {
            **keys.repository_key(tenant_id, full_name),
            "gsi1pk": keys.repositories_index(tenant_id),
            "gsi1sk": full_name.lower(),
            "entity": "repository",
            "tenant_id": tenant_id,
            "full_name": full_name,
            "status": "active",
            "enrolled_by": source,
            "created_at": now,
            "total_events": 0,
            "issues_detected": 0,
            "repairs_attempted": 0,
            "repairs_successful": 0,
            "repairs_failed": 0,
            "configuration": {
                "auto_fix_enabled": True,
                "notification_channels": [],
                "detection_sensitivity": "medium",
                "custom_playbooks": [],
            },
        }
    )
    return tenant_id


def register_tenant(table: StateTable, tenant_id: str) -> None:
    """Add a tenant to the registry the scheduled sweep walks (idempotent)."""
    table.put_new({**keys.tenant_registry_key(tenant_id), "tenant_id": tenant_id, "created_at": iso(utc_now())})
