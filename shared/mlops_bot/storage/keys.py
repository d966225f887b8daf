"""Every key of the table is built here, and every partition key starts with the tenant.

Layout (one table, `pk`/`sk`, one GSI `gsi1pk`/`gsi1sk`):

- delivery: `TENANT#t#DELIVERY#id` / `DELIVERY`
- repository: `TENANT#t` / `REPO#owner/name` (gsi1 `TENANT#t#REPOS` / name)
- event: `TENANT#t#REPO#owner/name` / `EVENT#iso#delivery` (gsi1 `TENANT#t#EVENTS` / `iso#delivery`)
- incident: `TENANT#t#INCIDENT#id` / `INCIDENT` (gsi1 `TENANT#t#INCIDENTS` / `iso#id`)
- audit record: `TENANT#t#AUDIT` / `AUDIT#iso#id`
- rate window: `TENANT#t#RATE#scope#window` / `RATE`
- routing lookups: `TENANT#_system#INSTALLATION#id`, `TENANT#_system#REPOSITORY#owner/name`,
  `TENANT#_system#APIKEY#sha256` / `ROUTE`; tenant registry `TENANT#_system#TENANTS` / `TENANT#t`

Routing lookups answer "which tenant owns this installation / repository" before the tenant is
known; they live under the reserved `_system` tenant so that the rule "tenant first" has no exception.
"""

from __future__ import annotations

import hashlib

SYSTEM_TENANT = "_system"
DEFAULT_TENANT = "default"


def tenant_pk(tenant_id: str) -> str:
    if not tenant_id:
        raise ValueError("tenant id is required in every key")
    return f"TENANT#{tenant_id}"


def delivery_key(tenant_id: str, delivery_id: str) -> dict[str, str]:
    return {"pk": f"{tenant_pk(tenant_id)}#DELIVERY#{delivery_id}", "sk": "DELIVERY"}


def repository_key(tenant_id: str, full_name: str) -> dict[str, str]:
    return {"pk": tenant_pk(tenant_id), "sk": f"REPO#{full_name.lower()}"}


def repositories_index(tenant_id: str) -> str:
    return f"{tenant_pk(tenant_id)}#REPOS"


def event_key(tenant_id: str, full_name: str, received_at: str, delivery_id: str) -> dict[str, str]:
    return {
        "pk": f"{tenant_pk(tenant_id)}#REPO#{full_name.lower()}",
        "sk": f"EVENT#{received_at}#{delivery_id}",
    }


def repository_events_pk(tenant_id: str, full_name: str) -> str:
    return f"{tenant_pk(tenant_id)}#REPO#{full_name.lower()}"


def events_index(tenant_id: str) -> str:
    return f"{tenant_pk(tenant_id)}#EVENTS"


def incident_key(tenant_id: str, incident_id: str) -> dict[str, str]:
    return {"pk": f"{tenant_pk(tenant_id)}#INCIDENT#{incident_id}", "sk": "INCIDENT"}


def incidents_index(tenant_id: str) -> str:
    return f"{tenant_pk(tenant_id)}#INCIDENTS"


def rate_window_key(tenant_id: str, scope: str, window: int) -> dict[str, str]:
    return {"pk": f"{tenant_pk(tenant_id)}#RATE#{scope}#{window}", "sk": "RATE"}


def installation_route_key(installation_id: int) -> dict[str, str]:
    return {"pk": f"{tenant_pk(SYSTEM_TENANT)}#INSTALLATION#{installation_id}", "sk": "ROUTE"}


def repository_route_key(full_name: str) -> dict[str, str]:
    return {"pk": f"{tenant_pk(SYSTEM_TENANT)}#REPOSITORY#{full_name.lower()}", "sk": "ROUTE"}


def incident_id_for_run(full_name: str, run_id: int) -> str:
    """The same failed run always maps to the same incident (redeliveries and re-runs update it)."""
    digest = hashlib.sha256(f"{full_name.lower()}#run#{run_id}".encode()).hexdigest()
    return f"inc-{digest[:16]}"


def audit_key(tenant_id: str, at: str, audit_id: str) -> dict[str, str]:
    return {"pk": f"{tenant_pk(tenant_id)}#AUDIT", "sk": f"AUDIT#{at}#{audit_id}"}


def audit_pk(tenant_id: str) -> str:
    return f"{tenant_pk(tenant_id)}#AUDIT"


def api_key_route_key(key_hash: str) -> dict[str, str]:
    return {"pk": f"{tenant_pk(SYSTEM_TENANT)}#APIKEY#{key_hash}", "sk": "ROUTE"}


def api_key_key(tenant_id: str, key_id: str) -> dict[str, str]:
    return {"pk": tenant_pk(tenant_id), "sk": f"APIKEY#{key_id}"}


def tenant_registry_key(tenant_id: str) -> dict[str, str]:
    return {"pk": f"{tenant_pk(SYSTEM_TENANT)}#TENANTS", "sk": f"TENANT#{tenant_id}"}


def tenant_registry_pk() -> str:
    return f"{tenant_pk(SYSTEM_TENANT)}#TENANTS"


def write_budget_key(tenant_id: str, repository: str, day: str) -> dict[str, str]:
    return {"pk": f"{tenant_pk(tenant_id)}#BUDGET#{repository.lower()}#{day}", "sk": "BUDGET"}


def action_key(tenant_id: str, incident_id: str, action_id: str) -> dict[str, str]:
    """One item per write the bot decided to make: its idempotency record."""
    return {"pk": f"{tenant_pk(tenant_id)}#INCIDENT#{incident_id}", "sk": f"ACTION#{action_id}"}
