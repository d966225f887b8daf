"""Pushing the table's changes to the dashboards of the tenant they belong to, and to no other.

One `StreamBatch` serves one invocation of the broadcaster: each tenant's connections are read
once per batch, messages fan out to them concurrently, and every tenant that saw a change gets
one `system_metrics` at the end. A connection API Gateway reports gone (410) is forgotten at
once, unless its `$connect` ran less than `OPENING_GRACE_SECONDS` ago: API Gateway opens a
connection only once `$connect` has answered and says 410 until then, so a connection still
opening is kept (its own `subscribe` would otherwise be refused) and tried again on the next
message. Any other failure to reach one socket is logged and counted, never retried: a retry would
replay the record to every other watcher, and a dashboard that missed a message catches up on
its next fetch. Failing to read the table does fail the record, so that Lambda retries it.

A change that revokes a credential (an API key, a login, a user) closes the connections it
opened; before broadcasting, every watcher's credential is re-checked (`dashboard.revocation`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, Protocol

from mlops_bot.adapters.websocket import ConnectionGone
from mlops_bot.clock import utc_now
from mlops_bot.dashboard import connections, revocation
from mlops_bot.dashboard.connections import DashboardConnection
from mlops_bot.dashboard.messages import DashboardMessage, MetricsSources, StreamChange, messages_for, system_metrics
from mlops_bot.dashboard.messages import tenant_of as tenant_of_change
from mlops_bot.stores.dashboard_connections import DashboardConnectionStore

logger = logging.getLogger(__name__)
FAN_OUT_THREADS = 16
# API Gateway waits at most 29 s for a `$connect` integration; a connection younger than this
# that answers 410 may still be opening.
OPENING_GRACE_SECONDS = 30
Outcome = Literal["sent", "failed", "gone"]


class ConnectionPoster(Protocol):
    """What the broadcast needs of API Gateway's management API (`adapters.websocket`)."""

    def post(self, connection_id: str, data: bytes) -> None: ...
    def close(self, connection_id: str) -> None: ...


@dataclass
class BroadcastDependencies:
    """What a broadcast reads and writes: the open connections, their credentials, the metrics; the socket."""

    connections: DashboardConnectionStore
    credentials: revocation.CredentialCheck
    poster: ConnectionPoster
    metrics_sources: MetricsSources
    now: Callable[[], datetime] = utc_now


@dataclass
class BroadcastStats:
    sent: int = 0
    gone: int = 0
    failed: int = 0
    metrics_sent: int = 0
    closed: int = 0
    opening: int = 0  # answered 410 while (probably) still opening: kept


@dataclass
class StreamBatch:
    """The broadcast of one stream batch; call `deliver` per record, then `finish` once."""

    deps: BroadcastDependencies
    stats: BroadcastStats = field(default_factory=BroadcastStats)
    _watchers: dict[str, list[DashboardConnection]] = field(default_factory=dict)
    _touched: list[str] = field(default_factory=list)
    _pool: ThreadPoolExecutor | None = None

    def deliver(self, change: StreamChange) -> int:
        """Send what `change` means to its tenant's watchers; returns how many messages went out."""
        tenant_id = tenant_of_change(change)
        if tenant_id is None:
            return 0
        revoked = revocation.revoked_by(change)
        if revoked is not None:
            self._close([c for c in self._connections(tenant_id) if revoked.opened(c)], tenant_id)
            return 0
        outgoing = messages_for(change)
        if not outgoing:
            return 0
        if tenant_id not in self._touched:
            self._touched.append(tenant_id)
        return sum(self.send(tenant_id, m) for m in outgoing)

    def finish(self) -> None:
        """One `system_metrics` per tenant touched by the batch; then release the threads."""
        try:
            for tenant_id in self._touched:
                try:
                    if any(c.wants("system_metrics") for c in self._connections(tenant_id)):
                        metrics = system_metrics(self.deps.metrics_sources, tenant_id)
                        self.stats.metrics_sent += self.send(tenant_id, metrics)
                except Exception:  # the batch's own messages went out; metrics come again next batch
                    logger.exception("system_metrics failed", extra={"tenant_id": tenant_id})
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

    def send(self, tenant_id: str, message: DashboardMessage) -> int:
        """Post `message` to the tenant's connections that want it; returns how many received it."""
        targets = [c for c in self._connections(tenant_id) if c.wants(message.type)]
        if not targets:
            return 0
        data = message.encode()
        if len(targets) == 1:
            outcomes = [self._post(targets[0], data)]
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=FAN_OUT_THREADS, thread_name_prefix="broadcast")
            outcomes = list(self._pool.map(lambda c: self._post(c, data), targets))
        answered_gone = [c for c, outcome in zip(targets, outcomes, strict=True) if outcome == "gone"]
        settled = self.deps.now() - timedelta(seconds=OPENING_GRACE_SECONDS)
        gone = [c for c in answered_gone if c.opened_before(settled)]
        self.stats.opening += len(answered_gone) - len(gone)
        for connection in gone:  # on this thread: the table's boto3 resource is not thread-safe
            self._forget(connection)
        if gone:
            ids = {c.connection_id for c in gone}
            self._watchers[tenant_id] = [c for c in self._watchers[tenant_id] if c.connection_id not in ids]
        delivered = outcomes.count("sent")
        self.stats.sent += delivered
        self.stats.gone += len(gone)
        self.stats.failed += outcomes.count("failed")
        return delivered

    def _connections(self, tenant_id: str) -> list[DashboardConnection]:
        if tenant_id not in self._watchers:
            found = connections.tenant_connections(self.deps.connections, tenant_id, self.deps.now())
            self._watchers[tenant_id] = found
            self._close([c for c in found if not self.deps.credentials.stands(c)], tenant_id)
        return self._watchers[tenant_id]

    def _close(self, revoked: list[DashboardConnection], tenant_id: str) -> None:
        """Close and forget connections whose credential was revoked; they receive nothing more."""
        for connection in revoked:
            try:
                self.deps.poster.close(connection.connection_id)
            except Exception:  # forgetting it still stops every further broadcast to it
                logger.exception(
                    "could not close a revoked connection", extra={"connection_id": connection.connection_id}
                )
            self._forget(connection)
            self.stats.closed += 1
        ids = {c.connection_id for c in revoked}
        if ids:
            self._watchers[tenant_id] = [c for c in self._watchers.get(tenant_id, []) if c.connection_id not in ids]

    def _post(self, connection: DashboardConnection, data: bytes) -> Outcome:
        """Runs on the fan-out threads: only the (thread-safe) management API client is used here."""
        try:
            self.deps.poster.post(connection.connection_id, data)
        except ConnectionGone:
            return "gone"
        except Exception:
            logger.warning(
                "dashboard message not delivered", exc_info=True, extra={"connection_id": connection.connection_id}
            )
            return "failed"
        return "sent"

    def _forget(self, connection: DashboardConnection) -> None:
        try:
            connections.remove(self.deps.connections, connection)
        except Exception:  # its items expire with the TTL anyway
            logger.exception("could not forget a gone connection", extra={"connection_id": connection.connection_id})
