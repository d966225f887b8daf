"""Clients for the mlops-bot management API and the Healing Guard API, on httpx.

Retries are bounded and only where a retry cannot do harm: a 429 or 503 means the server did not
do the work, so any call is retried (after `Retry-After` when the server says, never longer than
`max_retry_after`; a longer wait is raised as `RateLimited` for the caller to schedule); a 502 or
504 may hide work that was done, so only idempotent calls (GET, and POSTs that only read, such as
a prediction) are retried on them; a connection that never opened is retried for every call.
Backoff without a hint is 0.5 s, 1 s, 2 s... `sleep` is injectable so tests do not wait.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from mlops_bot_sdk.errors import (
    DependencyMissing,
    MLOpsBotError,
    TransportError,
    error_from_body,
    error_from_response,
)
from mlops_bot_sdk.models import (
    Analytics,
    Answer,
    ApiHealth,
    Audit,
    ClaimState,
    ClusterStatus,
    ConfigurationUpdate,
    DashboardMessage,
    DetailedHealth,
    Failure,
    FailurePattern,
    HealResult,
    Health,
    Installation,
    InstallationClaim,
    Issue,
    Page,
    Pipeline,
    PipelineDetails,
    Playbook,
    PlaybookDetails,
    PlaybookUpdate,
    PredictionResult,
    Repository,
    RepositoryChange,
    RepositoryDetails,
    ResolutionResult,
    SpecModel,
    SystemConfig,
    Tenant,
    TenantUsage,
    TokenPair,
    User,
    from_dict,
)

__version__ = "0.1.0"
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3
DEFAULT_MAX_RETRY_AFTER = 60.0
BACKOFF_BASE = 0.5
ALWAYS_RETRIED = frozenset({429, 503})
RETRIED_WHEN_IDEMPOTENT = frozenset({502, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

M = TypeVar("M", bound=SpecModel)
Sleep = Callable[[float], None]


def retry_after_seconds(response: httpx.Response, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Transport:
    """One authenticated httpx client plus the retry policy; resources call `request`."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        sleep: Sleep = time.sleep,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not base_url:
            raise ValueError("base_url is required")
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.max_retries = max(0, max_retries)
        self.max_retry_after = max_retry_after
        self.sleep = sleep
        self.headers = {
            "authorization": f"Bearer {token}",
            "accept": "application/json",
            "user-agent": f"mlops-bot-sdk/{__version__}",
            **(headers or {}),
        }
        self.client = httpx.Client(base_url=self.base_url, headers=self.headers, timeout=timeout, transport=transport)

    def close(self) -> None:
        self.client.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json_body: Any = None,
        idempotent: bool | None = None,
        accept: Iterable[int] = (),
        text: bool = False,
    ) -> Any:
        """The decoded JSON answer of a successful (or explicitly accepted) call; raises MLOpsBotError."""
        method = method.upper()
        safe = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        query = {k: v for k, v in (params or {}).items() if v is not None}
        accepted = set(accept)
        attempt = 0
        while True:
            try:
                response = self.client.request(method, path, params=query, json=json_body)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if attempt < self.max_retries:
                    self.sleep(self._backoff(attempt))
                    attempt += 1
                    continue
                raise TransportError(f"could not connect to {self.base_url}: {exc}") from exc
            except httpx.HTTPError as exc:
                raise TransportError(f"{method} {path} failed without an answer: {exc}") from exc
            if response.is_success or response.status_code in accepted:
                return response.text if text else self._decode(response)
            status = response.status_code
            hinted = retry_after_seconds(response)
            retryable = status in ALWAYS_RETRIED or (safe and status in RETRIED_WHEN_IDEMPOTENT)
            if retryable and attempt < self.max_retries:
                delay = hinted if hinted is not None else self._backoff(attempt)
                if delay <= self.max_retry_after:
                    self.sleep(delay)
                    attempt += 1
                    continue
            raise error_from_response(response, hinted)

    @staticmethod
    def _backoff(attempt: int) -> float:
        return float(BACKOFF_BASE * 2**attempt)

    @staticmethod
    def _decode(response: httpx.Response) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise MLOpsBotError(
                "the server answered with something that is not JSON",
                code="INVALID_RESPONSE",
                status_code=response.status_code,
                body=response.text[:1000],
            ) from exc


def _segment(value: str) -> str:
    return quote(value, safe="")


def _page(payload: Any, key: str, model: type[M]) -> Page[M]:
    body = payload if isinstance(payload, dict) else {}
    items = [from_dict(model, item) for item in body.get(key) or []]
    return Page(items=items, total=body.get("total"), limit=body.get("limit"), offset=body.get("offset"), raw=body)


class _Resource:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport


# ------------------------------------------------------------------ mlops-bot management API


class Repositories(_Resource):
    def list(self, *, status: str | None = None, limit: int = 50, offset: int = 0) -> Page[Repository]:
        payload = self._transport.request(
            "GET", "/api/v1/repositories", params={"status": status, "limit": limit, "offset": offset}
        )
        return _page(payload, "repositories", Repository)

    def get(self, full_name: str) -> RepositoryDetails:
        owner, _, name = full_name.partition("/")
        if not owner or not name:
            raise ValueError("full_name must look like 'owner/repo'")
        path = f"/api/v1/repositories/{_segment(owner)}/{_segment(name)}"
        return from_dict(RepositoryDetails, self._transport.request("GET", path))

    def update_config(self, full_name: str, **configuration: Any) -> ConfigurationUpdate:
        owner, _, name = full_name.partition("/")
        path = f"/api/v1/repositories/{_segment(owner)}/{_segment(name)}/config"
        return from_dict(ConfigurationUpdate, self._transport.request("PUT", path, json_body=configuration))

    def add(self, full_name: str, *, manual: bool = False) -> RepositoryChange:
        """Monitor a repository of one of the tenant's claimed installations (`manual` for token setups)."""
        body = {"full_name": full_name, "manual": manual}
        return RepositoryChange.from_dict(self._transport.request("POST", "/api/v1/repositories", json_body=body))

    def remove(self, full_name: str) -> None:
        owner, _, name = full_name.partition("/")
        if not owner or not name:
            raise ValueError("full_name must look like 'owner/repo'")
        self._transport.request("DELETE", f"/api/v1/repositories/{_segment(owner)}/{_segment(name)}")


class Installations(_Resource):
    def list(self) -> list[Installation]:
        payload = self._transport.request("GET", "/api/v1/installations")
        return [Installation.from_dict(i) for i in (payload or {}).get("installations") or []]

    def get(self, installation_id: int) -> Installation:
        return Installation.from_dict(self._transport.request("GET", f"/api/v1/installations/{installation_id}"))

    def claim_state(self) -> ClaimState:
        """A signed, single-use state for the App's install link: `.../installations/new?state=<state>`."""
        return ClaimState.from_dict(self._transport.request("POST", "/api/v1/installations/claims"))

    def complete_setup(self, installation_id: int, state: str) -> InstallationClaim:
        """What GitHub's redirect to the setup URL does, for a front end that forwards its parameters."""
        body = {"installation_id": installation_id, "state": state}
        return InstallationClaim.from_dict(
            self._transport.request("POST", "/api/v1/installations/setup", json_body=body)
        )

    def claim(self, installation_id: int, github_user_token: str) -> InstallationClaim:
        """Claim with a GitHub user token; GitHub must list the installation for that user."""
        path = f"/api/v1/installations/{installation_id}/claim"
        body = {"github_user_token": github_user_token}
        return InstallationClaim.from_dict(self._transport.request("POST", path, json_body=body))


class Issues(_Resource):
    def list(
        self,
        *,
        repository: str | None = None,
        type: str | None = None,
        severity: str | None = None,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> Page[Issue]:
        params = {
            "repository": repository,
            "type": type,
            "severity": severity,
            "status": status,
            "limit": limit,
            "offset": offset,
        }
        return _page(self._transport.request("GET", "/api/v1/issues", params=params), "issues", Issue)

    def get(self, issue_id: str) -> Issue:
        return from_dict(Issue, self._transport.request("GET", f"/api/v1/issues/{_segment(issue_id)}"))

    def resolve(
        self,
        issue_id: str,
        action: str = "retry_failed_action",
        *,
        force: bool = False,
        parameters: Mapping[str, Any] | None = None,
    ) -> ResolutionResult:
        """Trigger a resolution; not retried on 502/504, which could trigger it twice."""
        body = {"action": action, "force": force, "parameters": dict(parameters or {})}
        payload = self._transport.request("POST", f"/api/v1/issues/{_segment(issue_id)}/resolve", json_body=body)
        return from_dict(ResolutionResult, payload)


class Playbooks(_Resource):
    def list(self) -> Page[Playbook]:
        return _page(self._transport.request("GET", "/api/v1/playbooks"), "playbooks", Playbook)

    def get(self, name: str) -> PlaybookDetails:
        return from_dict(PlaybookDetails, self._transport.request("GET", f"/api/v1/playbooks/{_segment(name)}"))

    def set_enabled(self, name: str, enabled: bool, reason: str | None = None) -> PlaybookUpdate:
        body = {"enabled": enabled, **({"reason": reason} if reason else {})}
        payload = self._transport.request("PATCH", f"/api/v1/playbooks/{_segment(name)}", json_body=body)
        return from_dict(PlaybookUpdate, payload)


class AnalyticsResource(_Resource):
    def get(self, *, period: str = "24h", repository: str | None = None, metric_type: str | None = None) -> Analytics:
        params = {"period": period, "repository": repository, "metric_type": metric_type}
        return from_dict(Analytics, self._transport.request("GET", "/api/v1/analytics", params=params))


class HealthResource(_Resource):
    def __init__(self, transport: Transport, path: str = "/health") -> None:
        super().__init__(transport)
        self._path = path

    def get(self) -> Health:
        return from_dict(Health, self._transport.request("GET", self._path))

    def get_detailed(self) -> DetailedHealth:
        """The component report; an unhealthy system answers 503 with the report, which is returned."""
        payload = self._transport.request("GET", "/health/detailed", accept=(503,))
        if not isinstance(payload, dict) or "status" not in payload:
            raise MLOpsBotError("health report missing", code="SERVICE_UNAVAILABLE", status_code=503, body=payload)
        return from_dict(DetailedHealth, payload)


class ProbeResource(_Resource):
    def ready(self) -> Answer:
        """`GET /health/ready`; a 503 (not ready) answers with the report, which is returned."""
        return from_dict(Answer, self._transport.request("GET", "/health/ready", accept=(503,)) or {})

    def live(self) -> Answer:
        """`GET /health/live`"""
        return from_dict(Answer, self._transport.request("GET", "/health/live") or {})


class BotHealth(HealthResource, ProbeResource):
    """`/health`, `/health/detailed`, `/health/ready`, `/health/live`."""


class MetricsResource(_Resource):
    def get(self) -> str:
        """`GET /metrics`: the Prometheus text exposition."""
        return str(self._transport.request("GET", "/metrics", text=True))


class ConfigResource(_Resource):
    def get(self) -> SystemConfig:
        """`GET /api/v1/config`"""
        return from_dict(SystemConfig, self._transport.request("GET", "/api/v1/config"))

    def update(self, **configuration: Any) -> Answer:
        """`PUT /api/v1/config` with `features=`, `limits=`, `integrations=`."""
        return from_dict(Answer, self._transport.request("PUT", "/api/v1/config", json_body=configuration) or {})


class _Client:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class MLOpsBotClient(_Client):
    """The management API (`/api/v1/...`, `/health`), authenticated with an API key."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        sleep: Sleep = time.sleep,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            Transport(
                base_url,
                api_key,
                timeout=timeout,
                max_retries=max_retries,
                max_retry_after=max_retry_after,
                sleep=sleep,
                transport=transport,
                headers=headers,
            )
        )
        self.repositories = Repositories(self._transport)
        self.installations = Installations(self._transport)
        self.issues = Issues(self._transport)
        self.playbooks = Playbooks(self._transport)
        self.analytics = AnalyticsResource(self._transport)
        self.health = BotHealth(self._transport)
        self.metrics = MetricsResource(self._transport)
        self.config = ConfigResource(self._transport)


# ------------------------------------------------------------------ Healing Guard API


class Pipelines(_Resource):
    def list(
        self, *, tenant_id: str | None = None, status: str | None = None, limit: int = 50, offset: int = 0
    ) -> Page[Pipeline]:
        params = {"tenant_id": tenant_id, "status": status, "limit": limit, "offset": offset}
        return _page(self._transport.request("GET", "/api/pipelines", params=params), "pipelines", Pipeline)

    def get(self, pipeline_id: str) -> PipelineDetails:
        payload = self._transport.request("GET", f"/api/pipelines/{_segment(pipeline_id)}")
        return from_dict(PipelineDetails, payload)

    def create(self, name: str, **fields: Any) -> PipelineDetails:
        """`POST /api/pipelines` (`repository=`, `workflow=`, `config=`, `webhook_url=`)."""
        payload = self._transport.request("POST", "/api/pipelines", json_body={"name": name, **fields})
        return from_dict(PipelineDetails, payload)

    def delete(self, pipeline_id: str) -> None:
        """`DELETE /api/pipelines/{id}`"""
        self._transport.request("DELETE", f"/api/pipelines/{_segment(pipeline_id)}")


class GuardHealth(_Resource):
    def get(self) -> ApiHealth:
        """`GET /api/health`"""
        return from_dict(ApiHealth, self._transport.request("GET", "/api/health"))

    def status(self) -> Answer:
        """`GET /api/status`"""
        return from_dict(Answer, self._transport.request("GET", "/api/status"))


class Auth(_Resource):
    def login(self, username: str, password: str) -> TokenPair:
        """`POST /auth/login`"""
        body = {"username": username, "password": password}
        return from_dict(TokenPair, self._transport.request("POST", "/auth/login", json_body=body))

    def refresh(self, refresh_token: str) -> TokenPair:
        """`POST /auth/refresh`"""
        body = {"refresh_token": refresh_token}
        return from_dict(TokenPair, self._transport.request("POST", "/auth/refresh", json_body=body))

    def revoke(self, refresh_token: str) -> Answer:
        """`POST /auth/revoke`"""
        body = {"refresh_token": refresh_token}
        return from_dict(Answer, self._transport.request("POST", "/auth/revoke", json_body=body) or {})


class Users(_Resource):
    def list(self) -> Page[User]:
        """`GET /api/users` (admin)"""
        return _page(self._transport.request("GET", "/api/users"), "users", User)

    def create(self, username: str, password: str, role: str = "read") -> User:
        """`POST /api/users` (admin): a login user for `auth.login`."""
        body = {"username": username, "password": password, "role": role}
        return from_dict(User, self._transport.request("POST", "/api/users", json_body=body))


class Compliance(_Resource):
    def list_audits(
        self,
        *,
        standard: str | None = None,
        status: str | None = None,
        from_date: str | datetime | None = None,
        to_date: str | datetime | None = None,
    ) -> Page[Audit]:
        """`GET /api/compliance/audits`"""
        params = {"standard": standard, "status": status, "from_date": _when(from_date), "to_date": _when(to_date)}
        return _page(self._transport.request("GET", "/api/compliance/audits", params=params), "audits", Audit)

    def create_audit(self, standard: str, **fields: Any) -> Audit:
        """`POST /api/compliance/audits` (`scope=[...]`, `auditor_id=`)."""
        body = {"standard": standard, **fields}
        return from_dict(Audit, self._transport.request("POST", "/api/compliance/audits", json_body=body))

    def verify(self) -> Answer:
        """`GET /api/compliance/audits/verify`: the audit chain's signatures checked."""
        return from_dict(Answer, self._transport.request("GET", "/api/compliance/audits/verify"))


class Tenants(_Resource):
    def list(self) -> Page[Tenant]:
        """`GET /api/tenants` (admin)"""
        return _page(self._transport.request("GET", "/api/tenants"), "tenants", Tenant)

    def create(self, name: str, admin_email: str, **fields: Any) -> Answer:
        """`POST /api/tenants` (`resource_quota={...}`); the answer carries the first admin's password once."""
        body = {"name": name, "admin_email": admin_email, **fields}
        return from_dict(Answer, self._transport.request("POST", "/api/tenants", json_body=body))

    def usage(self, tenant_id: str) -> TenantUsage:
        """`GET /api/tenants/{id}/usage`"""
        return from_dict(TenantUsage, self._transport.request("GET", f"/api/tenants/{_segment(tenant_id)}/usage"))


class Cluster(_Resource):
    def status(self) -> ClusterStatus:
        """`GET /api/cluster/status`"""
        return from_dict(ClusterStatus, self._transport.request("GET", "/api/cluster/status"))

    def rebalance(self, strategy: str | None = None, *, force: bool = False) -> Answer:
        """`POST /api/cluster/rebalance`"""
        body: dict[str, Any] = {"force": force, **({"strategy": strategy} if strategy else {})}
        return from_dict(Answer, self._transport.request("POST", "/api/cluster/rebalance", json_body=body) or {})


def _when(value: str | datetime | None) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else value


class Failures(_Resource):
    def list(
        self,
        *,
        pipeline_id: str | None = None,
        severity: str | None = None,
        status: str | None = None,
        from_date: str | datetime | None = None,
        to_date: str | datetime | None = None,
    ) -> Page[Failure]:
        params = {
            "pipeline_id": pipeline_id,
            "severity": severity,
            "status": status,
            "from_date": from_date.isoformat() if isinstance(from_date, datetime) else from_date,
            "to_date": to_date.isoformat() if isinstance(to_date, datetime) else to_date,
        }
        return _page(self._transport.request("GET", "/api/failures", params=params), "failures", Failure)

    def heal(
        self,
        failure_id: str,
        action: str = "retry_failed_action",
        parameters: Mapping[str, Any] | None = None,
        *,
        force: bool = False,
    ) -> HealResult:
        """Trigger healing; not retried on 502/504, which could trigger it twice.

        `action` names an action of the failure's playbook (the document's example `custom_heal` is
        refused with a 422); the default plans again as the bot would.
        """
        body = {"action": action, "force": force, "parameters": dict(parameters or {})}
        payload = self._transport.request("POST", f"/api/failures/{_segment(failure_id)}/heal", json_body=body)
        return from_dict(HealResult, payload or {})


def default_dashboard_url(base_url: str) -> str:
    """`http(s)://host[/prefix]` -> `ws(s)://host[/prefix]/ws/dashboard`."""
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss", "ws": "ws", "wss": "wss"}.get(parts.scheme)
    if scheme is None:
        raise ValueError(f"base_url must be http(s) or ws(s), not {base_url!r}")
    return urlunsplit((scheme, parts.netloc, parts.path.rstrip("/") + "/ws/dashboard", "", ""))


def parse_message(raw: str | bytes) -> DashboardMessage:
    """A dashboard frame as a message; a frame that is not a JSON object keeps its text under `data`."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        decoded = json.loads(text)
    except ValueError:
        return DashboardMessage(type="unknown", data=text)
    if not isinstance(decoded, dict) or not isinstance(decoded.get("type"), str):
        return DashboardMessage(type="unknown", data=decoded)
    return from_dict(DashboardMessage, decoded)


class DashboardSubscription:
    """The dashboard stream, as an iterator (`for m in sub`) or async iterator (`async for m in sub`).

    On first iteration it connects (the token as `Authorization: Bearer`), sends the server's
    `{"action": "subscribe", "types": [...]}`, then yields typed messages (only `types`, if given)
    until the server closes normally. An `error` frame from the server is raised as the matching
    `MLOpsBotError`; an abnormal close as `TransportError`. It does not reconnect: a caller that
    wants to can loop. `start(callback)` consumes it in a background thread instead (that is what
    `subscribe(callback=...)` does): `stop()` ends it, `join()` waits for its end, `error` keeps
    what ended it abnormally.
    """

    def __init__(self, url: str, headers: Mapping[str, str], types: Iterable[str] | None, open_timeout: float) -> None:
        self.url = url
        self._headers = dict(headers)
        self._types = frozenset(types) if types else None
        self._open_timeout = open_timeout
        self._lock = threading.Lock()
        self._socket: Any = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None

    @property
    def subscribe_message(self) -> str:
        request: dict[str, Any] = {"action": "subscribe"}
        if self._types is not None:
            request["types"] = sorted(self._types)
        return json.dumps(request)

    def _accept(self, raw: str | bytes) -> DashboardMessage | None:
        message = parse_message(raw)
        if message.type == "error":
            raise error_from_body(message.to_dict(), fallback_message="the dashboard refused the request")
        return message if self._types is None or message.type in self._types else None

    def __iter__(self) -> Iterator[DashboardMessage]:
        from websockets.exceptions import ConnectionClosedOK, WebSocketException
        from websockets.sync.client import connect

        try:
            with connect(self.url, additional_headers=self._headers, open_timeout=self._open_timeout) as socket:
                with self._lock:
                    self._socket = socket
                    stopping = self._stopping
                if stopping:
                    return
                socket.send(self.subscribe_message)
                for raw in socket:
                    message = self._accept(raw)
                    if message is not None:
                        yield message
        except ConnectionClosedOK:
            return
        except (WebSocketException, OSError, TimeoutError) as exc:
            if self._stopping:
                return
            raise TransportError(f"dashboard stream {self.url} failed: {exc}") from exc
        finally:
            with self._lock:
                self._socket = None

    async def __aiter__(self) -> AsyncIterator[DashboardMessage]:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosedOK, WebSocketException

        try:
            async with connect(self.url, additional_headers=self._headers, open_timeout=self._open_timeout) as socket:
                await socket.send(self.subscribe_message)
                async for raw in socket:
                    message = self._accept(raw)
                    if message is not None:
                        yield message
        except ConnectionClosedOK:
            return
        except (WebSocketException, OSError, TimeoutError) as exc:
            raise TransportError(f"dashboard stream {self.url} failed: {exc}") from exc

    def start(
        self,
        callback: Callable[[DashboardMessage], Any],
        on_error: Callable[[BaseException], Any] | None = None,
    ) -> Self:
        """Consume the stream in a daemon thread, calling `callback` per message; returns at once.

        What ends the stream abnormally (a refused connection, an `error` frame, an exception from
        `callback`) is kept in `error` and passed to `on_error`, if given.
        """
        if self._thread is not None:
            raise RuntimeError("this subscription is already running")

        def run() -> None:
            try:
                for message in self:
                    if self._stopping:
                        break
                    callback(message)
            except BaseException as exc:  # kept for the owner: a thread has nobody else to tell
                self.error = exc
                if on_error is not None:
                    on_error(exc)

        self._thread = threading.Thread(target=run, name=f"dashboard {self.url}", daemon=True)
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for a started stream to end; True when it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def stop(self, timeout: float | None = 10.0) -> None:
        """End the stream (from any thread) and wait up to `timeout` for a started one to finish."""
        with self._lock:
            self._stopping = True
            socket = self._socket
        if socket is not None:
            socket.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def close(self) -> None:
        self.stop()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.close()


class Dashboard(_Resource):
    def __init__(self, transport: Transport, url: str, open_timeout: float) -> None:
        super().__init__(transport)
        self.url = url
        self._open_timeout = open_timeout

    def subscribe(
        self,
        callback: Callable[[DashboardMessage], Any] | None = None,
        *,
        types: Iterable[str] | None = None,
        on_error: Callable[[BaseException], Any] | None = None,
    ) -> DashboardSubscription:
        """The stream of the dashboard; with `callback`, consumed in a background thread (non-blocking).

        Without a callback, iterate the returned subscription. With one, the call returns at once
        with the running subscription: `stop()` it, or `join()` it to wait for the server's close.
        Raises `DependencyMissing` at once when the `websockets` package is not installed
        (`pip install 'mlops-bot-sdk[websocket]'`).
        """
        try:
            import websockets  # noqa: F401
        except ImportError as exc:
            raise DependencyMissing(
                "the dashboard stream needs the 'websockets' package: pip install websockets"
                " (or pip install 'mlops-bot-sdk[websocket]')"
            ) from exc
        subscription = DashboardSubscription(
            self.url, {"authorization": self._transport.headers["authorization"]}, types, self._open_timeout
        )
        if callback is not None:
            subscription.start(callback, on_error)
        return subscription


class HealingGuardClient(_Client):
    """The Healing Guard API (`/api/...`, `/ws/dashboard`), authenticated with a JWT (or an API key).

    `dashboard_url` is for deployments whose WebSocket lives elsewhere (API Gateway gives a
    WebSocket API its own `wss://` URL: the stack's `DashboardWebSocketUrl` output); by default it
    is the base URL's `/ws/dashboard`.
    """

    def __init__(
        self,
        base_url: str,
        api_token: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        sleep: Sleep = time.sleep,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
        dashboard_url: str | None = None,
    ) -> None:
        super().__init__(
            Transport(
                base_url,
                api_token,
                timeout=timeout,
                max_retries=max_retries,
                max_retry_after=max_retry_after,
                sleep=sleep,
                transport=transport,
                headers=headers,
            )
        )
        self.pipelines = Pipelines(self._transport)
        self.failures = Failures(self._transport)
        self.health = GuardHealth(self._transport)
        self.auth = Auth(self._transport)
        self.users = Users(self._transport)
        self.compliance = Compliance(self._transport)
        self.tenants = Tenants(self._transport)
        self.cluster = Cluster(self._transport)
        self.dashboard = Dashboard(
            self._transport, dashboard_url or default_dashboard_url(base_url), open_timeout=timeout
        )

    def patterns(
        self,
        *,
        repository: str | None = None,
        period: str | None = None,
        since: str | datetime | None = None,
        min_frequency: int | None = None,
    ) -> Page[FailurePattern]:
        params = {
            "repository": repository,
            "period": period,
            "since": since.isoformat() if isinstance(since, datetime) else since,
            "min_frequency": min_frequency,
        }
        payload = self._transport.request("GET", "/api/analytics/patterns", params=params)
        return _page(payload, "patterns", FailurePattern)

    def predict(
        self, pipeline_id: str | None = None, *, prediction_window: int = 24, repository: str | None = None
    ) -> PredictionResult:
        """A read-only POST, so it is retried like a GET."""
        if not pipeline_id and not repository:
            raise ValueError("give pipeline_id or repository")
        body: dict[str, Any] = {"prediction_window": prediction_window}
        if pipeline_id:
            body["pipeline_id"] = pipeline_id
        if repository:
            body["repository"] = repository
        payload = self._transport.request("POST", "/api/ml/predict", json_body=body, idempotent=True)
        return from_dict(PredictionResult, payload)


__all__ = [
    "Dashboard",
    "DashboardSubscription",
    "HealingGuardClient",
    "MLOpsBotClient",
    "Transport",
    "default_dashboard_url",
    "parse_message",
    "retry_after_seconds",
]
