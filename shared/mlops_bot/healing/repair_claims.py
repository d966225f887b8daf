"""One repair per problem: the same fix is proposed once, however many runs fail for it.

An incident is one failed run, so one problem (a missing `numpy`) meets the bot as many incidents:
the next push before the fix is merged, two workflows of one commit, a scheduled run. A repair
that changes files is known by its *repair key* (`repair_key`: the action and what it changes,
read from the plan's structured details, never from log text), and the first incident to plan it
claims the key (`stores.repair_claims`, a conditional write). What a later incident with the same
key does depends on the claim's pull request, as GitHub reports it now:

- no pull request yet, the claim fresh: the holder is preparing it — link (follow the holder);
- no pull request for `PENDING_CLAIM_TIMEOUT`: the holder died before opening one — take the claim
  over (a conditional write: one of several takers wins) and repair;
- open: link; no branch, no pull request; the holder counts one more occurrence;
- closed unmerged: a maintainer rejected the fix — no new pull request for that key; one issue
  says so (the first incident to get there opens it, later ones link to it);
- merged, and the failure is back: the fix did not help — the same one issue, no second pull request.

A linked incident runs no verification of its own: it follows the holder's verdict. When the
holder is resolved or failed, so are its followers (`follow_verdict`); a follower linked after the
holder closed takes its verdict at once (`follow_if_closed`). A holder that ends without a pull
request (its repair became an issue) releases the claim and hands its followers to a person.
In dry run nothing is claimed, linked or counted: the plan says what would happen.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from mlops_bot.clock import iso, seconds_since, utc_now
from mlops_bot.healing.planner import FILE_CHANGING_ACTIONS, RepairPlan
from mlops_bot.stores.incidents import (
    CLOSED_STATUSES,
    Incident,
    IncidentStatus,
    IncidentStore,
    TimelineEntry,
    TimelineEvent,
)
from mlops_bot.stores.repair_claims import RepairClaim, RepairClaimStore

if TYPE_CHECKING:  # the scheduler's hourly sweep uses this module without loading the GitHub client
    from mlops_bot.adapters.github import GitHubClient

# A healer that claimed a repair opens its pull request within minutes; a rate-limit wait (≤ 1 h,
# `WaitOutRateLimit`) and Step Functions' retries fit well inside this.
PENDING_CLAIM_TIMEOUT = timedelta(hours=2)


def repair_key(incident: Incident, plan: RepairPlan) -> str | None:
    """What a file-changing repair changes, as one string per repository; None for other repairs.

    - `open_fix_pr:<ecosystem>:<package, PEP 503 normalised>`
    - `fix_version_pin:<package>==<the pinned version that does not exist>`
    - `raise_job_timeout:<workflow file>:<job or *>:<minutes it ran out of>`
    - `quarantine_flaky_tests:<n>:<digest of the sorted test ids>` (and `release_flaky_tests:...`)
    """
    from mlops_bot.healing.dependency_files import canonical_name

    details = plan.details
    if plan.action not in FILE_CHANGING_ACTIONS:
        return None
    if plan.action == "open_fix_pr" and details.get("package"):
        return f"open_fix_pr:{details.get('ecosystem') or 'python'}:{canonical_name(str(details['package']))}"
    if plan.action == "fix_version_pin" and details.get("package"):
        return f"fix_version_pin:{canonical_name(str(details['package']))}=={details.get('version')}"
    if plan.action == "raise_job_timeout":
        workflow = incident.metadata.get("workflow_path") or "-"
        job = incident.metadata.get("job_name") or "*"
        return f"raise_job_timeout:{workflow}:{job}:{details.get('minutes')}"
    if plan.action in {"quarantine_flaky_tests", "release_flaky_tests"}:
        tests = sorted({str(t) for t in details.get("tests") or []})
        if tests:
            digest = hashlib.sha256("\n".join(tests).encode()).hexdigest()[:16]
            return f"{plan.action}:{len(tests)}:{digest}"
    return None


class Verdict(StrEnum):
    REPAIR = "repair"  # this incident makes the repair (it holds the claim, or there is nothing to claim)
    LINK = "link"  # another incident's repair is open or being prepared: follow it
    ESCALATE = "escalate"  # the claimed fix was rejected or did not help: this incident opens the one issue
    ESCALATED = "escalated"  # ... and another incident opens (or opened) that issue


@dataclass(frozen=True)
class ClaimDecision:
    verdict: Verdict
    repair_key: str | None = None
    claim: RepairClaim | None = None  # the claim in force (this incident's for REPAIR, when not in dry run)
    reason: str = ""

    @property
    def holder(self) -> str | None:
        return self.claim.incident_id if self.claim else None

    def pull_request(self) -> dict[str, Any] | None:
        claim = self.claim
        if claim is None or claim.pull_request is None:
            return None
        return {"number": claim.pull_request, "html_url": claim.pull_request_url, "branch": claim.branch}

    def issue(self) -> dict[str, Any] | None:
        claim = self.claim
        if claim is None or claim.issue is None:
            return None
        return {"number": claim.issue, "html_url": claim.issue_url}

    def issue_title(self) -> str:
        """One title per claim, so that every later incident finds the one issue."""
        claim = self.claim
        number = f" (pull request #{claim.pull_request})" if claim and claim.pull_request else ""
        return f"[mlops-bot] Not proposed again: {self.repair_key}{number}"


def decide(
    claims: RepairClaimStore,
    incidents: IncidentStore,
    client: GitHubClient | None,
    incident: Incident,
    plan: RepairPlan,
    *,
    dry_run: bool,
) -> ClaimDecision:
    """Claim the plan's repair, or follow the incident that holds it (writes nothing in dry run)."""
    key = repair_key(incident, plan)
    if key is None:
        return ClaimDecision(Verdict.REPAIR)
    now = iso(utc_now())
    mine = RepairClaim(
        tenant_id=incident.tenant_id,
        repository=incident.repository,
        repair_key=key,
        action=plan.action,
        incident_id=incident.id,
        claimed_at=now,
        renewed_at=now,
    )
    for _ in range(3):  # the claim may vanish (released, expired) between two reads
        if dry_run:
            found = claims.get(incident.tenant_id, incident.repository, key)
            if found is None or found.incident_id == incident.id:
                return ClaimDecision(Verdict.REPAIR, key, found)
        else:
            found = claims.claim(mine)
            if found.incident_id == incident.id:
                return ClaimDecision(Verdict.REPAIR, key, found)
        if found.pull_request is None:
            if iso(utc_now() - PENDING_CLAIM_TIMEOUT) > found.claimed_at:
                if dry_run:
                    return ClaimDecision(Verdict.REPAIR, key)
                heir = mine.model_copy(update={"linked_incidents": found.linked_incidents})  # they follow on
                if claims.take_over(heir, stale=found):
                    return ClaimDecision(Verdict.REPAIR, key, heir)
                continue
            decision = ClaimDecision(
                Verdict.LINK, key, found, f"same problem as incident {found.incident_id}, whose fix is being prepared"
            )
        else:
            decision = _by_pull_request(client, incident, key, found)
        if dry_run:
            return decision
        if decision.verdict == Verdict.LINK:
            linked = claims.link(incident.tenant_id, incident.repository, key, incident.id)
            if linked is None:
                continue
            _count_occurrence(incidents, incident, linked)
            return ClaimDecision(Verdict.LINK, key, linked, decision.reason)
        # An escalation that never got its issue (refused by the budget, crashed) is taken over like a claim.
        stale_before = iso(utc_now() - PENDING_CLAIM_TIMEOUT)
        escalating = claims.begin_escalation(
            incident.tenant_id, incident.repository, key, incident.id, stale_before=stale_before
        )
        if escalating is None:
            continue
        verdict = Verdict.ESCALATE if escalating.escalated_by == incident.id else Verdict.ESCALATED
        return ClaimDecision(verdict, key, escalating, decision.reason)
    raise RuntimeError(f"the claim on {key} kept changing")


def _by_pull_request(client: GitHubClient | None, incident: Incident, key: str, claim: RepairClaim) -> ClaimDecision:
    """What the state of the claim's pull request on GitHub means for a later incident."""
    from mlops_bot.adapters.github import GitHubNotFound  # the hourly sweep imports this module without githubkit

    number, holder = claim.pull_request, claim.incident_id
    try:
        pull = client.get_pull_request(incident.repository, int(number)) if client and number else None
    except GitHubNotFound:  # just created (replicas) or out of the bot's sight: unknown is no reason to repeat it
        pull = None
    if pull is None or pull.state == "open":
        return ClaimDecision(Verdict.LINK, key, claim, f"same problem as incident {holder}, pull request #{number}")
    if pull.was_merged:
        reason = (
            f"the fix for this problem, pull request #{number} (incident {holder}), was merged and the failure "
            "came back: the fix did not help, so mlops-bot will not propose it again"
        )
    else:
        reason = (
            f"pull request #{number} (incident {holder}) proposed this fix and was closed without merging: "
            "a maintainer rejected it, so mlops-bot will not propose it again"
        )
    taken = claim.escalated_by not in (None, incident.id)
    return ClaimDecision(Verdict.ESCALATED if taken else Verdict.ESCALATE, key, claim, reason)


def _count_occurrence(incidents: IncidentStore, incident: Incident, claim: RepairClaim) -> None:
    run = incident.metadata.get("run_id")
    entry = TimelineEntry.now(
        TimelineEvent.FAILURE_REPEATED,
        f"incident {incident.id}{f' (run {run})' if run else ''} failed with the same problem; it follows this repair",
    )
    incidents.add_occurrence(incident.tenant_id, claim.incident_id, entry, once=f"same-problem-{incident.id}")


def settle(
    claims: RepairClaimStore,
    incidents: IncidentStore,
    incident: Incident,
    decision: ClaimDecision,
    outcome: dict[str, Any],
) -> None:
    """After the repair: note its pull request (or issue) on the claim, or release a claim it did not use."""
    key = decision.repair_key
    if key is None or outcome.get("dry_run", True) or outcome.get("status") == "rate_limited":
        return
    tenant, repository = incident.tenant_id, incident.repository
    if decision.verdict == Verdict.ESCALATE:
        issue = outcome.get("issue") or {}
        if issue.get("number"):
            claims.record_issue(
                tenant, repository, key, incident.id, number=int(issue["number"]), url=str(issue.get("html_url"))
            )
        return
    if decision.verdict != Verdict.REPAIR:
        return
    pull = outcome.get("pull_request") or {}
    if pull.get("number"):
        claims.record_pull_request(
            tenant,
            repository,
            key,
            incident.id,
            number=int(pull["number"]),
            url=str(pull.get("html_url")),
            branch=pull.get("branch") or outcome.get("branch"),
        )
        return
    released = claims.release(tenant, repository, key, incident.id)
    for follower in released.linked_incidents if released else []:
        entry = TimelineEntry.now(
            TimelineEvent.HEALING_SKIPPED,
            f"incident {incident.id}, whose repair this incident followed, made no pull request "
            f"({outcome.get('status')}): it needs a person",
        )
        incidents.note(
            tenant, follower, entry, once=f"released-{incident.id}-{key}", status=IncidentStatus.AWAITING_HUMAN
        )


def follow_verdict(
    claims: RepairClaimStore, incidents: IncidentStore, holder: Incident, status: IncidentStatus, details: str
) -> list[str]:
    """Close every incident that follows `holder`'s repairs as `holder` was closed; the ids closed."""
    closed: list[str] = []
    for claim in claims.held_by(holder.tenant_id, holder.repository, holder.id):
        for follower in claim.linked_incidents:
            if _close_as(incidents, holder.tenant_id, follower, holder.id, status, details):
                closed.append(follower)
    return closed


def follow_if_closed(incidents: IncidentStore, incident: Incident, holder_id: str) -> bool:
    """A follower linked after its holder closed takes the holder's verdict at once."""
    holder = incidents.get(incident.tenant_id, holder_id)
    if holder is None or holder.status not in CLOSED_STATUSES:
        return False
    last = next((t.details for t in reversed(holder.timeline) if t.details), None) or holder.status.value
    return _close_as(incidents, incident.tenant_id, incident.id, holder_id, holder.status, last)


def _close_as(
    incidents: IncidentStore, tenant_id: str, follower_id: str, holder_id: str, status: IncidentStatus, details: str
) -> bool:
    follower = incidents.get(tenant_id, follower_id)
    if follower is None or follower.status in CLOSED_STATUSES:
        return False
    event = TimelineEvent.ISSUE_RESOLVED if status == IncidentStatus.RESOLVED else TimelineEvent.ISSUE_FAILED
    entry = TimelineEntry.now(event, f"{status.value} with incident {holder_id}, whose repair it followed: {details}")
    resolution_time = None
    if status == IncidentStatus.RESOLVED:
        resolution_time = seconds_since(follower.detected_at)
    return incidents.close(
        tenant_id,
        follower_id,
        status,
        entry,
        once=f"{status.value}-with-{holder_id}",
        resolution_time=resolution_time,
    )


def follow_to_a_person(claims: RepairClaimStore, incidents: IncidentStore, holder: Incident, details: str) -> list[str]:
    """Hand every open incident that follows `holder`'s repairs to a person with it; the ids handed.

    Noted once per holder's hand-over; a follower already closed (its holder's run came) stays closed.
    """
    handed: list[str] = []
    for claim in claims.held_by(holder.tenant_id, holder.repository, holder.id):
        for follower_id in claim.linked_incidents:
            follower = incidents.get(holder.tenant_id, follower_id)
            if follower is None or follower.status in CLOSED_STATUSES:
                continue
            entry = TimelineEntry.now(
                TimelineEvent.VERIFICATION_OVERDUE, f"with incident {holder.id}, whose repair it follows: {details}"
            )
            once = f"awaiting-human-with-{holder.id}-{holder.waiting_since}"
            if incidents.note(holder.tenant_id, follower_id, entry, once=once, status=IncidentStatus.AWAITING_HUMAN):
                handed.append(follower_id)
    return handed
