"""The verification deadline: no incident waits `verifying` for ever.

After a fix pull request (or a re-run) the incident waits for the run that proves the repair
(`healing.verification`). That run may never come: the workflow runs only on pushes to the default
branch, Actions is disabled, the run is cancelled and never concludes, its delivery is lost beyond
the reconciler. The scheduler's hourly sweep finds the incidents that have waited longer than
`MLOPS_BOT_VERIFICATION_DEADLINE_HOURS` and hands each to a person (`awaiting_human`): a timeline
entry says what was awaited and since when, an audit record says the bot did it, and the incidents
that follow its repair (`healing.repair_claims`) go with it.

The hand-over is one conditional write (only while the incident still waits the same wait), so a
run that arrives at the same moment wins. The task token is kept: a run that comes after the
deadline still decides the incident (`verification.verify`) — green resolves it and its followers.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from mlops_bot.clock import utc_now
from mlops_bot.healing import audit, repair_claims
from mlops_bot.stores.audit import AuditLog
from mlops_bot.stores.incidents import Incident, IncidentStatus, IncidentStore, TimelineEntry, TimelineEvent
from mlops_bot.stores.repair_claims import RepairClaimStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeadlineStores:
    incidents: IncidentStore
    repair_claims: RepairClaimStore
    audit_log: AuditLog


def awaited(incident: Incident) -> str:
    """What the incident waits for, in words."""
    waiting = incident.verification
    if waiting is None:
        return "the verdict of its proving run"
    if waiting.run_id is not None:
        return f"the re-run of run {waiting.run_id} to conclude"
    if waiting.branch:
        return f"a concluded workflow run on branch {waiting.branch}"
    return "the run that proves its repair"


def hand_overdue_verifications_to_people(
    stores: DeadlineStores, tenant_ids: Iterable[str], *, deadline: timedelta, now: datetime | None = None
) -> list[str]:
    """Hand every incident verifying for longer than `deadline` to a person; the ids handed over."""
    now = now or utc_now()
    hours = int(deadline.total_seconds() // 3600)
    handed: list[str] = []
    for tenant_id in tenant_ids:
        for incident in stores.incidents.overdue_verifications(tenant_id, waiting_since_before=now - deadline):
            since = incident.waiting_since
            details = (
                f"waited for {awaited(incident)} since {since}; none concluded within the verification deadline "
                f"({hours} h): a person must look (a run that still concludes decides it)"
            )
            entry = TimelineEntry.now(TimelineEvent.VERIFICATION_OVERDUE, details)
            token = incident.verification.task_token if incident.verification else None
            if not stores.incidents.expire_verification(tenant_id, incident.id, entry, task_token=token):
                continue  # the run (or a new round) came first
            audit.record(
                stores.audit_log,
                audit.AuditRecord(
                    tenant_id=tenant_id,
                    installation_id=incident.installation_id,
                    repository=incident.repository,
                    method="PATCH",
                    path=f"/api/v1/issues/{incident.id}",
                    summary=f"verification overdue: handed to a person ({IncidentStatus.AWAITING_HUMAN.value})",
                    incident_id=incident.id,
                    playbook=incident.playbook,
                    rule="verification_deadline",
                    dry_run=False,
                    result=IncidentStatus.AWAITING_HUMAN.value,
                    details={"awaited": awaited(incident), "since": since, "deadline_hours": hours},
                ),
                idempotency_key=f"{incident.id}/verification-overdue/{since}",
            )
            followers = repair_claims.follow_to_a_person(stores.repair_claims, stores.incidents, incident, details)
            logger.warning(
                "verification overdue: incident handed to a person",
                extra={"tenant_id": tenant_id, "incident_id": incident.id, "since": since, "followers": followers},
            )
            handed.append(incident.id)
    return handed
