"""Diagnosing a failed run from its logs, fetched through GitHub's run-logs endpoint.

The zip is streamed to a temporary file (never held in memory) and the classifier reads the
failing step first. Missing logs (expired, 404/410) or no GitHub access still give a diagnosis:
`unknown`, with the reason.

The repository's own importable names come from its tree at the run's commit (one call to the Git
Trees API, cached per commit), so that a missing local module is never answered with a PyPI package.
"""

from __future__ import annotations

import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_bot.diagnosis import Category, Problem, diagnose_path
from mlops_bot.diagnosis.local import PROJECT_FILES, local_names

if TYPE_CHECKING:
    from mlops_bot.adapters.github import GitHubClient

# Commits whose local names are known: a warm Lambda diagnosing several failed runs of one commit (a
# matrix) reads the tree once.
_TREE_CACHE_SIZE = 128
_tree_cache: OrderedDict[tuple[str, str], frozenset[str]] = OrderedDict()
_tree_lock = threading.Lock()


class TreeIncomplete(Exception):
    """The Trees API listing is partial, so the repository's own names cannot be known for sure."""


def repository_local_names(client: GitHubClient, repository: str, sha: str) -> frozenset[str]:
    """The repository's own top-level names at commit `sha` (see `mlops_bot.diagnosis.local`), cached.

    One Trees API call per commit; ``pyproject.toml``/``setup.cfg`` are read only when the tree has them.
    Raises `TreeIncomplete` when GitHub truncated the listing.
    """
    key = (repository, sha)
    with _tree_lock:
        if key in _tree_cache:
            _tree_cache.move_to_end(key)
            return _tree_cache[key]
    tree = client.repository_tree(repository, sha)
    if tree.truncated:  # past GitHub's limit: a local module may be missing from the listing
        raise TreeIncomplete(f"the tree of {repository}@{sha[:12]} is truncated")
    paths = tree.paths
    project_files: dict[str, str] = {}
    for name in PROJECT_FILES:
        if name in paths:
            found = client.get_file(repository, name, ref=sha)
            if found is not None:
                project_files[name] = found.data.decode("utf-8", "replace")
    names = local_names(paths, project_files)
    with _tree_lock:
        _tree_cache[key] = names
        while len(_tree_cache) > _TREE_CACHE_SIZE:
            _tree_cache.popitem(last=False)
    return names


def diagnose_run(client: GitHubClient | None, repository: str, run_id: int, head_sha: str | None = None) -> Problem:
    """Diagnose run `run_id`'s logs, knowing the repository's own module names at its commit."""
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
        own: frozenset[str] = frozenset()
        try:
            sha = head_sha or client.get_workflow_run(repository, run_id).head_sha
            own = repository_local_names(client, repository, sha)
        except (GitHubError, TreeIncomplete) as exc:
            problem = diagnose_path(archive)
            if problem.category is not Category.DEPENDENCY_MISSING:
                return problem
            # Without the tree a missing module could be the repository's own: never confident enough to write.
            details = {**problem.details, "local_names_unavailable": str(exc)[:200]}
            return problem.model_copy(update={"details": details, "confidence": min(problem.confidence, 0.5)})
        return diagnose_path(archive, own_packages=own)
