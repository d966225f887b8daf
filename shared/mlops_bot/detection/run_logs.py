"""Diagnosing a failed run from its logs, fetched through GitHub's run-logs endpoint.

The zip is streamed to a temporary file (never held in memory) and the classifier reads the
failing step first. Missing logs (expired, 404/410) or no GitHub access still give a diagnosis:
`unknown`, with the reason.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_bot.diagnosis import Problem, diagnose_path

if TYPE_CHECKING:
    from mlops_bot.adapters.github import GitHubClient


def diagnose_run(client: GitHubClient | None, repository: str, run_id: int) -> Problem:
    if client is None:
        return Problem.unknown("no GitHub credentials to read the run's logs")
    from mlops_bot.adapters.github import GitHubError, LogsUnavailable  # loaded with the first failed run

    with tempfile.TemporaryDirectory(prefix="mlops-bot-logs-") as folder:
        archive = Path(folder) / f"run-{run_id}.zip"
        try:
            found = client.download_run_logs(repository, run_id, archive, missing_ok=True)
        except LogsUnavailable as exc:
            return Problem.unknown(f"logs unavailable ({exc.status})")
        except GitHubError as exc:
            return Problem.unknown(f"could not fetch logs: {exc}")
        if not found or not archive.exists():
            return Problem.unknown("logs unavailable (expired or deleted)")
        return diagnose_path(archive)
