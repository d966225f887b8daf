"""The PyPI JSON adapter against the loopback stand-in: real HTTP, the base URL from the environment."""

from __future__ import annotations

import pytest

from mlops_bot.adapters.pypi import PyPIClient, PyPIError
from tests.support.pypi_standin import PyPIStandIn


def test_releases_with_their_python_limits_and_yanked_flags_come_from_the_configured_base_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with PyPIStandIn() as standin:
        standin.add_project("Scikit-Learn", {"1.4.2": ">=3.9", "1.5.0": ">=3.9", "1.6.1": ">=3.10"}, yanked=("1.5.0",))
        monkeypatch.setenv("MLOPS_BOT_PYPI_URL", standin.url)
        with PyPIClient() as pypi:
            project = pypi.project("scikit_learn")
    assert (project.name, project.latest, project.requires_python) == ("Scikit-Learn", "1.6.1", ">=3.10")
    assert [(r.version, r.requires_python, r.yanked) for r in project.releases] == [
        ("1.4.2", ">=3.9", False),
        ("1.5.0", ">=3.9", True),
        ("1.6.1", ">=3.10", False),
    ]
    assert standin.requests == ["/pypi/scikit_learn/json"]


def test_an_unknown_project_or_an_unreachable_index_is_a_pypi_error() -> None:
    with PyPIStandIn() as standin, PyPIClient(standin.url) as pypi, pytest.raises(PyPIError, match="HTTP 404"):
        pypi.project("no-such-project")
    with PyPIClient("http://127.0.0.1:9", timeout=2) as pypi, pytest.raises(PyPIError):
        pypi.project("numpy")
