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


# ------------------------------------------------------------------ management API (issue 5)
# tenant partition `TENANT#t`: `PLAYBOOK#name`, `USER#id`, `PIPELINE#id`, `PROFILE`, `COUNTERS`
# own partitions: `TENANT#t#REFRESH#jti`, `TENANT#t#TOKENFAMILY#id`, `TENANT#t#USAGE#yyyy-mm`,
# `TENANT#t#COMPLIANCE` / `AUDIT#sequence`; system: `TENANT#_system#USER#username`, `TENANT#_system#CONFIG`


def playbook_setting_key(tenant_id: str, playbook: str) -> dict[str, str]:
    """A tenant's switch for one playbook (`enabled`); the healer reads it."""
    return {"pk": tenant_pk(tenant_id), "sk": f"PLAYBOOK#{playbook}"}


def user_key(tenant_id: str, user_id: str) -> dict[str, str]:
    return {"pk": tenant_pk(tenant_id), "sk": f"USER#{user_id}"}


def user_route_key(username: str) -> dict[str, str]:
    """Which tenant a login name belongs to (names are unique across tenants)."""
    return {"pk": f"{tenant_pk(SYSTEM_TENANT)}#USER#{username.strip().lower()}", "sk": "ROUTE"}


def login_route_key(tenant_id: str, username: str) -> dict[str, str]:
    """A login name within its tenant (names are unique per tenant; `user_route_key` is the old, global route)."""
    return {"pk": f"{tenant_pk(tenant_id)}#LOGIN#{username.strip().lower()}", "sk": "ROUTE"}


def refresh_token_key(tenant_id: str, token_id: str) -> dict[str, str]:
    return {"pk": f"{tenant_pk(tenant_id)}#REFRESH#{token_id}", "sk": "REFRESH"}


def token_family_key(tenant_id: str, family_id: str) -> dict[str, str]:
    """One login's chain of rotated refresh tokens; revoking it ends them all."""
    return {"pk": f"{tenant_pk(tenant_id)}#TOKENFAMILY#{family_id}", "sk": "FAMILY"}


def tenant_profile_key(tenant_id: str) -> dict[str, str]:
    return {"pk": tenant_pk(tenant_id), "sk": "PROFILE"}


def tenant_counters_key(tenant_id: str) -> dict[str, str]:
    """Counters quotas are enforced on atomically (pipelines, users)."""
    return {"pk": tenant_pk(tenant_id), "sk": "COUNTERS"}


def usage_counter_key(tenant_id: str, month: str) -> dict[str, str]:
    return {"pk": f"{tenant_pk(tenant_id)}#USAGE#{month}", "sk": "USAGE"}


def pipeline_key(tenant_id: str, pipeline_id: str) -> dict[str, str]:
    return {"pk": tenant_pk(tenant_id), "sk": f"PIPELINE#{pipeline_id}"}


def compliance_pk(tenant_id: str) -> str:
    return f"{tenant_pk(tenant_id)}#COMPLIANCE"


def compliance_record_key(tenant_id: str, sequence: int) -> dict[str, str]:
    """Compliance audits form a hash chain; the zero-padded sequence orders it."""
    return {"pk": compliance_pk(tenant_id), "sk": f"AUDIT#{sequence:010d}"}


def playbook_release_key(playbook: str) -> dict[str, str]:
    """The deployment's record of one playbook's definition: fingerprint, revision, first and last change."""
    return {"pk": f"{tenant_pk(SYSTEM_TENANT)}#PLAYBOOKS", "sk": f"RELEASE#{playbook}"}


def request_metrics_pk(tenant_id: str) -> str:
    """The tenant's management API request counters (one item per method, route and status)."""
    return f"{tenant_pk(tenant_id)}#REQUEST_METRICS"


def request_metrics_key(tenant_id: str, method: str, route: str, status: int) -> dict[str, str]:
    return {"pk": request_metrics_pk(tenant_id), "sk": f"{method} {route} {status}"}


def system_config_key() -> dict[str, str]:
    return {"pk": f"{tenant_pk(SYSTEM_TENANT)}#CONFIG", "sk": "CONFIG"}


# Flaky-test history (mlops_bot.detection.flaky):
# - per-test day bucket: `TENANT#t#REPO#owner/name#FLAKY` / `TEST#<id>#DAY#<yyyy-mm-dd>`
# - tests/jobs seen failing per workflow: `TENANT#t#REPO#owner/name#FLAKY` / `TRACK#<workflow>#<id>`
# - per-commit outcomes: `TENANT#t#REPO#owner/name#SHA#<sha>` / `RUN#<workflow>`, with markers
#   `SEEN#<workflow>#<run_id>#<attempt>` (each run attempt counted once) and `CREDIT#<workflow>#<id>`
#   (each test credited flaky at most once per commit)

_MAX_ID_IN_KEY = 200


def _bounded_id(test_id: str) -> str:
    """Parametrised test ids can exceed DynamoDB's 1 KiB sort key: keep a readable prefix and a digest."""
    if len(test_id.encode()) <= _MAX_ID_IN_KEY:
        return test_id
    digest = hashlib.sha256(test_id.encode()).hexdigest()[:16]
    return f"{test_id.encode()[:_MAX_ID_IN_KEY].decode(errors='ignore')}~{digest}"


def flaky_history_pk(tenant_id: str, full_name: str) -> str:
    return f"{tenant_pk(tenant_id)}#REPO#{full_name.lower()}#FLAKY"


def flaky_day_key(tenant_id: str, full_name: str, test_id: str, day: str) -> dict[str, str]:
    return {"pk": flaky_history_pk(tenant_id, full_name), "sk": f"TEST#{_bounded_id(test_id)}#DAY#{day}"}


def flaky_tracked_key(tenant_id: str, full_name: str, workflow: str, test_id: str) -> dict[str, str]:
    return {
        "pk": flaky_history_pk(tenant_id, full_name),
        "sk": f"{flaky_tracked_prefix(workflow)}{_bounded_id(test_id)}",
    }


def flaky_tracked_prefix(workflow: str) -> str:
    return f"TRACK#{workflow}#"


# Quarantined tests (mlops_bot.stores.quarantines), one partition per tenant so the scheduler's
# sweep reads a tenant's quarantines in one query:
# `TENANT#t#QUARANTINES` / `REPO#owner/name#TEST#<id>`
def quarantines_pk(tenant_id: str) -> str:
    return f"{tenant_pk(tenant_id)}#QUARANTINES"


def quarantine_prefix(full_name: str) -> str:
    return f"REPO#{full_name.lower()}#TEST#"


def quarantine_key(tenant_id: str, full_name: str, test_id: str) -> dict[str, str]:
    return {"pk": quarantines_pk(tenant_id), "sk": f"{quarantine_prefix(full_name)}{_bounded_id(test_id)}"}


def commit_runs_pk(tenant_id: str, full_name: str, head_sha: str) -> str:
    return f"{tenant_pk(tenant_id)}#REPO#{full_name.lower()}#SHA#{head_sha.lower()}"


def commit_run_key(tenant_id: str, full_name: str, head_sha: str, workflow: str) -> dict[str, str]:
    return {"pk": commit_runs_pk(tenant_id, full_name, head_sha), "sk": f"RUN#{workflow}"}


def commit_run_seen_key(
    tenant_id: str, full_name: str, head_sha: str, workflow: str, run_id: int, run_attempt: int
) -> dict[str, str]:
    return {"pk": commit_runs_pk(tenant_id, full_name, head_sha), "sk": f"SEEN#{workflow}#{run_id}#{run_attempt}"}


def commit_flaky_credit_key(
    tenant_id: str, full_name: str, head_sha: str, workflow: str, test_id: str
) -> dict[str, str]:
    return {"pk": commit_runs_pk(tenant_id, full_name, head_sha), "sk": f"CREDIT#{workflow}#{_bounded_id(test_id)}"}


def reconcile_marker_key(guid: str) -> dict[str, str]:
    """A redelivery the reconciler requested (GitHub delivery GUIDs are global, not per tenant)."""
    return {"pk": f"{tenant_pk(SYSTEM_TENANT)}#RECONCILE#{guid}", "sk": "RECONCILE"}


# ------------------------------------------------------------------ dashboard (issue 6)
# Live WebSocket connections of the real-time dashboard (mlops_bot.dashboard.connections):
# - per tenant: `TENANT#t#DASHBOARD` / `CONN#<user>#<slot>`, slots 00..09 per user, so the spec's
#   limit of 10 connections per user is one conditional write on a slot, never a racy count;
# - by connection id: `TENANT#_system#WSCONN#<connection id>` / `ROUTE` ($disconnect and
#   `subscribe` carry only the connection id). Both expire with the connection (TTL).


def dashboard_connections_pk(tenant_id: str) -> str:
    return f"{tenant_pk(tenant_id)}#DASHBOARD"


def dashboard_slot_key(tenant_id: str, user: str, slot: int) -> dict[str, str]:
    return {"pk": dashboard_connections_pk(tenant_id), "sk": f"CONN#{user}#{slot:02d}"}


def dashboard_connection_route_key(connection_id: str) -> dict[str, str]:
    return {"pk": f"{tenant_pk(SYSTEM_TENANT)}#WSCONN#{connection_id}", "sk": "ROUTE"}


# ------------------------------------------------------------------ durable healing (issue 11)
# - audit idempotency marker: `TENANT#t#AUDIT` / `ONCE#<key>` (written in one transaction with the
#   record it guards, so a retried write is audited once; `AUDIT#` listings never see it)
# - activity counter marker: `TENANT#t#REPO#owner/name` / `ONCE#<counter>#<id>` (in one transaction
#   with the counter's increment, so an incident or an action is counted once)


def audit_once_key(tenant_id: str, idempotency_key: str) -> dict[str, str]:
    return {"pk": audit_pk(tenant_id), "sk": f"ONCE#{_bounded_id(idempotency_key)}"}


def activity_once_key(tenant_id: str, full_name: str, counter: str, once: str) -> dict[str, str]:
    """Marks that `once` (an incident, an action) was counted on the repository's `counter`."""
    return {"pk": repository_events_pk(tenant_id, full_name), "sk": f"ONCE#{counter}#{_bounded_id(once)}"}


# ------------------------------------------------------------------ GitHub App onboarding (issue 13)
# - installation as GitHub reported it, and its claim: `TENANT#_system#INSTALLATION#id` / `INSTALLATION`
#   (next to its routing record `/ROUTE`); gsi1 `TENANT#t#INSTALLATIONS` / id once a tenant claimed it
# - a used setup state: `TENANT#_system#INSTALLCLAIM#jti` / `CLAIM` (expires with the state)


def installation_key(installation_id: int) -> dict[str, str]:
    return {"pk": installation_route_key(installation_id)["pk"], "sk": "INSTALLATION"}


def installations_index(tenant_id: str) -> str:
    return f"{tenant_pk(tenant_id)}#INSTALLATIONS"


def installation_claim_state_key(state_id: str) -> dict[str, str]:
    return {"pk": f"{tenant_pk(SYSTEM_TENANT)}#INSTALLCLAIM#{state_id}", "sk": "CLAIM"}


# ------------------------------------------------------------------ typed tenant stores (issue 10)
# Registry entries (`tenant_registry_key`) share the sort-key prefix `TENANT#`.


def tenant_registry_prefix() -> str:
    """Sort-key prefix of the tenant registry's entries (`tenant_registry_key`)."""
    return "TENANT#"


# ------------------------------------------------------------------ one repair per problem (stores.repair_claims)
# - the claim on a repair (what a fix changes, per repository), one partition per tenant and repository:
#   `TENANT#t#REPAIRS#owner/name` / `REPAIR#<repair key>`; the first incident to plan the repair writes it
#   conditionally, later incidents with the same repair key link to it


def repair_claims_pk(tenant_id: str, full_name: str) -> str:
    return f"{tenant_pk(tenant_id)}#REPAIRS#{full_name.lower()}"


def repair_claim_key(tenant_id: str, full_name: str, repair_key: str) -> dict[str, str]:
    return {"pk": repair_claims_pk(tenant_id, full_name), "sk": f"REPAIR#{_bounded_id(repair_key)}"}
