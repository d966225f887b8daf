"""Incidents (the spec's "issues" / "failures"): one per failure, updated rather than duplicated.

An incident also says whether its healing request has been sent (`healing_request`): the
detector stores the incident as `pending`, queues the request, then marks it `requested`. A
detector that dies between the two leaves it `pending`, and the next delivery of the same event,
or the scheduler's sweep, sends it — so a repair is never silently lost.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from botocore.exceptions import ClientError
from pydantic import Field

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.clock import iso, utc_now
from mlops_bot.storage import keys
from mlops_bot.stores.base import (
    MemoryTable,
    Page,
    StoredItem,
    from_dynamo,
    page_of,
    query_page,
    read_items,
    stored_fields,
    to_dynamo,
)


class IncidentStatus(StrEnum):
    OPEN = "open"
    HEALING = "healing"
    PLANNED = "planned"  # a dry run recorded its plan
    VERIFYING = "verifying"
    ESCALATED = "escalated"  # handed to a person (an issue was filed)
    LINKED = "linked"  # the same problem as an earlier incident, whose repair it follows (no repair of its own)
    AWAITING_HUMAN = "awaiting_human"
    RESOLVED = "resolved"
    FAILED = "failed"


CLOSED_STATUSES = frozenset({IncidentStatus.RESOLVED, IncidentStatus.FAILED})
IN_PROGRESS_STATUSES = frozenset({IncidentStatus.HEALING, IncidentStatus.VERIFYING})


class IncidentType(StrEnum):
    PIPELINE_FAILURE = "pipeline_failure"
    TEST_FAILURE = "test_failure"
    DEPENDENCY_ERROR = "dependency_error"
    FLAKY_TEST = "flaky_test"
    FLAKY_TEST_STABLE = "flaky_test_stable"  # quarantined tests stable for the flake window: release them
    DATA_DRIFT = "data_drift"
    MODEL_DEGRADATION = "model_degradation"
    DEPLOYMENT_FAILURE = "deployment_failure"
    CONFIGURATION_ERROR = "configuration_error"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class HealingRequestState(StrEnum):
    PENDING = "pending"  # stored, its healing request not yet sent
    REQUESTED = "requested"  # the healing request is on the queue


class TimelineEvent(StrEnum):
    ISSUE_DETECTED = "issue_detected"
    FAILURE_REPEATED = "failure_repeated"
    ANALYSIS_STARTED = "analysis_started"
    ACTION_EXECUTED = "action_executed"
    HEALING_SKIPPED = "healing_skipped"
    SAME_PROBLEM = "same_problem"  # linked to the incident that already makes the repair
    MANUAL_HEAL_REQUESTED = "manual_heal_requested"
    VERIFIED = "verified"
    VERIFICATION_OVERDUE = "verification_overdue"  # no proving run within the deadline: handed to a person
    ISSUE_RESOLVED = "issue_resolved"
    ISSUE_FAILED = "issue_failed"


class TimelineEntry(StoredItem):
    event: str = Field(max_length=100)
    timestamp: str = Field(max_length=40)
    details: str | None = Field(default=None, max_length=2000)

    @classmethod
    def now(cls, event: TimelineEvent | str, details: str | None = None) -> TimelineEntry:
        """The one way a timeline entry is built: an event, now, and bounded details."""
        return cls(event=str(event), timestamp=iso(utc_now()), details=details[:2000] if details else None)


class Verification(StoredItem):
    """A playbook waiting for the run that proves its repair (the Step Functions task token)."""

    task_token: str = Field(max_length=4096)
    branch: str | None = Field(default=None, max_length=255)
    run_id: int | None = None
    attempt: int = 1
    since: str | None = None
    rediagnosed: bool = False  # the proving run's new diagnosis already replaced the incident's
    overdue_at: str | None = Field(default=None, max_length=40)  # handed to a person: no run within the deadline


class NotificationSent(StoredItem):
    """One attempt to tell people about the incident (a channel's result, never its secrets)."""

    channel: str = Field(max_length=32)
    result: str = Field(max_length=200)
    event: str = Field(max_length=100)
    at: str = Field(max_length=40)


class Incident(StoredItem):
    """The stored incident, with the spec's field names."""

    id: str = Field(min_length=1, max_length=200)
    tenant_id: str = Field(min_length=1, max_length=128)
    repository: str = Field(min_length=1, max_length=200)
    type: IncidentType
    severity: Severity
    status: IncidentStatus = IncidentStatus.OPEN
    description: str = Field(max_length=2000)
    detected_at: str = Field(max_length=40)
    resolved_at: str | None = None
    resolution_time: int | None = None
    last_seen_at: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    timeline: list[TimelineEntry] = Field(default_factory=list)
    actions_taken: list[dict[str, Any]] = Field(default_factory=list)
    occurrences: int = Field(default=1, ge=1)
    diagnosis: dict[str, Any] | None = None
    previous_diagnosis: dict[str, Any] | None = None
    attempts: int = Field(default=0, ge=0)
    playbook: str | None = Field(default=None, max_length=100)
    execution_arn: str | None = Field(default=None, max_length=2048)
    verification: Verification | None = None
    verified_by_run: int | None = None
    recorded_actions: list[str] = Field(default_factory=list)  # action ids already in `actions_taken`
    # Items stored before this field existed had their request sent already.
    healing_request: HealingRequestState = HealingRequestState.REQUESTED
    failed_at: str | None = Field(default=None, max_length=40)
    notifications: list[NotificationSent] = Field(default_factory=list)
    recorded_steps: list[str] = Field(default_factory=list)  # playbook steps already recorded (`close`, ...)

    @property
    def installation_id(self) -> int | None:
        value = self.metadata.get("installation_id")
        return int(value) if value else None

    @property
    def waiting_since(self) -> str:
        """Since when the incident awaits its proving run (its detection, for a wait that left no time)."""
        return (self.verification.since if self.verification else None) or self.detected_at


class IncidentStore(Protocol):
    def get(self, tenant_id: str, incident_id: str) -> Incident | None: ...

    def open_or_update(self, incident: Incident, *, new_occurrence: bool = True) -> tuple[Incident, bool]:
        """Store a new incident (True), or return the known one, counting another occurrence if asked."""
        ...

    def page(self, tenant_id: str, *, limit: int = 50, cursor: str | None = None) -> Page[Incident]:
        """Newest first."""
        ...

    def all(self, tenant_id: str) -> list[Incident]: ...

    def add_timeline(self, tenant_id: str, incident_id: str, entry: TimelineEntry) -> None: ...

    def mark_healing_requested(self, tenant_id: str, incident_id: str) -> bool:
        """`pending` → `requested`; False when another writer already marked it."""
        ...

    def pending_healing(self, tenant_id: str, *, detected_before: datetime, detected_since: datetime) -> list[Incident]:
        """Incidents whose healing request was never sent, detected in the window."""
        ...

    def record_playbook_start(self, tenant_id: str, incident_id: str, playbook: str, execution_arn: str) -> bool:
        """Note the execution once; False when this execution was already noted (a redelivered request)."""
        ...

    def rediagnose(self, tenant_id: str, incident_id: str, diagnosis: dict[str, Any], *, task_token: str) -> None:
        """While `task_token` waits: replace the diagnosis (keeping the old one as `previous_diagnosis`), once."""
        ...

    def clear_verification(self, tenant_id: str, incident_id: str, task_token: str, run_id: int) -> bool:
        """Forget the waiting task token if it is still `task_token`; False when it is not."""
        ...

    def record_action(
        self, tenant_id: str, incident_id: str, action_id: str, entry: dict[str, Any], status: IncidentStatus
    ) -> bool:
        """Add an action's outcome to `actions_taken` and the timeline, once per action id; set the status."""
        ...

    # ---------------------------------------------------------------- playbook steps (healing.actions)
    def begin_attempt(self, tenant_id: str, incident_id: str, *, attempts_seen: int) -> bool:
        """`healing` with one more attempt, if the count is still `attempts_seen`; False when it moved on.

        Two rounds planned at once can not both take the same attempt number.
        """
        ...

    def await_verification(self, tenant_id: str, incident_id: str, verification: Verification) -> bool:
        """`verifying`, the task token parked on the incident; False when the incident is gone."""
        ...

    def close(
        self,
        tenant_id: str,
        incident_id: str,
        status: IncidentStatus,
        entry: TimelineEntry,
        *,
        once: str,
        resolution_time: int | None = None,
    ) -> bool:
        """`resolved` (with `resolved_at`, `resolution_time`) or `failed` (`failed_at`), the verification
        forgotten and `entry` on the timeline, once per `once`; False when already recorded (or gone)."""
        ...

    def note_skipped(self, tenant_id: str, incident_id: str, entry: TimelineEntry, *, awaiting_human: bool) -> bool:
        """Say on the timeline why no repair was made (and hand it to a person); False when it is gone."""
        ...

    def add_notifications(self, tenant_id: str, incident_id: str, sent: list[NotificationSent]) -> None: ...

    # ---------------------------------------------------------------- one repair per problem (healing.repair_claims)
    def add_occurrence(self, tenant_id: str, incident_id: str, entry: TimelineEntry, *, once: str) -> bool:
        """Count one more occurrence (another incident met the same problem), `entry` on the timeline,
        once per `once`; False when already counted (or gone)."""
        ...

    def note(
        self, tenant_id: str, incident_id: str, entry: TimelineEntry, *, once: str, status: IncidentStatus | None = None
    ) -> bool:
        """`entry` on the timeline (and the status, if given), once per `once`; False when already noted."""
        ...

    def overdue_verifications(self, tenant_id: str, *, waiting_since_before: datetime) -> list[Incident]:
        """The tenant's `verifying` incidents awaiting their proving run since before the given moment."""
        ...

    def expire_verification(
        self, tenant_id: str, incident_id: str, entry: TimelineEntry, *, task_token: str | None
    ) -> bool:
        """Hand a `verifying` incident to a person (`awaiting_human`, the entry added) — only while it is
        still verifying the same wait (`task_token`; None: no token). The token is kept, so that a run that
        comes late can still prove the repair; False when a run (or anything else) came first."""
        ...

    def count_open(self, tenant_id: str) -> int:
        """How many of the tenant's incidents are neither resolved nor failed."""
        ...


def dynamo_item(incident: Incident) -> dict[str, Any]:
    return {
        **keys.incident_key(incident.tenant_id, incident.id),
        "gsi1pk": keys.incidents_index(incident.tenant_id),
        "gsi1sk": f"{incident.detected_at}#{incident.id}",
        "entity": "incident",
        # `recorded_actions` and `recorded_steps` are string sets only the store's own updates add to
        **incident.model_dump(mode="json", exclude_none=True, exclude={"recorded_actions", "recorded_steps"}),
    }


def _model(item: dict[str, Any]) -> Incident:
    return Incident.model_validate(stored_fields(item))


def _listed(items: list[dict[str, Any]]) -> list[Incident]:
    return read_items(Incident, items, "incident")


class DynamoIncidentStore:
    def __init__(self, table: StateTable) -> None:
        self.table = table

    def get(self, tenant_id: str, incident_id: str) -> Incident | None:
        item = self.table.get(keys.incident_key(tenant_id, incident_id))
        return _model(item) if item else None

    def open_or_update(self, incident: Incident, *, new_occurrence: bool = True) -> tuple[Incident, bool]:
        if self.table.put_new(dynamo_item(incident)):
            return incident, True
        key = keys.incident_key(incident.tenant_id, incident.id)
        if not new_occurrence:
            found = self.table.get(key)
            return _model(found or dynamo_item(incident)), False
        now = iso(utc_now())
        entry = TimelineEntry(event=TimelineEvent.FAILURE_REPEATED, timestamp=now)
        updated = self.table.set_fields(
            key,
            {"last_seen_at": now, "metadata": incident.metadata},
            increments={"occurrences": 1},
            append={"timeline": [entry.model_dump(exclude_none=True)]},
        )
        return _model(updated or dynamo_item(incident)), False

    def page(self, tenant_id: str, *, limit: int = 50, cursor: str | None = None) -> Page[Incident]:
        items, next_cursor = query_page(
            self.table, keys.incidents_index(tenant_id), by_index=True, newest_first=True, limit=limit, cursor=cursor
        )
        return Page(items=_listed(items), cursor=next_cursor)

    def all(self, tenant_id: str) -> list[Incident]:
        return _listed(self.table.query(keys.incidents_index(tenant_id), by_index=True, newest_first=True))

    def add_timeline(self, tenant_id: str, incident_id: str, entry: TimelineEntry) -> None:
        self.table.set_fields(
            keys.incident_key(tenant_id, incident_id),
            {},
            append={"timeline": [entry.model_dump(exclude_none=True)]},
            if_exists=True,
        )

    def mark_healing_requested(self, tenant_id: str, incident_id: str) -> bool:
        updated = self.table.set_fields(
            keys.incident_key(tenant_id, incident_id),
            {"healing_request": HealingRequestState.REQUESTED.value},
            if_exists=True,
            condition="healing_request = :pending",
            condition_values={":pending": HealingRequestState.PENDING.value},
        )
        return updated is not None

    def pending_healing(self, tenant_id: str, *, detected_before: datetime, detected_since: datetime) -> list[Incident]:
        found: list[Incident] = []
        cursor: str | None = None
        while True:
            items, cursor = query_page(
                self.table,
                keys.incidents_index(tenant_id),
                by_index=True,
                limit=100,
                cursor=cursor,
                sk_at_least=iso(detected_since),
            )
            found.extend(
                _listed(
                    [
                        i
                        for i in items
                        if i.get("healing_request") == HealingRequestState.PENDING.value
                        and str(i.get("detected_at", "")) < iso(detected_before)
                    ]
                )
            )
            if cursor is None:
                return found

    def record_playbook_start(self, tenant_id: str, incident_id: str, playbook: str, execution_arn: str) -> bool:
        entry = TimelineEntry.now(TimelineEvent.ANALYSIS_STARTED, playbook)
        updated = self.table.set_fields(
            keys.incident_key(tenant_id, incident_id),
            {"playbook": playbook, "execution_arn": execution_arn},
            append={"timeline": [entry.model_dump(exclude_none=True)]},
            if_exists=True,
            condition="attribute_not_exists(execution_arn) OR execution_arn <> :arn",
            condition_values={":arn": execution_arn},
        )
        return updated is not None

    def rediagnose(self, tenant_id: str, incident_id: str, diagnosis: dict[str, Any], *, task_token: str) -> None:
        current = self.get(tenant_id, incident_id)
        if current is None:
            return
        try:
            self.table.table.update_item(
                Key=keys.incident_key(tenant_id, incident_id),
                UpdateExpression="SET diagnosis = :new, previous_diagnosis = :old, verification.rediagnosed = :yes",
                ConditionExpression=(
                    "verification.task_token = :token"
                    " AND (attribute_not_exists(verification.rediagnosed) OR verification.rediagnosed <> :yes)"
                ),
                ExpressionAttributeValues=to_dynamo(
                    {":new": diagnosis, ":old": current.diagnosis, ":yes": True, ":token": task_token}
                ),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def clear_verification(self, tenant_id: str, incident_id: str, task_token: str, run_id: int) -> bool:
        updated = self.table.set_fields(
            keys.incident_key(tenant_id, incident_id),
            {"verification": None, "verified_by_run": run_id},
            condition="verification.task_token = :token",
            condition_values={":token": task_token},
        )
        return updated is not None

    def record_action(
        self, tenant_id: str, incident_id: str, action_id: str, entry: dict[str, Any], status: IncidentStatus
    ) -> bool:
        timeline = TimelineEntry.now(TimelineEvent.ACTION_EXECUTED, f"{entry.get('action')}: {entry.get('status')}")
        try:
            self.table.table.update_item(
                Key=keys.incident_key(tenant_id, incident_id),
                UpdateExpression=(
                    "SET #status = :status, actions_taken = list_append(if_not_exists(actions_taken, :empty), :entry),"
                    " timeline = list_append(if_not_exists(timeline, :empty), :timeline) ADD recorded_actions :ids"
                ),
                ConditionExpression=(
                    "attribute_exists(pk)"
                    " AND (attribute_not_exists(recorded_actions) OR NOT contains(recorded_actions, :id))"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_dynamo(
                    {
                        ":status": status.value,
                        ":entry": [entry],
                        ":timeline": [timeline.model_dump(exclude_none=True)],
                        ":empty": [],
                        ":id": action_id,
                    }
                )
                | {":ids": {action_id}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    # ---------------------------------------------------------------- playbook steps (healing.actions)
    def _update_once(
        self,
        tenant_id: str,
        incident_id: str,
        once: str,
        sets: dict[str, Any],
        *,
        remove: tuple[str, ...] = (),
        increments: tuple[str, ...] = (),
    ) -> bool:
        """SET `sets` (a list value under `timeline` is appended) and note `once`, unless noted before."""
        names = {f"#f{i}": name for i, name in enumerate(sets)}
        values: dict[str, Any] = {":once": once}
        assignments = []
        for i, (name, value) in enumerate(sets.items()):
            values[f":v{i}"] = value
            if name == "timeline":
                values[":empty"] = []  # DynamoDB refuses a value the expression does not use
                assignments.append(f"#f{i} = list_append(if_not_exists(#f{i}, :empty), :v{i})")
            else:
                assignments.append(f"#f{i} = :v{i}")
        counted = "".join(f", #c{i} :one" for i in range(len(increments)))
        names |= {f"#c{i}": name for i, name in enumerate(increments)}
        if increments:
            values[":one"] = 1
        expression = "SET " + ", ".join(assignments) + " ADD recorded_steps :ids" + counted
        if remove:
            expression += " REMOVE " + ", ".join(remove)
        try:
            self.table.table.update_item(
                Key=keys.incident_key(tenant_id, incident_id),
                UpdateExpression=expression,
                ConditionExpression=(
                    "attribute_exists(pk)"
                    " AND (attribute_not_exists(recorded_steps) OR NOT contains(recorded_steps, :once))"
                ),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=to_dynamo(values) | {":ids": {once}},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def begin_attempt(self, tenant_id: str, incident_id: str, *, attempts_seen: int) -> bool:
        unchanged = "attempts = :seen" if attempts_seen else "attribute_not_exists(attempts) OR attempts = :seen"
        updated = self.table.set_fields(
            keys.incident_key(tenant_id, incident_id),
            {"status": IncidentStatus.HEALING.value, "attempts": attempts_seen + 1},
            if_exists=True,
            condition=unchanged,
            condition_values={":seen": attempts_seen},
        )
        return updated is not None

    def await_verification(self, tenant_id: str, incident_id: str, verification: Verification) -> bool:
        updated = self.table.set_fields(
            keys.incident_key(tenant_id, incident_id),
            {
                "status": IncidentStatus.VERIFYING.value,
                "verification": verification.model_dump(mode="json", exclude_none=True),
            },
            if_exists=True,
        )
        return updated is not None

    def close(
        self,
        tenant_id: str,
        incident_id: str,
        status: IncidentStatus,
        entry: TimelineEntry,
        *,
        once: str,
        resolution_time: int | None = None,
    ) -> bool:
        sets: dict[str, Any] = {"status": status.value, "timeline": [entry.model_dump(exclude_none=True)]}
        if status == IncidentStatus.RESOLVED:
            sets |= {"resolved_at": entry.timestamp}
            if resolution_time is not None:
                sets["resolution_time"] = resolution_time
        else:
            sets["failed_at"] = entry.timestamp
        return self._update_once(tenant_id, incident_id, once, sets, remove=("verification",))

    def note_skipped(self, tenant_id: str, incident_id: str, entry: TimelineEntry, *, awaiting_human: bool) -> bool:
        updated = self.table.set_fields(
            keys.incident_key(tenant_id, incident_id),
            {"status": IncidentStatus.AWAITING_HUMAN.value} if awaiting_human else {},
            append={"timeline": [entry.model_dump(exclude_none=True)]},
            if_exists=True,
        )
        return updated is not None

    def add_notifications(self, tenant_id: str, incident_id: str, sent: list[NotificationSent]) -> None:
        if sent:
            self.table.set_fields(
                keys.incident_key(tenant_id, incident_id),
                {},
                append={"notifications": [n.model_dump(mode="json") for n in sent]},
                if_exists=True,
            )

    def add_occurrence(self, tenant_id: str, incident_id: str, entry: TimelineEntry, *, once: str) -> bool:
        sets = {"last_seen_at": entry.timestamp, "timeline": [entry.model_dump(exclude_none=True)]}
        return self._update_once(tenant_id, incident_id, once, sets, increments=("occurrences",))

    def note(
        self, tenant_id: str, incident_id: str, entry: TimelineEntry, *, once: str, status: IncidentStatus | None = None
    ) -> bool:
        sets: dict[str, Any] = {"timeline": [entry.model_dump(exclude_none=True)]}
        if status is not None:
            sets["status"] = status.value
        return self._update_once(tenant_id, incident_id, once, sets)

    def overdue_verifications(self, tenant_id: str, *, waiting_since_before: datetime) -> list[Incident]:
        from boto3.dynamodb.conditions import Attr, Key

        # An incident detected after the moment cannot have waited since before it: the index's sort
        # key (detection time) bounds the read; the status is filtered by DynamoDB, the wait here.
        cutoff = iso(waiting_since_before)
        kwargs: dict[str, Any] = {
            "IndexName": self.table.GSI,
            "KeyConditionExpression": Key("gsi1pk").eq(keys.incidents_index(tenant_id)) & Key("gsi1sk").lt(cutoff),
            "FilterExpression": Attr("status").eq(IncidentStatus.VERIFYING.value),
        }
        found: list[Incident] = []
        while True:
            page = self.table.table.query(**kwargs)
            listed = _listed([from_dynamo(i) for i in page.get("Items", [])])
            found.extend(i for i in listed if i.waiting_since < cutoff)
            last = page.get("LastEvaluatedKey")
            if not last:
                return found
            kwargs["ExclusiveStartKey"] = last

    def expire_verification(
        self, tenant_id: str, incident_id: str, entry: TimelineEntry, *, task_token: str | None
    ) -> bool:
        expression = "SET #status = :awaiting, timeline = list_append(if_not_exists(timeline, :empty), :entry)"
        values: dict[str, Any] = {
            ":awaiting": IncidentStatus.AWAITING_HUMAN.value,
            ":verifying": IncidentStatus.VERIFYING.value,
            ":entry": [entry.model_dump(exclude_none=True)],
            ":empty": [],
        }
        if task_token is None:
            condition = "#status = :verifying AND attribute_not_exists(verification)"
        else:
            condition = "#status = :verifying AND verification.task_token = :token"
            expression += ", verification.overdue_at = :at"
            values |= {":token": task_token, ":at": entry.timestamp}
        try:
            self.table.table.update_item(
                Key=keys.incident_key(tenant_id, incident_id),
                UpdateExpression=expression,
                ConditionExpression=condition,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=to_dynamo(values),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def count_open(self, tenant_id: str) -> int:
        return self.table.count(
            keys.incidents_index(tenant_id), by_index=True, excluding={"status": [s.value for s in CLOSED_STATUSES]}
        )


class InMemoryIncidentStore:
    """The same promises as `DynamoIncidentStore`, for unit tests of the services."""

    def __init__(self) -> None:
        self.items: MemoryTable[tuple[str, str], Incident] = MemoryTable()

    def get(self, tenant_id: str, incident_id: str) -> Incident | None:
        return self.items.get((tenant_id, incident_id))

    def open_or_update(self, incident: Incident, *, new_occurrence: bool = True) -> tuple[Incident, bool]:
        key = (incident.tenant_id, incident.id)
        if self.items.put_new(key, incident):
            return incident.model_copy(deep=True), True

        def repeat(current: Incident) -> Incident:
            if not new_occurrence:
                return current
            now = iso(utc_now())
            current.timeline.append(TimelineEntry(event=TimelineEvent.FAILURE_REPEATED, timestamp=now))
            return current.model_copy(
                update={"last_seen_at": now, "metadata": incident.metadata, "occurrences": current.occurrences + 1}
            )

        updated = self.items.update(key, repeat)
        assert updated is not None  # put_new refused, so it exists
        return updated, False

    def _newest_first(self, tenant_id: str) -> list[Incident]:
        found = self.items.values(lambda key: key[0] == tenant_id)
        return sorted(found, key=lambda i: (i.detected_at, i.id), reverse=True)

    def page(self, tenant_id: str, *, limit: int = 50, cursor: str | None = None) -> Page[Incident]:
        return page_of(self._newest_first(tenant_id), limit, cursor, lambda i: f"{i.detected_at}#{i.id}")

    def all(self, tenant_id: str) -> list[Incident]:
        return self._newest_first(tenant_id)

    def add_timeline(self, tenant_id: str, incident_id: str, entry: TimelineEntry) -> None:
        def add(current: Incident) -> Incident:
            current.timeline.append(entry)
            return current

        self.items.update((tenant_id, incident_id), add)

    def mark_healing_requested(self, tenant_id: str, incident_id: str) -> bool:
        def mark(current: Incident) -> Incident | None:
            if current.healing_request != HealingRequestState.PENDING:
                return None
            return current.model_copy(update={"healing_request": HealingRequestState.REQUESTED})

        return self.items.update((tenant_id, incident_id), mark) is not None

    def pending_healing(self, tenant_id: str, *, detected_before: datetime, detected_since: datetime) -> list[Incident]:
        return [
            i
            for i in reversed(self._newest_first(tenant_id))
            if i.healing_request == HealingRequestState.PENDING
            and iso(detected_since) <= i.detected_at < iso(detected_before)
        ]

    def record_playbook_start(self, tenant_id: str, incident_id: str, playbook: str, execution_arn: str) -> bool:
        def start(current: Incident) -> Incident | None:
            if current.execution_arn == execution_arn:
                return None
            current.timeline.append(TimelineEntry.now(TimelineEvent.ANALYSIS_STARTED, playbook))
            return current.model_copy(update={"playbook": playbook, "execution_arn": execution_arn})

        return self.items.update((tenant_id, incident_id), start) is not None

    def rediagnose(self, tenant_id: str, incident_id: str, diagnosis: dict[str, Any], *, task_token: str) -> None:
        def change(current: Incident) -> Incident | None:
            waiting = current.verification
            if waiting is None or waiting.task_token != task_token or waiting.rediagnosed:
                return None
            return current.model_copy(
                update={
                    "diagnosis": diagnosis,
                    "previous_diagnosis": current.diagnosis,
                    "verification": waiting.model_copy(update={"rediagnosed": True}),
                }
            )

        self.items.update((tenant_id, incident_id), change)

    def clear_verification(self, tenant_id: str, incident_id: str, task_token: str, run_id: int) -> bool:
        def clear(current: Incident) -> Incident | None:
            if current.verification is None or current.verification.task_token != task_token:
                return None
            return current.model_copy(update={"verification": None, "verified_by_run": run_id})

        return self.items.update((tenant_id, incident_id), clear) is not None

    def record_action(
        self, tenant_id: str, incident_id: str, action_id: str, entry: dict[str, Any], status: IncidentStatus
    ) -> bool:
        def add(current: Incident) -> Incident | None:
            if action_id in current.recorded_actions:
                return None
            current.actions_taken.append(entry)
            current.timeline.append(
                TimelineEntry.now(TimelineEvent.ACTION_EXECUTED, f"{entry.get('action')}: {entry.get('status')}")
            )
            current.recorded_actions.append(action_id)
            return current.model_copy(update={"status": status})

        return self.items.update((tenant_id, incident_id), add) is not None

    # ---------------------------------------------------------------- playbook steps (healing.actions)
    def begin_attempt(self, tenant_id: str, incident_id: str, *, attempts_seen: int) -> bool:
        def begin(current: Incident) -> Incident | None:
            if current.attempts != attempts_seen:
                return None
            return current.model_copy(update={"status": IncidentStatus.HEALING, "attempts": attempts_seen + 1})

        return self.items.update((tenant_id, incident_id), begin) is not None

    def await_verification(self, tenant_id: str, incident_id: str, verification: Verification) -> bool:
        def wait(current: Incident) -> Incident:
            return current.model_copy(update={"status": IncidentStatus.VERIFYING, "verification": verification})

        return self.items.update((tenant_id, incident_id), wait) is not None

    def close(
        self,
        tenant_id: str,
        incident_id: str,
        status: IncidentStatus,
        entry: TimelineEntry,
        *,
        once: str,
        resolution_time: int | None = None,
    ) -> bool:
        def finish(current: Incident) -> Incident | None:
            if once in current.recorded_steps:
                return None
            current.timeline.append(entry)
            current.recorded_steps.append(once)
            changes: dict[str, Any] = {"status": status, "verification": None}
            if status == IncidentStatus.RESOLVED:
                changes["resolved_at"] = entry.timestamp
                if resolution_time is not None:
                    changes["resolution_time"] = resolution_time
            else:
                changes["failed_at"] = entry.timestamp
            return current.model_copy(update=changes)

        return self.items.update((tenant_id, incident_id), finish) is not None

    def note_skipped(self, tenant_id: str, incident_id: str, entry: TimelineEntry, *, awaiting_human: bool) -> bool:
        def note(current: Incident) -> Incident:
            current.timeline.append(entry)
            return current.model_copy(update={"status": IncidentStatus.AWAITING_HUMAN}) if awaiting_human else current

        return self.items.update((tenant_id, incident_id), note) is not None

    def add_notifications(self, tenant_id: str, incident_id: str, sent: list[NotificationSent]) -> None:
        def add(current: Incident) -> Incident:
            current.notifications.extend(sent)
            return current

        if sent:
            self.items.update((tenant_id, incident_id), add)

    def add_occurrence(self, tenant_id: str, incident_id: str, entry: TimelineEntry, *, once: str) -> bool:
        def count(current: Incident) -> Incident | None:
            if once in current.recorded_steps:
                return None
            current.timeline.append(entry)
            current.recorded_steps.append(once)
            return current.model_copy(update={"occurrences": current.occurrences + 1, "last_seen_at": entry.timestamp})

        return self.items.update((tenant_id, incident_id), count) is not None

    def note(
        self, tenant_id: str, incident_id: str, entry: TimelineEntry, *, once: str, status: IncidentStatus | None = None
    ) -> bool:
        def add(current: Incident) -> Incident | None:
            if once in current.recorded_steps:
                return None
            current.timeline.append(entry)
            current.recorded_steps.append(once)
            return current.model_copy(update={"status": status}) if status is not None else current

        return self.items.update((tenant_id, incident_id), add) is not None

    def overdue_verifications(self, tenant_id: str, *, waiting_since_before: datetime) -> list[Incident]:
        cutoff = iso(waiting_since_before)
        return [
            i
            for i in reversed(self._newest_first(tenant_id))
            if i.status == IncidentStatus.VERIFYING and i.waiting_since < cutoff
        ]

    def expire_verification(
        self, tenant_id: str, incident_id: str, entry: TimelineEntry, *, task_token: str | None
    ) -> bool:
        def expire(current: Incident) -> Incident | None:
            waiting = current.verification
            if current.status != IncidentStatus.VERIFYING or (waiting.task_token if waiting else None) != task_token:
                return None
            current.timeline.append(entry)
            overdue = waiting.model_copy(update={"overdue_at": entry.timestamp}) if waiting else None
            return current.model_copy(update={"status": IncidentStatus.AWAITING_HUMAN, "verification": overdue})

        return self.items.update((tenant_id, incident_id), expire) is not None

    def count_open(self, tenant_id: str) -> int:
        return sum(1 for i in self._newest_first(tenant_id) if i.status not in CLOSED_STATUSES)
