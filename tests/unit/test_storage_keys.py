import pytest

from mlops_bot.storage import keys


def test_every_partition_key_starts_with_the_tenant() -> None:
    built = [
        keys.delivery_key("t1", "d")["pk"],
        keys.repository_key("t1", "o/r")["pk"],
        keys.event_key("t1", "o/r", "2026", "d")["pk"],
        keys.incident_key("t1", "i")["pk"],
        keys.rate_window_key("t1", "s", 1)["pk"],
        keys.audit_key("t1", "2026", "a")["pk"],
        keys.api_key_key("t1", "k")["pk"],
        keys.incidents_index("t1"),
        keys.events_index("t1"),
    ]
    assert all(pk.startswith("TENANT#t1") for pk in built)
    routes = [
        keys.installation_route_key(5)["pk"],
        keys.repository_route_key("O/R")["pk"],
        keys.api_key_route_key("h")["pk"],
    ]
    assert all(pk.startswith("TENANT#_system#") for pk in routes)


def test_a_key_without_tenant_is_refused() -> None:
    with pytest.raises(ValueError):
        keys.incident_key("", "i")


def test_the_same_run_always_maps_to_the_same_incident_regardless_of_case() -> None:
    assert keys.incident_id_for_run("Owner/Repo", 7) == keys.incident_id_for_run("owner/repo", 7)
    assert keys.incident_id_for_run("owner/repo", 7) != keys.incident_id_for_run("owner/repo", 8)
