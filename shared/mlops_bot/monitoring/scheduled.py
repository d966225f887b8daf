"""The scheduled drift check of one repository: load its reference and current data, compare.

Locations come from the repository's `drift` settings (`.github/mlops-bot.yml` under the
management API's; `s3://bucket/key` or a local path). The numeric stack (numpy, scipy, pyarrow)
is imported only here. Where it is not deployed — the Lambda layer cannot hold it (see
docs/operations.md) — the check runs where the data-science stack lives instead: the bot dispatches
the repository's `drift.check_workflow` with the locations as inputs, and that workflow posts the
report of `mlops-bot drift --json` back to `POST /api/v1/repositories/{owner}/{repo}/drift`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mlops_bot.config import Settings, get_settings
from mlops_bot.healing import audit
from mlops_bot.messages import MessageQueue
from mlops_bot.monitoring.service import DriftReportIn, SignalOutcome, SignalStores, report_drift
from mlops_bot.repository_config import CONFIG_PATH, RepositoryFileConfig, merged, parse
from mlops_bot.stores.audit import AuditLog
from mlops_bot.stores.budgets import RepairBudgetStore
from mlops_bot.stores.repositories import RepositoryStore

if TYPE_CHECKING:
    from mlops_bot.adapters.github import GitHubClient


@dataclass(frozen=True)
class DriftCheckStores:
    """What a scheduled drift check works with: the signal's stores, and the audit log and write
    budget a dispatched check workflow goes through."""

    signals: SignalStores
    audit: AuditLog
    budgets: RepairBudgetStore


# The keys of a computed report that a posted one has (`DriftReportIn` refuses any other).
POSTED_FIELDS: dict[str, Any] = {
    "columns": {"__all__": {"test", "statistic", "p_value", "threshold", "drifted"}},
    "drift_share": True,
    "dataset_drift": True,
}


def drift_settings(
    repositories: RepositoryStore, tenant_id: str, repository: str, github: GitHubClient | None
) -> dict[str, Any]:
    stored = repositories.get(tenant_id, repository)
    api_config = stored.configuration.model_dump(mode="json", exclude_none=True) if stored else {}
    file_config: RepositoryFileConfig | None = None
    if github is not None:
        found = github.get_file(repository, CONFIG_PATH)
        parsed = parse(found.text) if found else None
        file_config = parsed if isinstance(parsed, RepositoryFileConfig) else None
    return dict(merged(file_config, api_config).get("drift") or {})


def _dispatch_check(
    stores: DriftCheckStores,
    tenant_id: str,
    repository: str,
    drift: dict[str, Any],
    github: GitHubClient | None,
    dry_run: bool,
    reason: str,
    settings: Settings,
    check_id: str,
) -> SignalOutcome:
    workflow = drift.get("check_workflow")
    if not workflow or github is None:
        return SignalOutcome(incident_id=None, summary=f"drift check unavailable: {reason}")
    inputs = {
        "reference": str(drift["reference"]),
        "current": str(drift["current"]),
        "test": str(drift.get("test", "auto")),
        "drift_share": str(drift.get("drift_share", 0.5)),
    }
    ref = str(drift.get("ref") or github.get_repository(repository).default_branch)
    path = f"/repos/{repository}/actions/workflows/{workflow}/dispatches"
    result = audit.audited_write(
        stores.audit,
        stores.budgets,
        settings,
        audit.AuditRecord(
            tenant_id=tenant_id,
            repository=repository,
            method="POST",
            path=path,
            summary=f"dispatch drift check {workflow} on {ref}",
            rule="drift:scheduled_check",
            dry_run=dry_run,
            result="planned" if dry_run else "done",
            details={"inputs": inputs},
        ),
        lambda: github.dispatch_workflow(repository, str(workflow), ref, inputs),
        write_id=f"drift-check/{check_id}",
    )
    if result.startswith("refused"):
        return SignalOutcome(incident_id=None, summary=f"drift check not dispatched: {result}")
    return SignalOutcome(
        incident_id=None,
        summary=f"drift check dispatched to {workflow}",
        details={"workflow": workflow, "dry_run": dry_run},
    )


def run_drift_check(
    stores: DriftCheckStores,
    healing_queue: MessageQueue,
    tenant_id: str,
    repository: str,
    github: GitHubClient | None = None,
    dry_run: bool = True,
    s3_client: Any | None = None,
    *,
    settings: Settings | None = None,
    check_id: str | None = None,
) -> SignalOutcome | None:
    """None when the repository has no drift settings; otherwise the check's outcome.

    `check_id` (the scheduled event's delivery id) makes a dispatch of a retried check count once
    against the write budget and be audited once.
    """
    drift = drift_settings(stores.signals.repositories, tenant_id, repository, github)
    if not drift.get("reference") or not drift.get("current"):
        return None
    try:
        from mlops_bot.drift import DriftOptions, compute_drift, load_table
    except ImportError as exc:
        return _dispatch_check(
            stores,
            tenant_id,
            repository,
            drift,
            github,
            dry_run,
            f"{exc.name} is not deployed",
            settings or get_settings(),
            check_id or str(uuid.uuid4()),
        )
    options = DriftOptions(test=drift.get("test", "auto"), drift_share_threshold=float(drift.get("drift_share", 0.5)))
    report = compute_drift(
        load_table(str(drift["reference"]), s3_client), load_table(str(drift["current"]), s3_client), options
    )
    posted = DriftReportIn.model_validate(
        {
            **report.model_dump(mode="json", include=POSTED_FIELDS),  # what `mlops-bot drift --json` prints
            "reference": drift["reference"],
            "current": drift["current"],
            "ref": drift.get("ref"),
        }
    )
    return report_drift(stores.signals, healing_queue, tenant_id, repository, posted)
