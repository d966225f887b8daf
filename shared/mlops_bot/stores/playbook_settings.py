"""Playbook settings: a tenant's switch for each playbook, and the deployment's record of each definition.

- The switch (`TENANT#t` / `PLAYBOOK#<name>`): `enabled`, why, who and when. No item means enabled;
  the healer's plan step reads it, `PATCH /api/v1/playbooks/{name}` writes it.
- The release (`TENANT#_system#PLAYBOOKS` / `RELEASE#<name>`): the fingerprint of the definition this
  deployment runs, its revision and the first and last time it changed. The first API that sees a
  playbook records it (a conditional put, first writer wins); a changed fingerprint raises the
  revision once, however many requests notice it together (a conditional update on the one seen).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from pydantic import Field, ValidationError

from mlops_bot.adapters.dynamodb import StateTable
from mlops_bot.storage import keys
from mlops_bot.stores.base import MemoryTable, StoredItem, stored_fields

logger = logging.getLogger(__name__)

SETTING_PREFIX = "PLAYBOOK#"


class PlaybookSetting(StoredItem):
    """A tenant's switch for one playbook."""

    tenant_id: str = Field(min_length=1, max_length=128)
    playbook: str = Field(min_length=1, max_length=100)
    enabled: bool = True
    reason: str | None = Field(default=None, max_length=500)
    updated_at: str | None = Field(default=None, max_length=40)
    updated_by: str | None = Field(default=None, max_length=200)


class PlaybookRelease(StoredItem):
    """This deployment's record of one playbook's definition."""

    playbook: str = Field(min_length=1, max_length=100)
    fingerprint: str = Field(min_length=1, max_length=128)
    revision: int = Field(default=1, ge=1)
    created_at: str = Field(max_length=40)
    updated_at: str = Field(max_length=40)


class PlaybookSettingsStore(Protocol):
    def setting(self, tenant_id: str, playbook: str) -> PlaybookSetting | None:
        """The tenant's switch, or None when never set (the playbook is enabled)."""
        ...

    def settings(self, tenant_id: str) -> dict[str, PlaybookSetting]:
        """Every switch the tenant set, by playbook name; malformed items are logged and skipped."""
        ...

    def save_setting(self, setting: PlaybookSetting) -> None:
        """Replace the tenant's switch for the playbook."""
        ...

    def release(self, playbook: str) -> PlaybookRelease | None: ...

    def first_release(self, release: PlaybookRelease) -> PlaybookRelease:
        """Record the first definition seen; the one already recorded when another writer was first."""
        ...

    def new_revision(self, playbook: str, fingerprint: str, *, seen: str, at: str) -> PlaybookRelease | None:
        """Move to `fingerprint` (revision + 1) if the record still holds `seen`; None when it did not."""
        ...


def _setting(tenant_id: str, item: dict[str, Any] | None) -> PlaybookSetting | None:
    """The switch read from the tenant's partition (its key names the tenant and the playbook)."""
    if item is None:
        return None
    fields = stored_fields(item)
    fields.setdefault("tenant_id", tenant_id)
    fields.setdefault("playbook", str(item.get("sk", "")).removeprefix(SETTING_PREFIX))
    try:
        return PlaybookSetting.model_validate(fields)
    except ValidationError as exc:
        logger.warning(
            "skipped a malformed playbook setting %s: %s", item.get("sk"), exc.errors(include_input=False)[:3]
        )
        return None


def _release(playbook: str, item: dict[str, Any] | None) -> PlaybookRelease | None:
    if item is None:
        return None
    try:
        return PlaybookRelease.model_validate({"playbook": playbook, **stored_fields(item)})
    except ValidationError as exc:
        logger.warning("unreadable playbook release %s: %s", playbook, exc.errors(include_input=False)[:3])
        return None


class DynamoPlaybookSettingsStore:
    def __init__(self, table: StateTable) -> None:
        self.table = table

    def setting(self, tenant_id: str, playbook: str) -> PlaybookSetting | None:
        found = _setting(tenant_id, self.table.get(keys.playbook_setting_key(tenant_id, playbook)))
        return found if found is None or found.tenant_id == tenant_id else None

    def settings(self, tenant_id: str) -> dict[str, PlaybookSetting]:
        found = (_setting(tenant_id, item) for item in self.table.query(keys.tenant_pk(tenant_id), SETTING_PREFIX))
        return {s.playbook: s for s in found if s is not None and s.tenant_id == tenant_id}

    def save_setting(self, setting: PlaybookSetting) -> None:
        self.table.put(
            {
                **keys.playbook_setting_key(setting.tenant_id, setting.playbook),
                "entity": "playbook_setting",
                **setting.model_dump(mode="json"),
            }
        )

    def release(self, playbook: str) -> PlaybookRelease | None:
        return _release(playbook, self.table.get(keys.playbook_release_key(playbook), consistent=False))

    def first_release(self, release: PlaybookRelease) -> PlaybookRelease:
        key = keys.playbook_release_key(release.playbook)
        item = {**key, "entity": "playbook_release", **release.model_dump(mode="json", exclude={"playbook"})}
        if self.table.put_new(item):
            return release
        return _release(release.playbook, self.table.get(key)) or release

    def new_revision(self, playbook: str, fingerprint: str, *, seen: str, at: str) -> PlaybookRelease | None:
        updated = self.table.set_fields(
            keys.playbook_release_key(playbook),
            {"fingerprint": fingerprint, "updated_at": at},
            increments={"revision": 1},
            condition="fingerprint = :seen",
            condition_values={":seen": seen},
        )
        return _release(playbook, updated)


class InMemoryPlaybookSettingsStore:
    """The same promises in memory, for unit tests of the services."""

    def __init__(self) -> None:
        self.switches: MemoryTable[tuple[str, str], PlaybookSetting] = MemoryTable()
        self.releases: MemoryTable[str, PlaybookRelease] = MemoryTable()

    def setting(self, tenant_id: str, playbook: str) -> PlaybookSetting | None:
        return self.switches.get((tenant_id, playbook))

    def settings(self, tenant_id: str) -> dict[str, PlaybookSetting]:
        return {s.playbook: s for s in self.switches.values(lambda key: key[0] == tenant_id)}

    def save_setting(self, setting: PlaybookSetting) -> None:
        self.switches.put((setting.tenant_id, setting.playbook), setting)

    def release(self, playbook: str) -> PlaybookRelease | None:
        return self.releases.get(playbook)

    def first_release(self, release: PlaybookRelease) -> PlaybookRelease:
        if self.releases.put_new(release.playbook, release):
            return release
        return self.releases.get(release.playbook) or release

    def new_revision(self, playbook: str, fingerprint: str, *, seen: str, at: str) -> PlaybookRelease | None:
        def advance(current: PlaybookRelease) -> PlaybookRelease | None:
            if current.fingerprint != seen:
                return None
            return current.model_copy(
                update={"fingerprint": fingerprint, "updated_at": at, "revision": current.revision + 1}
            )

        return self.releases.update(playbook, advance)
