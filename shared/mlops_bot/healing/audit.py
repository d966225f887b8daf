"""An audit record for every write the bot makes or plans: who, what, why, result.

`audited_write` is the one path a GitHub write takes outside a repair session (the scheduled drift
dispatch): the day's write budget first, then the write, then its audit record — the same rules a
playbook's repair follows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlops_bot.config import Settings
from mlops_bot.healing import budgets
from mlops_bot.stores.audit import AuditEntry, AuditLog
from mlops_bot.stores.budgets import RepairBudgetStore

AuditRecord = AuditEntry  # what callers fill in; the log adds `id` and `at`


def record(log: AuditLog, entry: AuditEntry, *, idempotency_key: str | None = None) -> str:
    return log.record(entry, idempotency_key=idempotency_key)


def audited_write(
    log: AuditLog,
    budget: RepairBudgetStore,
    settings: Settings,
    entry: AuditEntry,
    write: Callable[[], Any],
    *,
    write_id: str,
) -> str:
    """Make one GitHub write within the day's budget, audited once per `write_id`; the result recorded.

    Returns "planned" (dry run), "done", "refused: <reason>" or raises what the write raised (after
    auditing the error). A write already recorded under `write_id` is not made again; one that
    crashed between GitHub's answer and its record is made again on the retry (GitHub offers no
    idempotency key), but is budgeted and recorded once.
    """
    if log.recorded(entry.tenant_id, write_id) is not None:
        return "planned" if entry.dry_run else "done"
    if entry.dry_run:
        record(log, entry.model_copy(update={"result": "planned"}), idempotency_key=write_id)
        return "planned"
    refusal = budgets.take_write(budget, settings, entry.tenant_id, entry.repository, write_id=write_id)
    if refusal:
        record(
            log,
            entry.model_copy(
                update={
                    "result": "refused",
                    "rule": refusal.rule,
                    "details": {**entry.details, "reason": refusal.reason},
                }
            ),
            idempotency_key=write_id,
        )
        return f"refused: {refusal.reason}"
    try:
        write()
    except Exception as exc:
        record(log, entry.model_copy(update={"result": f"error: {type(exc).__name__}"}))
        raise
    record(log, entry.model_copy(update={"result": "done"}), idempotency_key=write_id)
    return "done"
