"""Manual heal actions (`/resolve`, `/heal`) map onto repairs the healer can run."""

from __future__ import annotations

import pytest

from mlops_bot.errors import ValidationFailed
from mlops_bot.healing import catalog
from mlops_bot.healing.repairs import REPAIRS
from mlops_bot.management.healing import playbooks


def test_every_runnable_action_is_a_repair_of_the_healer() -> None:
    assert set(playbooks.RUNNABLE_ACTIONS.values()) <= set(REPAIRS)


@pytest.mark.parametrize("playbook", catalog.PLAYBOOKS, ids=lambda p: p.name)
def test_each_playbook_accepts_retry_and_its_own_runnable_steps(playbook: catalog.Playbook) -> None:
    allowed = playbooks.manual_actions(playbook)
    assert allowed[0] == "retry_failed_action"
    assert "open_issue" in allowed
    for action in allowed[1:]:
        assert playbooks.resolve_manual_action(action, playbook) in REPAIRS


def test_an_unknown_action_is_a_validation_failure() -> None:
    with pytest.raises(ValidationFailed):
        playbooks.resolve_manual_action("custom_heal", catalog.PLAYBOOKS[0])


def test_the_sdk_examples_retry_means_retry_failed_action() -> None:
    assert playbooks.resolve_manual_action("retry", catalog.PLAYBOOKS[0]) == "retry_failed_action"
