"""Routing events to tenants and enrolling repositories.

An event belongs to the tenant its GitHub App installation was registered to, else to the tenant
that registered its repository. With auto-enrolment on, a repository (or installation) seen for
the first time joins the `default` tenant; with it off, events of unknown repositories are ignored.
A name GitHub would refuse is never enrolled (`ValueError` from the store's item model).

The functions take a `RepositoryStore`, which the handlers and the API's dependencies build.
"""

from __future__ import annotations

from mlops_bot.clock import iso, utc_now
from mlops_bot.storage import keys
from mlops_bot.stores.repositories import Repository, RepositoryStore


def resolve_tenant(
    repositories: RepositoryStore, installation_id: int | None, repository: str | None, auto_enroll: bool
) -> str | None:
    """The tenant of an event, enrolling into `default` when allowed; None when nobody owns it."""
    if installation_id is not None:
        tenant = repositories.installation_owner(installation_id)
        if tenant:
            # Enrol the repository the first time it shows up (one read on the webhook path after that).
            if repository and repositories.repository_owner(repository) is None:
                enroll_repository(repositories, tenant, repository, source="installation")
            return tenant
    if repository:
        tenant = repositories.repository_owner(repository)
        if tenant:
            return tenant
    if not auto_enroll:
        return None
    tenant = keys.DEFAULT_TENANT
    if installation_id is not None:
        register_installation(repositories, tenant, installation_id)
    if repository:
        return enroll_repository(repositories, tenant, repository, source="auto_enroll")
    return tenant


def register_installation(repositories: RepositoryStore, tenant_id: str, installation_id: int) -> str:
    """Map an installation to a tenant; the first registration wins. Returns the owning tenant."""
    return repositories.claim_installation(installation_id, tenant_id)


def enroll_repository(repositories: RepositoryStore, tenant_id: str, full_name: str, source: str) -> str:
    """Register a repository with a tenant (idempotent); returns the tenant that owns it.

    Raises `ValueError` (a pydantic `ValidationError`) for a name GitHub would refuse, before
    anything is written.
    """
    now = iso(utc_now())
    repository = Repository(tenant_id=tenant_id, full_name=full_name, enrolled_by=source, created_at=now)
    owner = repositories.claim_repository(full_name, tenant_id)
    if owner != tenant_id:
        return owner
    repositories.register_tenant(tenant_id, now)
    repositories.enroll(repository)
    return tenant_id


def register_tenant(repositories: RepositoryStore, tenant_id: str) -> None:
    """Add a tenant to the registry the scheduled sweep walks (idempotent)."""
    repositories.register_tenant(tenant_id, iso(utc_now()))
