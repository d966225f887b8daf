"""Compliance audits: real checks over the tenant's own records, kept as a signed hash chain.

`POST /api/compliance/audits` runs the checks its standard calls for (optionally narrowed by
`scope`), stores the findings and a risk score, and appends the record to the tenant's chain:
each record carries the previous record's hash and its own (SHA-256 over its canonical JSON), and
the hash is signed with a KMS key. `verify_chain` recomputes every hash and link and checks every
signature, so altering, deleting or inserting a stored record is detected — and every new audit
includes that verification as its `compliance_chain` check.

The checks read the tenant's records through the typed stores (`AuditSources`): the audit trail,
incidents, events with their expiry, API keys, users, repositories and pipelines; a stored record
that no longer validates is a finding where it matters (an unreadable audit record breaks the
trail, an unreadable compliance record breaks the chain), never a failed request.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from mlops_bot.clock import iso, utc_now
from mlops_bot.errors import ServiceUnavailable, ValidationFailed
from mlops_bot.management.reports import records
from mlops_bot.stores.api_keys import ApiKeyItem, ApiKeyStore
from mlops_bot.stores.audit import AuditLog, AuditRecord, AuditTrail
from mlops_bot.stores.compliance_audits import ComplianceAuditStore, ComplianceRecord
from mlops_bot.stores.events import EXPIRY_ATTRIBUTE, EventStore, ReceivedEvent
from mlops_bot.stores.incidents import Incident, IncidentStore
from mlops_bot.stores.pipelines import PipelineStore
from mlops_bot.stores.repositories import RepositoryStore
from mlops_bot.stores.users import UserStore

Standard = Literal["sox", "gdpr", "hipaa", "pci_dss"]
Area = Literal[
    "change_management",
    "audit_trail",
    "data_retention",
    "data_processing",
    "user_consent",
    "secrets",
    "data_protection",
    "access_control",
]
CheckName = Literal[
    "change_management", "audit_trail", "compliance_chain", "data_retention", "secret_material", "access_control"
]
Severity = Literal["low", "medium", "high", "critical"]

STANDARD_CHECKS: dict[str, tuple[CheckName, ...]] = {
    "sox": ("change_management", "audit_trail", "compliance_chain", "access_control"),
    "gdpr": ("data_retention", "secret_material", "audit_trail", "compliance_chain", "access_control"),
    "hipaa": ("audit_trail", "compliance_chain", "access_control", "secret_material", "data_retention"),
    "pci_dss": ("secret_material", "access_control", "change_management", "audit_trail", "compliance_chain"),
}
AREA_CHECKS: dict[str, tuple[CheckName, ...]] = {
    "change_management": ("change_management",),
    "audit_trail": ("audit_trail", "compliance_chain"),
    "data_retention": ("data_retention",),
    "data_processing": ("data_retention", "secret_material"),
    # The only personal data the bot keeps is GitHub logins on events, which expire with them.
    "user_consent": ("data_retention",),
    "secrets": ("secret_material",),
    "data_protection": ("secret_material",),
    "access_control": ("access_control",),
}
WEIGHT: dict[str, int] = {"low": 1, "medium": 2, "high": 3, "critical": 4}
GENESIS = "sha256:" + "0" * 64
PROTECTED_BRANCHES = ("main", "master", "trunk", "develop", "production", "release/*")
KEY_MAX_AGE = timedelta(days=90)
MAX_EVIDENCE = 20

SECRET_PATTERNS: dict[str, re.Pattern[str]] = {
    "github_token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})\b"),
    "aws_access_key": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "private_key": re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
    "slack_token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),
    "mlops_bot_api_key": re.compile(r"\bmlb_[A-Za-z0-9_-]{40,}\b"),
    "jwt": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"),
}
CLEAR_SECRET_FIELDS = frozenset({"password", "secret", "token", "api_key", "key", "private_key"})


class Signer(Protocol):
    key_id: str
    algorithm: str

    def sign(self, digest: bytes) -> str: ...

    def verify(self, digest: bytes, signature: str) -> bool: ...


@dataclass(frozen=True)
class AuditEnvironment:
    """What the checks read besides the records: the table's TTL setting and the deployment's branch rules."""

    ttl_attribute: Callable[[], str | None]
    protected_branches: tuple[str, ...] = PROTECTED_BRANCHES


@dataclass(frozen=True)
class AuditSources:
    """The tenant's records an audit checks, and the chain it joins."""

    chain: ComplianceAuditStore
    audit_log: AuditLog
    incidents: IncidentStore
    events: EventStore
    repositories: RepositoryStore
    pipelines: PipelineStore
    api_keys: ApiKeyStore
    users: UserStore


@dataclass(frozen=True)
class Scanned:
    """One stored record the secret scan reads: what it is, which one, and its fields."""

    kind: str
    ident: str
    fields: dict[str, Any]


class AuditCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    standard: Standard
    scope: list[Area] = Field(default_factory=list, max_length=8)
    auditor_id: str | None = Field(default=None, max_length=128)


class CheckResult(BaseModel):
    check: CheckName
    title: str
    status: Literal["pass", "fail"]
    severity: Severity
    details: str
    evidence: list[str] = Field(default_factory=list)
    remediation: str | None = None


class Finding(BaseModel):
    check: CheckName
    severity: Severity
    description: str
    evidence: list[str] = Field(default_factory=list)
    remediation: str | None = None


class ComplianceAudit(BaseModel):
    id: str
    tenant_id: str
    standard: Standard
    scope: list[str] = Field(default_factory=list)
    auditor_id: str | None = None
    requested_by: str
    status: Literal["compliant", "partially_compliant", "non_compliant"]
    audit_date: str
    findings: list[Finding]
    checks: list[CheckResult]
    risk_score: float
    sequence: int
    previous_hash: str
    record_hash: str
    digital_signature: str
    signature_algorithm: str
    signing_key_id: str


class AuditList(BaseModel):
    audits: list[ComplianceAudit]
    total: int


class ChainProblem(BaseModel):
    sequence: int | None
    id: str | None
    problem: str


class ChainVerification(BaseModel):
    verified: bool
    records: int
    first_broken_sequence: int | None
    problems: list[ChainProblem]


SIGNED_FIELDS = (
    "id",
    "tenant_id",
    "standard",
    "scope",
    "auditor_id",
    "requested_by",
    "status",
    "audit_date",
    "findings",
    "checks",
    "risk_score",
    "sequence",
    "previous_hash",
)


def _normalise(value: Any) -> Any:
    """Numbers as DynamoDB gives them back (an integral float comes back as an int)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _normalise(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_normalise(v) for v in value]
    return value


def _canonical(record: dict[str, Any]) -> bytes:
    content = _normalise({name: record.get(name) for name in SIGNED_FIELDS})
    return json.dumps(content, sort_keys=True, separators=(",", ":"), default=str).encode()


def _digest(record: dict[str, Any]) -> bytes:
    return hashlib.sha256(_canonical(record)).digest()


# ------------------------------------------------------------------------------------ checks


def _protected(branch: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(branch, p) for p in patterns)


def check_change_management(audit_records: list[AuditRecord], env: AuditEnvironment) -> CheckResult:
    changes = [
        a for a in audit_records if a.method == "PUT" and "/contents/" in a.path and not a.result.startswith("error")
    ]
    pulls = [a for a in audit_records if "/pulls" in a.path and a.method in {"POST", "PATCH"}]
    violations = []
    for change in changes:
        branch = str(change.details.get("branch") or "")
        if not branch or _protected(branch, env.protected_branches):
            violations.append(f"{change.id}: change on '{branch or 'unknown'}' branch")
            continue
        via_pull = any(
            p.repository == change.repository
            and (p.details.get("head") == branch or (p.incident_id and p.incident_id == change.incident_id))
            for p in pulls
        )
        if not via_pull:
            violations.append(f"{change.id}: no pull request for branch '{branch}'")
    return CheckResult(
        check="change_management",
        title="Every automated code change went through a pull request",
        status="fail" if violations else "pass",
        severity="high",
        details=f"{len(changes)} automated code change(s) recorded, {len(violations)} outside a pull request",
        evidence=violations[:MAX_EVIDENCE],
        remediation="Investigate the listed writes; the bot must only write to bot branches and open a PR"
        if violations
        else None,
    )


def check_audit_trail(trail: AuditTrail, incidents: list[Incident]) -> CheckResult:
    audit_ids = {a.id for a in trail.records}
    incident_ids = {i.id for i in incidents}
    problems = [f"{where}: audit record unreadable" for where in trail.unreadable]
    for incident in incidents:
        for action in incident.actions_taken:
            audit_id = action.get("audit_id")
            if audit_id and str(audit_id) not in audit_ids:
                problems.append(f"{incident.id}: action '{action.get('action')}' has no audit record")
    for entry in trail.records:
        missing = [f for f in ("method", "path", "result", "at") if not getattr(entry, f)]
        if missing:
            problems.append(f"{entry.id}: audit record lacks {', '.join(missing)}")
        if entry.incident_id and entry.incident_id not in incident_ids:
            problems.append(f"{entry.id}: refers to unknown incident {entry.incident_id}")
    total = len(trail.records) + len(trail.unreadable)
    return CheckResult(
        check="audit_trail",
        title="Audit trail complete",
        status="fail" if problems else "pass",
        severity="high",
        details=f"{total} audit record(s) and {len(incidents)} incident(s) cross-checked",
        evidence=problems[:MAX_EVIDENCE],
        remediation="Restore the missing audit records from the table's point-in-time recovery" if problems else None,
    )


def check_chain(verification: ChainVerification) -> CheckResult:
    return CheckResult(
        check="compliance_chain",
        title="Compliance records unbroken and signed",
        status="pass" if verification.verified else "fail",
        severity="critical",
        details=f"{verification.records} earlier audit record(s) verified"
        if verification.verified
        else f"chain broken at sequence {verification.first_broken_sequence}",
        evidence=[f"#{p.sequence} {p.id}: {p.problem}" for p in verification.problems][:MAX_EVIDENCE],
        remediation="Treat as tampering: compare with point-in-time recovery and the KMS key's CloudTrail"
        if not verification.verified
        else None,
    )


def check_data_retention(events: list[ReceivedEvent], env: AuditEnvironment) -> CheckResult:
    problems = []
    attribute = env.ttl_attribute()
    if attribute is None:
        problems.append("table: time to live is not enabled")
    elif attribute != EXPIRY_ATTRIBUTE:
        problems.append(f"table: time to live is on '{attribute}', the records expire by '{EXPIRY_ATTRIBUTE}'")
    without = [e.delivery_id for e in events if not e.expires_at]
    problems.extend(f"event {d}: no expiry" for d in without)
    return CheckResult(
        check="data_retention",
        title="Data retention TTLs set",
        status="fail" if problems else "pass",
        severity="medium",
        details=f"TTL attribute {attribute!r}; {len(events)} event record(s), {len(without)} without expiry",
        evidence=problems[:MAX_EVIDENCE],
        remediation="Enable TTL on 'expires_at' and set it on every event record" if problems else None,
    )


def _strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        found: list[tuple[str, str]] = []
        for k, v in value.items():
            found.extend(_strings(v, f"{path}.{k}" if path else str(k)))
        return found
    if isinstance(value, list):
        found = []
        for i, v in enumerate(value):
            found.extend(_strings(v, f"{path}[{i}]"))
        return found
    return []


def scanned_records(
    sources: AuditSources,
    tenant_id: str,
    *,
    incidents: list[Incident] | None = None,
    trail: AuditTrail | None = None,
) -> list[Scanned]:
    """Every record of the tenant that holds text a caller or GitHub supplied, or a credential's hash."""
    found = [Scanned("api_key", k.key_id, k.model_dump(mode="json")) for k in sources.api_keys.list(tenant_id)]
    found += [Scanned("user", u.id, u.model_dump(mode="json")) for u in sources.users.list(tenant_id)]
    found += [
        Scanned("repository", r.full_name, r.model_dump(mode="json")) for r in sources.repositories.of_tenant(tenant_id)
    ]
    found += [Scanned("pipeline", p.id, p.model_dump(mode="json")) for p in sources.pipelines.list(tenant_id)]
    incidents = sources.incidents.all(tenant_id) if incidents is None else incidents
    found += [Scanned("incident", i.id, i.model_dump(mode="json")) for i in incidents]
    trail = sources.audit_log.trail(tenant_id) if trail is None else trail
    found += [Scanned("audit", a.id, a.model_dump(mode="json")) for a in trail.records]
    return found


def _credential_problems(record: Scanned) -> list[str]:
    if record.kind == "api_key" and not re.fullmatch(r"[0-9a-f]{64}", str(record.fields.get("key_hash", ""))):
        return [f"api_key {record.ident}: API key not stored as a SHA-256 digest only"]
    if record.kind == "user" and not str(record.fields.get("password_hash", "")).startswith("scrypt$"):
        return [f"user {record.ident}: password not stored as a scrypt hash only"]
    return []


def check_secret_material(scanned: list[Scanned]) -> CheckResult:
    problems = []
    for record in scanned:
        problems.extend(_credential_problems(record))
        where = f"{record.kind} {record.ident}"
        for path, text in _strings(record.fields):
            leaf = path.rsplit(".", 1)[-1]
            if leaf in CLEAR_SECRET_FIELDS and text and record.kind != "api_key":
                problems.append(f"{where}: field '{path}' holds a value in clear")
                continue
            for kind, pattern in SECRET_PATTERNS.items():
                if pattern.search(text):
                    problems.append(f"{where}: {kind} in '{path}'")
    return CheckResult(
        check="secret_material",
        title="No secret material stored in clear",
        status="fail" if problems else "pass",
        severity="critical",
        details=f"{len(scanned)} record(s) scanned for tokens, keys and clear-text passwords",
        evidence=problems[:MAX_EVIDENCE],
        remediation="Rotate the exposed credentials, then remove them from the records" if problems else None,
    )


def check_access_control(api_keys: list[ApiKeyItem]) -> CheckResult:
    now = utc_now()
    problems = []
    active = [k for k in api_keys if not k.revoked]
    for key in active:
        created = records.parse_time(key.created_at)
        if created and now - created > KEY_MAX_AGE:
            problems.append(
                f"API key {key.key_id} ({','.join(key.permissions)}) not rotated for {(now - created).days} days"
            )
    return CheckResult(
        check="access_control",
        title="Credentials rotated",
        status="fail" if problems else "pass",
        severity="medium",
        details=f"{len(active)} active API key(s); rotation required every {KEY_MAX_AGE.days} days",
        evidence=problems[:MAX_EVIDENCE],
        remediation="Generate new keys, move clients over, revoke the old ones" if problems else None,
    )


# ------------------------------------------------------------------------------------ chain


def _record_digest(record: ComplianceRecord) -> bytes:
    return _digest(record.model_dump(mode="json"))


def verify_chain(chain: ComplianceAuditStore, tenant_id: str, signer: Signer) -> ChainVerification:
    links = chain.chain(tenant_id)
    problems: list[ChainProblem] = []
    previous: str | None = GENESIS
    for position, link in enumerate(links, start=1):
        record = link.record
        if record is None:
            problems.append(ChainProblem(sequence=position, id=None, problem=link.problem or "record unreadable"))
            previous = None  # its hash is unknown: the next link is judged by its own hash and signature
            continue
        if record.sequence != position or link.filed_as != position:
            problems.append(ChainProblem(sequence=position, id=record.id, problem="sequence gap or reordering"))
        if previous is not None and record.previous_hash != previous:
            problems.append(ChainProblem(sequence=position, id=record.id, problem="link to the previous record broken"))
        digest = _record_digest(record)
        if record.record_hash != "sha256:" + digest.hex():
            problems.append(ChainProblem(sequence=position, id=record.id, problem="content does not match its hash"))
        signature = record.digital_signature.rsplit(":", 1)[-1]
        if not signature or not signer.verify(digest, signature):
            problems.append(ChainProblem(sequence=position, id=record.id, problem="signature invalid"))
        previous = record.record_hash
    first = min((p.sequence for p in problems if p.sequence is not None), default=None)
    return ChainVerification(verified=not problems, records=len(links), first_broken_sequence=first, problems=problems)


# ------------------------------------------------------------------------------------ audits


def _checks_for(request: AuditCreate) -> tuple[CheckName, ...]:
    wanted = STANDARD_CHECKS[request.standard]
    if not request.scope:
        return wanted
    scoped = {c for area in request.scope for c in AREA_CHECKS[area]}
    chosen = tuple(c for c in wanted if c in scoped)
    if not chosen:
        raise ValidationFailed(
            "Scope selects no check", f"{request.standard} checks {', '.join(wanted)}; the scope covers none of them"
        )
    return chosen


def run_checks(
    sources: AuditSources, tenant_id: str, request: AuditCreate, env: AuditEnvironment, signer: Signer
) -> list[CheckResult]:
    trail = sources.audit_log.trail(tenant_id)
    incidents = sources.incidents.all(tenant_id)
    results = []
    for name in _checks_for(request):
        if name == "change_management":
            results.append(check_change_management(trail.records, env))
        elif name == "audit_trail":
            results.append(check_audit_trail(trail, incidents))
        elif name == "compliance_chain":
            results.append(check_chain(verify_chain(sources.chain, tenant_id, signer)))
        elif name == "data_retention":
            results.append(check_data_retention(sources.events.of_tenant(tenant_id), env))
        elif name == "secret_material":
            results.append(check_secret_material(scanned_records(sources, tenant_id, incidents=incidents, trail=trail)))
        else:
            results.append(check_access_control(sources.api_keys.list(tenant_id)))
    return results


def risk_score(results: list[CheckResult]) -> float:
    total = sum(WEIGHT[r.severity] for r in results)
    failed = sum(WEIGHT[r.severity] for r in results if r.status == "fail")
    return round(10 * failed / total, 1) if total else 0.0


def overall_status(results: list[CheckResult]) -> Literal["compliant", "partially_compliant", "non_compliant"]:
    failed = [r for r in results if r.status == "fail"]
    if not failed:
        return "compliant"
    if any(WEIGHT[r.severity] >= WEIGHT["high"] for r in failed):
        return "non_compliant"
    return "partially_compliant"


def create_audit(
    sources: AuditSources,
    tenant_id: str,
    request: AuditCreate,
    requested_by: str,
    env: AuditEnvironment,
    signer: Signer | None,
) -> ComplianceAudit:
    if signer is None:
        raise ServiceUnavailable("Compliance signing is not configured", "Set MLOPS_BOT_COMPLIANCE_KEY_ID")
    results = run_checks(sources, tenant_id, request, env, signer)
    findings = [
        Finding(
            check=r.check, severity=r.severity, description=r.details, evidence=r.evidence, remediation=r.remediation
        )
        for r in results
        if r.status == "fail"
    ]
    audit_id = f"audit-{uuid.uuid4().hex[:12]}"
    for _ in range(5):  # another audit may take the next sequence first: re-read the head and retry
        head = sources.chain.head(tenant_id)
        sequence = head.sequence + 1 if head else 1
        record: dict[str, Any] = {
            "id": audit_id,
            "tenant_id": tenant_id,
            "standard": request.standard,
            "scope": list(request.scope),
            "auditor_id": request.auditor_id,
            "requested_by": requested_by,
            "status": overall_status(results),
            "audit_date": iso(utc_now()),
            "findings": [f.model_dump() for f in findings],
            "checks": [r.model_dump() for r in results],
            "risk_score": risk_score(results),
            "sequence": sequence,
            "previous_hash": head.record_hash if head else GENESIS,
        }
        digest = _digest(record)
        record.update(
            record_hash="sha256:" + digest.hex(),
            digital_signature=f"kms:{signer.algorithm}:{signer.sign(digest)}",
            signature_algorithm=signer.algorithm,
            signing_key_id=signer.key_id,
        )
        if sources.chain.append(ComplianceRecord.model_validate(record)):
            return ComplianceAudit.model_validate(record)
    raise ServiceUnavailable("Compliance chain busy", "Too many concurrent audits; try again")


def list_audits(
    chain: ComplianceAuditStore,
    tenant_id: str,
    standard: str | None = None,
    status: str | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> AuditList:
    start, end = records.aware(start), records.aware(end)
    found = []
    for record in chain.audits(tenant_id):
        when = records.parse_time(record.audit_date)
        if standard and record.standard != standard:
            continue
        if status and record.status != status:
            continue
        if (start and (when is None or when < start)) or (end and (when is None or when > end)):
            continue
        found.append(ComplianceAudit.model_validate(record.model_dump(mode="json")))
    return AuditList(audits=found, total=len(found))
