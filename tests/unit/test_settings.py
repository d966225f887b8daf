import pytest

from mlops_bot.config import Settings


def test_dry_run_defaults_to_true_without_github_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().dry_run is True
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_example")
    assert Settings().dry_run is False
    monkeypatch.setenv("MLOPS_BOT_DRY_RUN", "true")
    assert Settings().dry_run is True


def test_auto_enroll_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().auto_enroll is False
    monkeypatch.setenv("MLOPS_BOT_AUTO_ENROLL", "true")
    assert Settings().auto_enroll is True
