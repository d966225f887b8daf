"""GitHub App onboarding: recording installations, claiming them with proof, and their repositories.

What GitHub tells us (`installation`, `installation_repositories` events) is recorded as it comes,
with no tenant: an installation is *unclaimed* until a tenant proves it is the one that installed
the App, either

- with the App's setup URL: the tenant asks for a signed, single-use `state` (HS256 with the
  management JWT secret, its own audience, one hour), sends the user to install the App with it,
  and GitHub redirects back with `installation_id` and that `state`. Because a user can edit the
  redirect's `installation_id`, the installation must also have been recorded (its `created` event)
  after the state was issued and be unclaimed; or
- with a GitHub user token of someone who can access the installation: GitHub's
  `GET /user/installations` must list it.

Deliveries can arrive out of order (GitHub's retries, the reconciler's redeliveries, two deliveries
handled at once): an `installation` event's status applies only if it is not older than the recorded
one, judged by GitHub's own timestamps in the payload (`status_order`), with the store's conditional
write. A `deleted` or `suspend` older than the recorded `created`/`unsuspend` leaves the installation
active, and the reverse.

Never by a bare id. Events of an unclaimed, suspended or deleted installation are answered 202
`ignored` with the reason (never enrolled into `default` unless auto-enrolment is on), so GitHub
does not retry them and the tenant sees why in the API and the logs.

The webhook path imports this module: PyJWT and the GitHub client are imported only where a claim needs them.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from mlops_bot.clock import iso, utc_now
from mlops_bot.errors import Conflict, Invalid, NotFound, ServiceUnavailable, Unauthorized, ValidationFailed
from mlops_bot.repository_names import RepositoryFullName
from mlops_bot.stores.installations import (
    ClaimMethod,
    InstallationItem,
    InstallationStatus,
    InstallationStore,
)
from mlops_bot.stores.repositories import RepositoryStore
from mlops_bot.tenancy.service import enroll_repository, register_installation

if TYPE_CHECKING:
    from mlops_bot.config import Settings

logger = logging.getLogger("mlops_bot.installations")

INSTALLATION_EVENTS = frozenset({"installation", "installation_repositories"})
STATE_AUDIENCE = "mlops-bot:installation-setup"
STATE_TYPE = "installation_claim"
STATE_ALGORITHM = "HS256"
STATE_ISSUER = "mlops-bot"
STATE_LIFETIME_SECONDS = 3600
# How much earlier than the state an installation may have been recorded (clock skew between the
# webhook and the API functions, and GitHub sending the event a moment before the redirect).
CREATED_LEEWAY_SECONDS = 120
FULL_NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,100}/[A-Za-z0-9_.-]{1,100}$"


@dataclass(frozen=True)
class InstallationVerdict:
    """What became of an installation event, or why a delivery is refused: the ingress answers with it."""

    status: Literal["accepted", "ignored"]
    message: str


# ------------------------------------------------------------------ GitHub's payloads


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Account(_Lenient):
    login: str = Field(default="", max_length=100)
    type: str = Field(default="", max_length=40)


GitHubTime = str | int | None  # ISO 8601; some older payloads carry epoch seconds


class _Installation(_Lenient):
    id: int = Field(ge=1)
    account: _Account = Field(default_factory=_Account)
    created_at: GitHubTime = None
    updated_at: GitHubTime = None
    suspended_at: GitHubTime = None


class _Repository(_Lenient):
    full_name: str = Field(max_length=201)


class _Sender(_Lenient):
    login: str = Field(max_length=100)


class InstallationEvent(_Lenient):
    """The parts of `installation` / `installation_repositories` payloads the bot reads."""

    action: str = Field(max_length=50)
    installation: _Installation
    repositories: list[_Repository] | None = None
    repositories_added: list[_Repository] = Field(default_factory=list)
    repositories_removed: list[_Repository] = Field(default_factory=list)
    sender: _Sender | None = None


# ------------------------------------------------------------------ the webhook path

# At the same GitHub time, which status wins: an uninstall is final, a creation is the first thing.
STATUS_RANK = {"created": 0, "suspend": 1, "unsuspend": 1, "deleted": 2}


def _moment(value: GitHubTime) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        moment = datetime.fromtimestamp(value, UTC) if isinstance(value, int) else datetime.fromisoformat(value)
    except (ValueError, OverflowError, OSError):
        return None
    return iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def status_order(event: InstallationEvent) -> str | None:
    """The ordering key of an `installation` event's status: the latest of GitHub's timestamps in the
    payload (`updated_at`, `suspended_at`, `created_at`), then the action's rank; None without any."""
    found = [
        m
        for m in map(
            _moment, (event.installation.updated_at, event.installation.suspended_at, event.installation.created_at)
        )
        if m
    ]
    if not found or event.action not in STATUS_RANK:
        return None
    return f"{max(found)}#{STATUS_RANK[event.action]}"


def _names(repositories: list[_Repository] | None) -> list[str]:
    return [r.full_name for r in repositories or []]


def _merge(current: list[str], added: list[str], removed: list[str]) -> list[str]:
    """`current` plus `added` minus `removed`, in order, each name once (GitHub names are case-insensitive)."""
    gone = {r.lower() for r in removed}
    merged: dict[str, str] = {}
    for name in [*current, *added]:
        if name.lower() not in gone:
            merged.setdefault(name.lower(), name)
    return list(merged.values())


def record_event(
    store: InstallationStore, repositories: RepositoryStore, event_name: str, document: dict[str, Any]
) -> InstallationVerdict:
    """Apply one installation event to the stored installation; the answer says what changed."""
    try:
        event = InstallationEvent.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise Invalid("Invalid payload", f"{where}: {first['msg']}") from exc
    now = iso(utc_now())
    found = store.get(event.installation.id)
    item = found or InstallationItem(installation_id=event.installation.id, created_at=now, updated_at=now)
    changes: dict[str, Any] = {"updated_at": now, "sender": event.sender.login if event.sender else item.sender}
    if event.installation.account.login:
        changes["account_login"] = event.installation.account.login
        changes["account_type"] = event.installation.account.type
    added: list[str] = []
    removed: list[str] = []
    if event_name == "installation":
        by = f" by {event.sender.login}" if event.sender else ""
        if event.action in STATUS_RANK:
            changes["status_order"] = status_order(event)
        if event.action == "created":
            changes.update(status=InstallationStatus.ACTIVE, status_reason=None)
            if found is not None and found.status == InstallationStatus.DELETED:
                changes["created_at"] = now  # the App was installed again under the same id
            added = _names(event.repositories)
            changes["repositories"] = _merge(item.repositories, added, [])
        elif event.action == "deleted":
            changes.update(status=InstallationStatus.DELETED, status_reason=f"The App was uninstalled on GitHub{by}")
        elif event.action == "suspend":
            changes.update(status=InstallationStatus.SUSPENDED, status_reason=f"The installation was suspended{by}")
        elif event.action == "unsuspend":
            changes.update(status=InstallationStatus.ACTIVE, status_reason=None)
    else:
        added = _names(event.repositories_added)
        removed = _names(event.repositories_removed)
        changes["repositories"] = _merge(item.repositories, added, removed)
    item = item.model_copy(update=changes)
    stale = ""
    if not store.save(item):  # an older event than the recorded status: the status stays as it is
        item = store.get(item.installation_id) or item
        logger.info(
            "installation event older than the recorded status: status kept",
            extra={
                "installation_id": item.installation_id,
                "action": event.action,
                "order": changes.get("status_order"),
            },
        )
        added = removed = []  # nor does it enrol or unenrol repositories
        stale = f" (this '{event.action}' is older than the recorded status, which is kept)"
    if item.tenant_id:
        _follow_repositories(repositories, item, added, removed)
    logger.info(
        "installation event recorded",
        extra={
            "installation_id": item.installation_id,
            "event": event_name,
            "action": event.action,
            "status": item.status.value,
            "tenant_id": item.tenant_id,
        },
    )
    owner = f"claimed by tenant {item.tenant_id}" if item.tenant_id else "not claimed by a tenant yet"
    return InstallationVerdict(
        status="accepted",
        message=f"Installation {item.installation_id} ({item.account_login or 'unknown account'}) "
        f"recorded: {item.status.value}, {len(item.repositories)} repositories, {owner}{stale}",
    )


def _follow_repositories(
    repositories: RepositoryStore, item: InstallationItem, added: list[str], removed: list[str]
) -> None:
    """A claimed installation's repositories follow what the user selected on GitHub."""
    assert item.tenant_id is not None
    for full_name in added:
        if not item.excludes(full_name):
            enroll_repository(repositories, item.tenant_id, full_name, source="installation")
    for full_name in removed:
        unenroll_repository(repositories, item.tenant_id, full_name)


def refusal(
    store: InstallationStore, installation_id: int | None, repository: str | None, auto_enroll: bool
) -> InstallationVerdict | None:
    """Why an event of this installation must not be processed, or None to route it as usual."""
    if installation_id is None:
        return None
    item = store.get(installation_id)
    if item is None:
        return None  # never seen an installation event for it: routing decides, as before
    reason: str | None = None
    if item.status != InstallationStatus.ACTIVE:
        reason = (
            f"Installation {installation_id} is {item.status.value} ({item.status_reason}); "
            f"events of {repository or 'its repositories'} are not processed"
        )
    elif not item.claimed and not auto_enroll:
        reason = (
            f"Installation {installation_id} ({item.account_login or 'unknown account'}) is not claimed by a tenant; "
            "claim it through the App's setup URL or POST /api/v1/installations/{id}/claim"
        )
    elif repository and item.excludes(repository):
        reason = f"Repository {repository} was removed from monitoring by its tenant"
    if reason is None:
        return None
    logger.warning(
        "event not processed",
        extra={"installation_id": installation_id, "repository": repository, "reason": reason},
    )
    store.note_ignored(installation_id, iso(utc_now()), reason)
    return InstallationVerdict(status="ignored", message=reason)


def write_refusal(store: InstallationStore, installation_id: int | None) -> str | None:
    """Why the healer must not write for an incident of this installation (suspended or uninstalled)."""
    item = store.get(installation_id) if installation_id is not None else None
    if item is None or item.status == InstallationStatus.ACTIVE:
        return None
    reason = f"Installation {item.installation_id} is {item.status.value} ({item.status_reason}); no write is made"
    logger.warning("healing write refused", extra={"installation_id": item.installation_id, "reason": reason})
    return reason


# ------------------------------------------------------------------ claims


class ClaimState(BaseModel):
    state: str
    expires_at: str
    setup_url_parameters: str = Field(description="What to append to the App's install link: `?state=<state>`")


class InstallationView(BaseModel):
    id: int
    account: str
    account_type: str
    status: InstallationStatus
    status_reason: str | None = None
    tenant_id: str | None = None
    claimed_at: str | None = None
    claimed_by: ClaimMethod | None = None
    repositories: list[str]
    excluded_repositories: list[str]
    ignored_events: int = Field(description="Events answered 'ignored' (before the claim, while suspended...)")
    last_ignored_at: str | None = None
    last_ignored_reason: str | None = None
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, item: InstallationItem) -> InstallationView:
        return cls(
            id=item.installation_id,
            account=item.account_login,
            account_type=item.account_type,
            status=item.status,
            status_reason=item.status_reason,
            tenant_id=item.tenant_id,
            claimed_at=item.claimed_at,
            claimed_by=item.claimed_by,
            repositories=item.repositories,
            excluded_repositories=item.excluded_repositories,
            ignored_events=item.ignored_events,
            last_ignored_at=item.last_ignored_at,
            last_ignored_reason=item.last_ignored_reason,
            created_at=item.created_at,
            updated_at=item.updated_at,
        )


class InstallationList(BaseModel):
    installations: list[InstallationView]
    total: int


class ClaimResult(BaseModel):
    message: str
    installation: InstallationView
    enrolled: list[str]
    conflicts: list[str] = Field(default_factory=list, description="Repositories another tenant already monitors")


def issue_claim_state(secret: str, tenant_id: str, now: int | None = None) -> ClaimState:
    """A signed, expiring, single-use state bound to `tenant_id` for the App's setup URL."""
    import jwt

    issued = int(time.time()) if now is None else now
    payload = {
        "iss": STATE_ISSUER,
        "aud": STATE_AUDIENCE,
        "type": STATE_TYPE,
        "tenant_id": tenant_id,
        "iat": issued,
        "exp": issued + STATE_LIFETIME_SECONDS,
        "jti": uuid.uuid4().hex,
    }
    state = jwt.encode(payload, secret, algorithm=STATE_ALGORITHM)
    expires = datetime.fromtimestamp(issued + STATE_LIFETIME_SECONDS, tz=UTC)
    return ClaimState(state=state, expires_at=iso(expires), setup_url_parameters=f"?state={state}")


class _StateClaims(BaseModel):
    tenant_id: str = Field(min_length=1, max_length=100)
    type: str
    iat: int
    exp: int
    jti: str = Field(min_length=1, max_length=100)


def _verify_state(secret: str, state: str) -> _StateClaims:
    import jwt

    try:
        if jwt.get_unverified_header(state).get("alg") != STATE_ALGORITHM:
            raise Unauthorized("Invalid setup state", f"Only {STATE_ALGORITHM} states are accepted")
        payload = jwt.decode(
            state,
            secret,
            algorithms=[STATE_ALGORITHM],
            audience=STATE_AUDIENCE,
            issuer=STATE_ISSUER,
            options={"require": ["exp", "iat", "jti", "aud", "iss"]},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("Setup state expired", "Ask for a new one: POST /api/v1/installations/claims") from exc
    except jwt.InvalidTokenError as exc:
        raise Unauthorized("Invalid setup state", "The state is not one this deployment issued") from exc
    try:
        claims = _StateClaims.model_validate(payload)
    except ValidationError as exc:
        raise Unauthorized("Invalid setup state", "The state is not one this deployment issued") from exc
    if claims.type != STATE_TYPE:
        raise Unauthorized("Invalid setup state", "The state is not one this deployment issued")
    return claims


def _recorded(store: InstallationStore, installation_id: int) -> InstallationItem:
    item = store.get(installation_id)
    if item is None:
        raise NotFound(
            "Installation not seen yet",
            f"No 'installation' event for {installation_id} has reached the bot; GitHub sends it within "
            "seconds of the installation: retry shortly, and check the App's webhook URL and secret",
        )
    return item


def claim_with_state(
    store: InstallationStore, repositories: RepositoryStore, secret: str, installation_id: int, state: str
) -> ClaimResult:
    """The App's setup URL: the state says which tenant started the installation."""
    claims = _verify_state(secret, state)
    item = _recorded(store, installation_id)
    if item.tenant_id == claims.tenant_id:
        return _result(item, "Installation already claimed by this tenant", [], [])
    created = datetime.fromisoformat(item.created_at.replace("Z", "+00:00")).timestamp()
    if created < claims.iat - CREATED_LEEWAY_SECONDS:
        raise Unauthorized(
            "Setup state does not prove this installation",
            "The installation existed before this setup link was issued; claim it with a GitHub user token "
            "(POST /api/v1/installations/{id}/claim)",
        )
    if item.tenant_id is not None:
        raise Conflict("Installation already claimed", "Another tenant claimed this installation")
    if not store.use_claim_state(claims.jti, claims.exp):
        raise Unauthorized("Setup state already used", "Each setup state claims one installation, once")
    return _bind(store, repositories, item, claims.tenant_id, ClaimMethod.SETUP_STATE)


UserInstallations = Callable[[str], set[int]]


def github_user_installations(settings: Settings) -> UserInstallations:
    """`GET /user/installations` with a user's token: the ids of the App's installations they can access."""

    def fetch(user_token: str) -> set[int]:
        from mlops_bot.adapters.github import GitHubError  # githubkit only when a claim asks GitHub
        from mlops_bot.github_access import user_client

        try:
            return user_client(settings, user_token).user_installation_ids()
        except GitHubError as exc:
            if exc.status in (401, 403):
                raise Unauthorized("GitHub refused the user token", f"GitHub answered {exc.status}") from exc
            raise ServiceUnavailable("GitHub did not answer", f"GET /user/installations: {exc}") from exc

    return fetch


def claim_with_user_token(
    store: InstallationStore,
    repositories: RepositoryStore,
    installations_of_user: UserInstallations,
    installation_id: int,
    user_token: str,
    tenant_id: str,
) -> ClaimResult:
    """A GitHub user token: GitHub must list the installation among those the user can access."""
    item = _recorded(store, installation_id)
    if item.tenant_id == tenant_id:
        return _result(item, "Installation already claimed by this tenant", [], [])
    if installation_id not in installations_of_user(user_token):
        raise Unauthorized(
            "The GitHub user cannot access this installation",
            f"GET /user/installations does not list installation {installation_id} for this token",
        )
    if item.tenant_id is not None:
        raise Conflict("Installation already claimed", "Another tenant claimed this installation")
    return _bind(store, repositories, item, tenant_id, ClaimMethod.USER_TOKEN)


def _bind(
    store: InstallationStore, repositories: RepositoryStore, item: InstallationItem, tenant_id: str, method: ClaimMethod
) -> ClaimResult:
    if item.status == InstallationStatus.DELETED:
        raise Conflict("Installation deleted", f"Installation {item.installation_id} was uninstalled on GitHub")
    claimed = store.claim(item.installation_id, tenant_id, method, iso(utc_now()))
    if claimed is None:
        raise Conflict("Installation already claimed", "Another tenant claimed this installation")
    owner = register_installation(repositories, tenant_id, item.installation_id)
    if owner != tenant_id:  # routed to another tenant before claims existed (auto-enrolment, a hand-written item)
        store.release(item.installation_id, tenant_id)
        raise Conflict("Installation already claimed", "Another tenant's events are routed by this installation")
    enrolled: list[str] = []
    conflicts: list[str] = []
    for full_name in claimed.repositories:
        if claimed.excludes(full_name):
            continue
        (
            enrolled
            if enroll_repository(repositories, tenant_id, full_name, "installation") == tenant_id
            else conflicts
        ).append(full_name)
    logger.info(
        "installation claimed",
        extra={"installation_id": item.installation_id, "tenant_id": tenant_id, "method": method.value},
    )
    return _result(claimed, "Installation claimed", enrolled, conflicts)


def _result(item: InstallationItem, message: str, enrolled: list[str], conflicts: list[str]) -> ClaimResult:
    return ClaimResult(message=message, installation=InstallationView.of(item), enrolled=enrolled, conflicts=conflicts)


def tenant_installations(store: InstallationStore, tenant_id: str) -> InstallationList:
    found = [InstallationView.of(i) for i in store.for_tenant(tenant_id)]
    return InstallationList(installations=found, total=len(found))


def tenant_installation(store: InstallationStore, tenant_id: str, installation_id: int) -> InstallationView:
    item = store.get(installation_id)
    if item is None or item.tenant_id != tenant_id:
        raise NotFound("Installation not found", f"No installation {installation_id} claimed by this tenant")
    return InstallationView.of(item)


# ------------------------------------------------------------------ repositories of a tenant


class RepositoryAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")

    full_name: RepositoryFullName  # GitHub's own rules for owner and name (422 otherwise)
    manual: bool = Field(
        default=False,
        description="Register a repository outside any claimed installation (token/PAT setups, repository webhooks)",
    )


class RepositoryChange(BaseModel):
    message: str
    repository: str
    tenant_id: str
    source: str | None = None
    installation_id: int | None = None


def add_repository(
    store: InstallationStore, repositories: RepositoryStore, tenant_id: str, body: RepositoryAdd
) -> RepositoryChange:
    """Monitor a repository of one of the tenant's active installations (or, explicitly, a manual one)."""
    full_name = body.full_name
    holder = next(
        (i for i in store.for_tenant(tenant_id) if i.holds(full_name) and i.status == InstallationStatus.ACTIVE),
        None,
    )
    if holder is None and not body.manual:
        raise ValidationFailed(
            "Repository not in a claimed installation",
            f"{full_name} is not in any active installation claimed by this tenant: add it to the App's "
            "installation on GitHub, or register it with manual=true for a token setup",
        )
    owner = repositories.repository_owner(full_name)
    if owner not in (None, tenant_id):
        raise Conflict("Repository monitored by another tenant", f"{full_name} belongs to another tenant")
    if holder is not None and holder.excludes(full_name):
        kept = [r for r in holder.excluded_repositories if r.lower() != full_name.lower()]
        store.save(holder.model_copy(update={"excluded_repositories": kept, "updated_at": iso(utc_now())}))
    source = "installation" if holder is not None else "manual"
    if enroll_repository(repositories, tenant_id, full_name, source) != tenant_id:
        raise Conflict("Repository monitored by another tenant", f"{full_name} belongs to another tenant")
    return RepositoryChange(
        message="Repository added",
        repository=full_name,
        tenant_id=tenant_id,
        source=source,
        installation_id=holder.installation_id if holder else None,
    )


def unenroll_repository(repositories: RepositoryStore, tenant_id: str, full_name: str) -> bool:
    """Stop monitoring: the tenant's record and the route go (incidents and events stay). True if it existed."""
    return repositories.unenroll(tenant_id, full_name)


def remove_repository(
    store: InstallationStore, repositories: RepositoryStore, tenant_id: str, full_name: str
) -> RepositoryChange:
    """Stop monitoring a repository; one of a claimed installation stays removed until added again."""
    if not unenroll_repository(repositories, tenant_id, full_name):
        raise NotFound("Repository not found", f"{full_name} is not monitored by this tenant")
    for installation in store.for_tenant(tenant_id):
        if installation.holds(full_name) and not installation.excludes(full_name):
            excluded = [*installation.excluded_repositories, full_name]
            store.save(
                installation.model_copy(update={"excluded_repositories": excluded, "updated_at": iso(utc_now())})
            )
    return RepositoryChange(message="Repository removed", repository=full_name, tenant_id=tenant_id)
