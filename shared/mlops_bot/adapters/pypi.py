"""PyPI's JSON API (`GET /pypi/<project>/json`): which releases a project has and which Pythons they support.

The base URL is `MLOPS_BOT_PYPI_URL` (default https://pypi.org), so a mirror or a test stand-in can
take its place. The adapter knows the API and nothing of the rules: choosing a version is
`mlops_bot.healing.dependency_files.pins`'s business.
"""

from __future__ import annotations

import os
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict

DEFAULT_PYPI_URL = "https://pypi.org"
PYPI_URL_ENV = "MLOPS_BOT_PYPI_URL"


class PyPIError(Exception):
    """PyPI did not answer with the project's metadata (unknown project, outage, bad JSON)."""


class Release(BaseModel):
    """One version of a project: the Pythons its files declare, and whether every file is yanked."""

    model_config = ConfigDict(frozen=True)

    version: str
    requires_python: str | None = None
    yanked: bool = False
    has_files: bool = True


class Project(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str
    latest: str
    requires_python: str | None = None  # of the latest release (`info.requires_python`)
    releases: tuple[Release, ...] = ()


def _release(version: str, files: list[dict[str, Any]]) -> Release:
    requires = next((f.get("requires_python") for f in files if f.get("requires_python")), None)
    return Release(
        version=version,
        requires_python=requires,
        yanked=bool(files) and all(bool(f.get("yanked")) for f in files),
        has_files=bool(files),
    )


class PyPIClient:
    def __init__(self, base_url: str | None = None, *, timeout: float = 10.0, transport: Any = None) -> None:
        self.base_url = (base_url or os.environ.get(PYPI_URL_ENV) or DEFAULT_PYPI_URL).rstrip("/")
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=True)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PyPIClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def project(self, name: str) -> Project:
        """The project's releases; raises PyPIError when PyPI has no such project or does not answer."""
        url = f"{self.base_url}/pypi/{name}/json"
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise PyPIError(f"{url}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise PyPIError(f"{url}: HTTP {response.status_code}")
        try:
            body = response.json()
            info = body["info"]
            releases = tuple(_release(str(v), list(files or [])) for v, files in (body.get("releases") or {}).items())
            return Project(
                name=str(info["name"]),
                latest=str(info["version"]),
                requires_python=info.get("requires_python") or None,
                releases=releases,
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise PyPIError(f"{url}: unexpected answer ({type(exc).__name__})") from exc
