import json

from mlops_bot.playbooks import ASL_DIR
from mlops_bot.playbooks.definitions import PLAYBOOKS, render


def test_asl_files_match_their_generator() -> None:
    for playbook in PLAYBOOKS:
        assert (ASL_DIR / f"{playbook}.asl.json").read_text() == render(playbook), (
            f"{playbook}: run `python -m mlops_bot.playbooks.definitions`"
        )


def test_every_task_retries_transient_errors_and_failures_are_caught() -> None:
    for playbook in PLAYBOOKS:
        states = json.loads(render(playbook))["States"]
        for name, state in states.items():
            if state["Type"] == "Task":
                assert state["Retry"], name
                if name != "MarkFailed":
                    assert state["Catch"][0]["Next"] == "MarkFailed", name
        assert states["AwaitVerification"]["Resource"].endswith(".waitForTaskToken")
        assert states["AwaitVerification"]["TimeoutSeconds"] <= 24 * 3600


def test_the_catalog_the_state_machines_and_the_planner_name_the_same_playbooks() -> None:
    from mlops_bot.healing import catalog
    from mlops_bot.healing.planner import PLAYBOOK_FOR_INCIDENT

    assert set(catalog.NAMES) == set(PLAYBOOKS) == set(PLAYBOOK_FOR_INCIDENT.values())
