"""The bot's only way to talk to GitHub: a thin, typed translation of the REST calls it needs.

Built on githubkit (auth strategies, installation-token caching, request building, retry hook), but
responses are validated into this module's small pydantic models rather than githubkit's full schema
models: the bot reads a handful of fields, and a strict full-schema parse would break on every
GitHub Enterprise or stand-in response that omits a field the bot never looks at.

Safety lives here rather than in callers, because every write goes through this module: branch writes
are refused unless the branch is the bot's own (`mlops-bot/...`), not the default branch and not a
protected pattern; refs are never forced; there is no merge method; deployments never ask GitHub to
auto-merge. Rate limits surface as `GitHubRateLimited` so the caller can requeue instead of a Lambda
sleeping through its timeout; only server errors are retried here, briefly.
"""

from __future__ import annotations

import base64
import dataclasses
import fnmatch
import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Annotated, Any, BinaryIO, Literal, TypedDict, TypeVar
from urllib.parse import quote

import httpx
from githubkit import AppAuthStrategy, AppInstallationAuthStrategy, GitHub, Response, TokenAuthStrategy
from githubkit.auth import BaseAuthStrategy
from githubkit.cache import BaseCacheStrategy, MemCacheStrategy
from githubkit.exception import (
    GitHubException,
    RateLimitExceeded,
    RequestError,
    RequestFailed,
    RequestTimeout,
)
from githubkit.retry import RetryOption
from githubkit.typing import UnsetType
from githubkit.utils import UNSET
from pydantic import AliasPath, BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from typing_extensions import Unpack

from mlops_bot.messages import BOT_BRANCH_PREFIX

__all__ = [
    "BOT_BRANCH_PREFIX",
    "DEFAULT_API_URL",
    "DEFAULT_PROTECTED_BRANCHES",
    "ClientOptions",
    "CommentInfo",
    "DeploymentInfo",
    "DeploymentStatusInfo",
    "FileCommit",
    "FileContent",
    "GitHubClient",
    "GitHubConflict",
    "GitHubError",
    "GitHubNotFound",
    "GitHubRateLimited",
    "IssueInfo",
    "LogsUnavailable",
    "ProtectedBranchError",
    "PullRequestInfo",
    "RateLimitInfo",
    "RepositoryInfo",
    "WorkflowJobInfo",
    "WorkflowRunInfo",
    "WorkflowStepInfo",
    "resolve_api_url",
]

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_PROTECTED_BRANCHES: tuple[str, ...] = ("main", "master", "trunk", "release/*", "production")
DeploymentState = Literal["error", "failure", "inactive", "in_progress", "queued", "pending", "success"]

# Lenient enough for Enterprise logins, strict enough that no '/', '%' or '?' reaches a URL path.
_FULL_NAME = re.compile(r"(?P<owner>[A-Za-z0-9][A-Za-z0-9._-]{0,99})/(?P<repo>[A-Za-z0-9._-]{1,100})")
_BRANCH_CHARS = re.compile(r"[A-Za-z0-9._/+-]+")
_PAGE_SIZE = 100
_MAX_PAGES = 10
_CHUNK = 64 * 1024

T = TypeVar("T")


# --------------------------------------------------------------------------------------------- errors


class GitHubError(Exception):
    """GitHub answered with an error (status) or could not be reached (status None)."""

    def __init__(self, status: int | None, message: str) -> None:
        super().__init__(f"GitHub {status}: {message}" if status is not None else f"GitHub: {message}")
        self.status = status
        self.message = message


class GitHubNotFound(GitHubError):
    """404: the repository, file, run... does not exist or the credentials cannot see it."""


class GitHubConflict(GitHubError):
    """409: typically a stale file sha; the caller should re-read and retry its change."""


class GitHubRateLimited(GitHubError):
    """Primary or secondary rate limit; `retry_after_seconds` says when GitHub will accept again.

    Not retried here: the caller (a queue consumer) decides to wait or requeue with that delay.
    """

    def __init__(self, status: int, message: str, retry_after_seconds: float) -> None:
        super().__init__(status, message)
        self.retry_after_seconds = retry_after_seconds


class LogsUnavailable(GitHubError):
    """A run's log archive is gone (404) or expired (410); the bot falls back to job metadata."""


class ProtectedBranchError(Exception):
    """The adapter refused a branch write before anything was sent to GitHub."""

    def __init__(self, branch: str, reason: str) -> None:
        super().__init__(f"refusing to write to branch {branch!r}: {reason}")
        self.branch = branch
        self.reason = reason


# --------------------------------------------------------------------------------------------- models


class _Model(BaseModel):
    """Only the fields the bot reads; GitHub's other fields are ignored, not validated."""

    model_config = ConfigDict(frozen=True, extra="ignore", validate_by_name=True, validate_by_alias=True)


class RepositoryInfo(_Model):
    id: int
    full_name: str
    default_branch: str
    private: bool
    archived: bool = False
    html_url: str = ""


class FileContent(_Model):
    path: str
    sha: str
    ref: str | None = None
    data: bytes

    @property
    def text(self) -> str:
        """The file decoded as UTF-8 (the bot only edits text files; binary ones raise here)."""
        return self.data.decode("utf-8")


class TreeEntry(_Model):
    """One entry of a Git tree as GitHub's Trees API returns it."""

    path: str
    mode: str = ""
    type: str  # "blob", "tree" or "commit" (a submodule)
    sha: str = ""
    size: int | None = None


class RepositoryTree(_Model):
    """A commit's file tree (``GET /repos/{o}/{r}/git/trees/{sha}?recursive=1``).

    `truncated` is GitHub's flag for trees past its limit (100,000 entries / 7 MB): the listing is partial.
    """

    sha: str
    truncated: bool = False
    tree: tuple[TreeEntry, ...] = ()

    @property
    def paths(self) -> list[str]:
        """Paths of the files (blobs) in the tree."""
        return [entry.path for entry in self.tree if entry.type == "blob"]


class FileCommit(_Model):
    path: str
    branch: str
    content_sha: str = Field(validation_alias=AliasPath("content", "sha"))
    commit_sha: str = Field(validation_alias=AliasPath("commit", "sha"))


class PullRequestInfo(_Model):
    number: int
    html_url: str
    state: str
    title: str
    body: str | None = None
    head: str = Field(validation_alias=AliasPath("head", "ref"))
    head_sha: str = Field(validation_alias=AliasPath("head", "sha"))
    base: str = Field(validation_alias=AliasPath("base", "ref"))
    draft: bool = False
    merged: bool = False
    merged_at: str | None = None  # set once merged (GitHub lists omit `merged`, never `merged_at`)
    closed_at: str | None = None

    @property
    def was_merged(self) -> bool:
        return self.merged or self.merged_at is not None


def _label_names(value: Any) -> Any:
    if isinstance(value, list):
        return [item.get("name", "") if isinstance(item, dict) else item for item in value]
    return value


class IssueInfo(_Model):
    number: int
    html_url: str
    state: str
    title: str
    body: str | None = None
    labels: Annotated[list[str], BeforeValidator(_label_names)] = Field(default_factory=list)
    is_pull_request: bool = Field(default=False, validation_alias="pull_request")

    @field_validator("is_pull_request", mode="before")
    @classmethod
    def _present(cls, value: Any) -> bool:
        """GitHub marks pull requests in issue lists by the mere presence of a `pull_request` object."""
        return value is not None and value is not False


class CommentInfo(_Model):
    id: int
    html_url: str
    body: str = ""


class WorkflowRunInfo(_Model):
    id: int
    name: str | None = None
    display_title: str | None = None
    status: str | None = None
    conclusion: str | None = None
    head_branch: str | None = None
    head_sha: str
    event: str = ""
    workflow_id: int
    path: str = ""
    run_attempt: int = 1
    html_url: str = ""


class WorkflowStepInfo(_Model):
    name: str
    number: int
    status: str
    conclusion: str | None = None


class WorkflowJobInfo(_Model):
    id: int
    run_id: int
    name: str
    status: str
    conclusion: str | None = None
    html_url: str | None = None
    steps: list[WorkflowStepInfo] = Field(default_factory=list)


class DeploymentInfo(_Model):
    id: int
    ref: str
    sha: str
    environment: str
    task: str = "deploy"
    description: str | None = None
    payload: dict[str, Any] | str = Field(default_factory=dict)
    created_at: datetime | None = None


class DeploymentStatusInfo(_Model):
    id: int
    state: str
    description: str | None = None
    environment_url: str | None = None
    log_url: str | None = None


class RateLimitInfo(_Model):
    limit: int
    remaining: int
    used: int = 0
    reset: datetime


# --------------------------------------------------------------------------------------------- helpers


def resolve_api_url(base_url: str | None = None) -> str:
    """The API root: the given URL, else `GITHUB_API_URL` (as set in Actions), else api.github.com.

    Taken as-is, path included: GitHub Enterprise Server's root is `https://host/api/v3`, and a
    stand-in may serve at its bare root; guessing a suffix would break one or the other.
    """
    url = base_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL
    return url.rstrip("/")


def _split(full_name: str) -> tuple[str, str]:
    """`owner/repo`, validated so a crafted name cannot smuggle path segments into a URL."""
    match = _FULL_NAME.fullmatch(full_name)
    if match is None or match.group("repo") in (".", ".."):
        raise ValueError(f"not a repository full name: {full_name!r}")
    return match.group("owner"), match.group("repo")


def _opt(value: T | None) -> T | UnsetType:
    """githubkit leaves UNSET arguments out of the request; None would be sent as null."""
    return UNSET if value is None else value


def _body(response: Response[Any, Any]) -> Any:
    """The JSON body, untyped on purpose: githubkit types it as TypedDicts whose keys are Python
    names (`object_`, `license_`), not GitHub's; our pydantic models do the validation."""
    return response.raw_response.json()


_WORKFLOW_FILE = re.compile(r"[A-Za-z0-9_.-]{1,255}")


def _quote_path(path: str) -> str:
    """A repository path as URL segments: each quoted, none of them empty, `.` or `..`.

    githubkit puts path parameters into the URL as given and the URL's dot segments are resolved
    afterwards, so `../../pulls` from a log or a setting would reach another endpoint.
    """
    segments = path.strip("/").split("/")
    if any(s in ("", ".", "..") or not s.isprintable() for s in segments):
        raise ValueError(f"not a safe repository path: {path!r}")
    return quote("/".join(segments), safe="/")


def _workflow_id(workflow: int | str) -> int | str:
    """A workflow's numeric id or its file name (`retrain.yml`), never anything that adds URL segments."""
    if isinstance(workflow, int) or (_WORKFLOW_FILE.fullmatch(workflow) and workflow not in (".", "..")):
        return workflow
    raise ValueError(f"not a workflow id or file name: {workflow!r}")


def _unwrap(exc: BaseException) -> BaseException:
    """githubkit wraps errors raised inside the auth flow (minting a token) in a RequestError."""
    while isinstance(exc, RequestError) and not isinstance(exc, RequestFailed) and isinstance(exc.exc, GitHubException):
        exc = exc.exc
    return exc


def _response_message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return str(data["message"])
    return response.reason_phrase


def _translate_error(exc: GitHubException) -> GitHubError:
    inner = _unwrap(exc)
    if isinstance(inner, RateLimitExceeded):
        response = inner.response.raw_response
        return GitHubRateLimited(response.status_code, _response_message(response), inner.retry_after.total_seconds())
    if isinstance(inner, RequestFailed):
        response = inner.response.raw_response
        status, message = response.status_code, _response_message(response)
        if status == 429:  # rate limited without the headers githubkit keys on: GitHub's advice is 60 s
            return GitHubRateLimited(status, message, 60.0)
        if status == 404:
            return GitHubNotFound(status, message)
        if status == 409:
            return GitHubConflict(status, message)
        return GitHubError(status, message)
    if isinstance(inner, RequestTimeout):
        return GitHubError(None, f"timed out: {inner.exc}")
    if isinstance(inner, RequestError):
        return GitHubError(None, f"request failed: {inner.exc!r}")
    return GitHubError(None, f"{type(inner).__name__}: {inner}")


@contextmanager
def _github_errors() -> Iterator[None]:
    try:
        yield
    except GitHubException as exc:
        raise _translate_error(exc) from exc


NON_IDEMPOTENT = frozenset({"POST", "PATCH"})
NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def _safe_to_repeat(method: str, path: str) -> bool:
    """Reads, PUT/DELETE (idempotent by HTTP), and minting an installation token (a spare is harmless)."""
    return method not in NON_IDEMPOTENT or path.endswith("/access_tokens")


class _RetryTransient:
    """githubkit retry hook: retry 5xx and transport errors only, with short exponential backoff.

    githubkit's default also sleeps through rate limits (up to the reset time) and waits 1, 4, 9 s
    on server errors: both too long inside a Lambda. A zero delay must not be returned: githubkit
    treats a falsy timedelta as "unspecified" and sleeps 60 s.
    """

    def __init__(self, max_attempts: int, base_delay: float) -> None:
        self.max_attempts = max_attempts
        self.base_delay = base_delay

    def delay(self, retry_count: int) -> float:
        return max(self.base_delay * (2.0**retry_count), 0.001)

    def __call__(self, exc: GitHubException, retry_count: int) -> RetryOption:
        if retry_count + 1 >= self.max_attempts:
            return RetryOption(False)
        inner = _unwrap(exc)
        if isinstance(inner, RateLimitExceeded):
            return RetryOption(False)
        if isinstance(inner, RequestFailed):
            request = inner.response.raw_request
            transient = inner.response.status_code >= 500 and _safe_to_repeat(request.method, request.url.path)
        elif isinstance(inner, RequestError) and isinstance(inner.exc, httpx.TransportError):
            request_ = inner.exc._request
            # A POST/PATCH may have been applied even though the answer was lost: retry it only
            # when the request never left (connection refused or not established). The playbook
            # step above retries with its own idempotency checks (find the PR/issue first).
            transient = isinstance(inner.exc, NEVER_SENT) or (
                request_ is not None and _safe_to_repeat(request_.method, request_.url.path)
            )
        else:
            transient = False
        if not transient:
            return RetryOption(False)
        return RetryOption(True, timedelta(seconds=self.delay(retry_count)))


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    defaults = {"http": 80, "https": 443}
    return (a.scheme, a.host, a.port or defaults.get(a.scheme)) == (
        b.scheme,
        b.host,
        b.port or defaults.get(b.scheme),
    )


# App JWTs and installation tokens are cached per API root and App key, shared by every client of
# this process: a warm Lambda reuses its token across invocations. githubkit's cache key is only
# the App id, so one global cache would hand a token minted by one GitHub (or test server) to
# another, and keep signing with a rotated-out key for the JWT's 8 minutes.
_TOKEN_CACHES: dict[tuple[str, str], BaseCacheStrategy] = {}
_TOKEN_CACHES_LOCK = threading.Lock()


def _token_cache(base_url: str, auth: object = None) -> BaseCacheStrategy:
    private_key = getattr(auth, "private_key", None)
    credential = hashlib.sha256(private_key.encode()).hexdigest() if isinstance(private_key, str) else ""
    with _TOKEN_CACHES_LOCK:
        return _TOKEN_CACHES.setdefault((base_url, credential), MemCacheStrategy())


class ClientOptions(TypedDict, total=False):
    """Keyword options shared by the constructors."""

    protected_branches: Sequence[str]
    bot_branch_prefix: str
    max_attempts: int
    retry_base_delay: float
    timeout: float
    api_version: str | None
    user_agent: str
    cache_strategy: BaseCacheStrategy


# --------------------------------------------------------------------------------------------- client


class GitHubClient:
    """Synchronous GitHub REST client for the bot (one per credential; cheap to create).

    Use `from_token` or `from_app`; `mlops_bot.github_access` picks one from the deployment's
    credentials. Optionally use it as a context manager to reuse one HTTP connection pool for a
    burst of calls; otherwise each call opens its own connection.
    """

    def __init__(
        self,
        auth: BaseAuthStrategy,
        base_url: str | None = None,
        *,
        protected_branches: Sequence[str] = DEFAULT_PROTECTED_BRANCHES,
        bot_branch_prefix: str = BOT_BRANCH_PREFIX,
        max_attempts: int = 3,
        retry_base_delay: float = 0.5,
        timeout: float = 15.0,
        api_version: str | None = None,
        user_agent: str = "mlops-bot",
        cache_strategy: BaseCacheStrategy | None = None,
    ) -> None:
        if not bot_branch_prefix or not bot_branch_prefix.endswith("/"):
            raise ValueError("bot_branch_prefix must be a non-empty namespace ending in '/'")
        self.base_url = resolve_api_url(base_url)
        self.protected_branches = tuple(protected_branches)
        self.bot_branch_prefix = bot_branch_prefix
        self._retry = _RetryTransient(max(1, max_attempts), retry_base_delay)
        self._timeout = timeout
        self._user_agent = user_agent
        hooks: dict[str, list[Callable[..., Any]]] = {}
        if api_version:
            # githubkit pins the header to its newest schema; GitHub Enterprise Server rejects
            # versions it does not know, so let the deployment choose.
            def _set_version(request: httpx.Request) -> None:
                request.headers["X-GitHub-Api-Version"] = api_version

            hooks["request"] = [_set_version]
        self._gh: GitHub[Any] = GitHub(
            auth,
            base_url=self.base_url,
            user_agent=user_agent,
            timeout=timeout,
            # The HTTP cache would serve stale repository state between healing steps.
            http_cache=False,
            cache_strategy=cache_strategy or _token_cache(self.base_url, auth),
            auto_retry=self._retry,
            event_hooks=hooks or None,
        )
        # Same auth and token cache, but redirects are not followed: the logs endpoint answers
        # with a redirect to blob storage that this client follows itself, without credentials.
        self._gh_no_redirect: GitHub[Any] = GitHub(
            auth, config=dataclasses.replace(self._gh.config, follow_redirects=False)
        )
        self._default_branches: dict[str, str] = {}

    # ----------------------------------------------------------------------------- constructors

    @classmethod
    def from_token(cls, token: str, base_url: str | None = None, **options: Unpack[ClientOptions]) -> GitHubClient:
        """A personal access token, fine-grained token or the Actions `GITHUB_TOKEN`."""
        return cls(TokenAuthStrategy(token), base_url, **options)

    @classmethod
    def from_app(
        cls,
        app_id: int | str,
        private_key_pem: str,
        installation_id: int,
        base_url: str | None = None,
        **options: Unpack[ClientOptions],
    ) -> GitHubClient:
        """A GitHub App installation: githubkit signs an RS256 JWT and caches the installation token
        (per API root, until a minute before it expires)."""
        return cls(AppInstallationAuthStrategy(app_id, private_key_pem, installation_id), base_url, **options)

    @staticmethod
    def installation_id_for_repo(
        app_id: int | str, private_key_pem: str, full_name: str, base_url: str | None = None
    ) -> int:
        """Which installation of the App covers `full_name` (authenticates with the App JWT)."""
        owner, repo = _split(full_name)
        auth = AppAuthStrategy(app_id, private_key_pem)
        gh: GitHub[Any] = GitHub(
            auth,
            base_url=resolve_api_url(base_url),
            http_cache=False,
            cache_strategy=_token_cache(resolve_api_url(base_url), auth),
            auto_retry=_RetryTransient(3, 0.5),
        )
        with _github_errors():
            data = _body(gh.rest.apps.get_repo_installation(owner, repo))
        return int(data["id"])

    def __enter__(self) -> GitHubClient:
        self._gh.__enter__()  # type: ignore[no-untyped-call]  # githubkit leaves it unannotated
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._gh.__exit__(exc_type, exc, tb)

    # ----------------------------------------------------------------------------- safety

    def check_writable_branch(self, full_name: str, branch: str) -> str:
        """The branch name if the bot may write to it, else `ProtectedBranchError` (nothing sent).

        The namespace and pattern checks come first and need no network; the default-branch check
        reads the repository (a GET), because the default can be any name.
        """
        name = branch.removeprefix("refs/heads/")
        if not name.startswith(self.bot_branch_prefix):
            raise ProtectedBranchError(name, f"the bot only writes to branches under {self.bot_branch_prefix!r}")
        if (
            not _BRANCH_CHARS.fullmatch(name)
            or ".." in name
            or "//" in name
            or name.endswith(("/", ".", ".lock"))
            or name == self.bot_branch_prefix
        ):
            raise ProtectedBranchError(name, "not a valid branch name")
        for pattern in self.protected_branches:
            if fnmatch.fnmatchcase(name, pattern):
                raise ProtectedBranchError(name, f"matches protected pattern {pattern!r}")
        if name == self._default_branch(full_name):
            raise ProtectedBranchError(name, "it is the repository's default branch")
        return name

    def _check_bot_head(self, head: str) -> str:
        """Pull requests come only from the bot's own branches (no network needed to check)."""
        name = head.split(":", 1)[-1]
        if not name.startswith(self.bot_branch_prefix):
            raise ProtectedBranchError(name, f"pull requests must come from a {self.bot_branch_prefix!r} branch")
        return name

    def _default_branch(self, full_name: str) -> str:
        if full_name not in self._default_branches:
            self._default_branches[full_name] = self.get_repository(full_name).default_branch
        return self._default_branches[full_name]

    # ----------------------------------------------------------------------------- repositories

    def get_repository(self, full_name: str) -> RepositoryInfo:
        owner, repo = _split(full_name)
        with _github_errors():
            data = _body(self._gh.rest.repos.get(owner, repo))
        info = RepositoryInfo.model_validate(data)
        self._default_branches[full_name] = info.default_branch
        return info

    def get_branch_sha(self, full_name: str, branch: str) -> str | None:
        """Head commit of `branch`, or None when it does not exist."""
        owner, repo = _split(full_name)
        try:
            with _github_errors():
                data = _body(self._gh.rest.git.get_ref(owner, repo, "heads/" + _quote_path(branch)))
        except GitHubNotFound:
            return None
        return str(data["object"]["sha"])

    def create_branch(self, full_name: str, branch: str, from_sha: str) -> None:
        name = self.check_writable_branch(full_name, branch)
        owner, repo = _split(full_name)
        with _github_errors():
            self._gh.rest.git.create_ref(owner, repo, ref=f"refs/heads/{name}", sha=from_sha)

    def update_ref(self, full_name: str, branch: str, sha: str) -> None:
        """Move a bot branch forward; never forced, so GitHub rejects anything but a fast-forward."""
        name = self.check_writable_branch(full_name, branch)
        owner, repo = _split(full_name)
        with _github_errors():
            self._gh.rest.git.update_ref(owner, repo, "heads/" + _quote_path(name), sha=sha, force=False)

    def repository_tree(self, full_name: str, sha: str) -> RepositoryTree:
        """The whole file tree at commit (or tree) `sha`, in one call to the Git Trees API (recursive)."""
        owner, repo = _split(full_name)
        with _github_errors():
            data = _body(self._gh.rest.git.get_tree(owner, repo, sha, recursive="1"))
        return RepositoryTree.model_validate(data)

    # ----------------------------------------------------------------------------- contents

    def get_file(self, full_name: str, path: str, ref: str | None = None) -> FileContent | None:
        """A file's bytes and blob sha (needed to update it), or None if absent or not a file."""
        owner, repo = _split(full_name)
        try:
            with _github_errors():
                data = _body(self._gh.rest.repos.get_content(owner, repo, _quote_path(path), ref=_opt(ref)))
        except GitHubNotFound:
            return None
        if not isinstance(data, dict) or data.get("type") != "file":
            return None
        if data.get("encoding") != "base64":
            raise GitHubError(None, f"{path} is too large for the contents API (encoding {data.get('encoding')!r})")
        raw = base64.b64decode(str(data.get("content", "")))
        return FileContent(path=str(data.get("path", path)), sha=str(data["sha"]), ref=ref, data=raw)

    def find_file(self, full_name: str, candidates: Sequence[str], ref: str | None = None) -> FileContent | None:
        """The first of `candidates` that exists (e.g. requirements.txt, then pyproject.toml)."""
        for path in candidates:
            found = self.get_file(full_name, path, ref)
            if found is not None:
                return found
        return None

    def put_file(
        self,
        full_name: str,
        path: str,
        content: str | bytes,
        message: str,
        branch: str,
        sha: str | None = None,
    ) -> FileCommit:
        """Create (sha None) or update (sha of the version read) a file on a bot branch.

        A stale sha gives `GitHubConflict`: someone changed the file since it was read.
        """
        name = self.check_writable_branch(full_name, branch)
        owner, repo = _split(full_name)
        raw = content.encode("utf-8") if isinstance(content, str) else content
        with _github_errors():
            data = _body(
                self._gh.rest.repos.create_or_update_file_contents(
                    owner,
                    repo,
                    _quote_path(path),
                    message=message,
                    content=base64.b64encode(raw).decode("ascii"),
                    sha=_opt(sha),
                    branch=name,
                )
            )
        return FileCommit.model_validate({**data, "path": path.strip("/"), "branch": name})

    # ----------------------------------------------------------------------------- pull requests

    def find_open_pull_request(self, full_name: str, head_branch: str) -> PullRequestInfo | None:
        owner, repo = _split(full_name)
        with _github_errors():
            data = _body(
                self._gh.rest.pulls.list(owner, repo, state="open", head=f"{owner}:{head_branch}", per_page=_PAGE_SIZE)
            )
        for item in data:
            pull = PullRequestInfo.model_validate(item)
            if pull.head == head_branch:
                return pull
        return None

    def get_pull_request(self, full_name: str, number: int) -> PullRequestInfo:
        """One pull request, with whether and when it was merged (`GET /repos/{o}/{r}/pulls/{n}`)."""
        owner, repo = _split(full_name)
        with _github_errors():
            data = _body(self._gh.rest.pulls.get(owner, repo, number))
        return PullRequestInfo.model_validate(data)

    def create_pull_request(
        self, full_name: str, head: str, base: str, title: str, body: str, *, draft: bool = False
    ) -> PullRequestInfo:
        head_name = self._check_bot_head(head)
        owner, repo = _split(full_name)
        with _github_errors():
            data = _body(
                self._gh.rest.pulls.create(owner, repo, head=head_name, base=base, title=title, body=body, draft=draft)
            )
        return PullRequestInfo.model_validate(data)

    def update_pull_request(
        self,
        full_name: str,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: Literal["open", "closed"] | None = None,
    ) -> PullRequestInfo:
        """Edit title/body or close/reopen; there is deliberately no way to merge."""
        owner, repo = _split(full_name)
        with _github_errors():
            data = _body(
                self._gh.rest.pulls.update(owner, repo, number, title=_opt(title), body=_opt(body), state=_opt(state))
            )
        return PullRequestInfo.model_validate(data)

    # ----------------------------------------------------------------------------- issues

    def create_issue(self, full_name: str, title: str, body: str, labels: Sequence[str] = ()) -> IssueInfo:
        owner, repo = _split(full_name)
        with _github_errors():
            data = _body(
                self._gh.rest.issues.create(
                    owner, repo, title=title, body=body, labels=list(labels) if labels else UNSET
                )
            )
        return IssueInfo.model_validate(data)

    def update_issue(
        self,
        full_name: str,
        number: int,
        *,
        title: str | None = None,
        body: str | None = None,
        state: Literal["open", "closed"] | None = None,
        labels: Sequence[str] | None = None,
    ) -> IssueInfo:
        owner, repo = _split(full_name)
        with _github_errors():
            data = _body(
                self._gh.rest.issues.update(
                    owner,
                    repo,
                    number,
                    title=_opt(title),
                    body=_opt(body),
                    state=_opt(state),
                    labels=UNSET if labels is None else list(labels),
                )
            )
        return IssueInfo.model_validate(data)

    def find_open_issue(self, full_name: str, label: str, title_prefix: str | None = None) -> IssueInfo | None:
        """The newest open issue (not pull request) with `label` and, if given, the title prefix.

        This is how the bot finds the issue it opened earlier instead of opening a duplicate.
        """
        owner, repo = _split(full_name)
        for page in range(1, _MAX_PAGES + 1):
            with _github_errors():
                data = _body(
                    self._gh.rest.issues.list_for_repo(
                        owner, repo, state="open", labels=label, per_page=_PAGE_SIZE, page=page
                    )
                )
            for item in data:
                issue = IssueInfo.model_validate(item)
                if issue.is_pull_request:
                    continue
                if title_prefix is None or issue.title.startswith(title_prefix):
                    return issue
            if len(data) < _PAGE_SIZE:
                break
        return None

    def comment_issue(self, full_name: str, number: int, body: str) -> CommentInfo:
        """Comment on an issue or a pull request (GitHub treats both as issues here)."""
        owner, repo = _split(full_name)
        with _github_errors():
            data = _body(self._gh.rest.issues.create_comment(owner, repo, number, body=body))
        return CommentInfo.model_validate(data)

    # ----------------------------------------------------------------------------- actions

    def rerun_failed_jobs(self, full_name: str, run_id: int) -> None:
        owner, repo = _split(full_name)
        with _github_errors():
            self._gh.rest.actions.re_run_workflow_failed_jobs(owner, repo, run_id)

    def get_workflow_run(self, full_name: str, run_id: int) -> WorkflowRunInfo:
        owner, repo = _split(full_name)
        with _github_errors():
            data = _body(self._gh.rest.actions.get_workflow_run(owner, repo, run_id))
        return WorkflowRunInfo.model_validate(data)

    def list_run_jobs(self, full_name: str, run_id: int, *, latest_attempt_only: bool = True) -> list[WorkflowJobInfo]:
        owner, repo = _split(full_name)
        jobs: list[WorkflowJobInfo] = []
        for page in range(1, _MAX_PAGES + 1):
            with _github_errors():
                data = _body(
                    self._gh.rest.actions.list_jobs_for_workflow_run(
                        owner,
                        repo,
                        run_id,
                        filter_="latest" if latest_attempt_only else "all",
                        per_page=_PAGE_SIZE,
                        page=page,
                    )
                )
            batch = data.get("jobs", [])
            jobs.extend(WorkflowJobInfo.model_validate(job) for job in batch)
            if len(batch) < _PAGE_SIZE:
                break
        return jobs

    def download_run_logs(
        self,
        full_name: str,
        run_id: int,
        dest: BinaryIO | str | os.PathLike[str],
        *,
        missing_ok: bool = False,
    ) -> bool:
        """Stream a run's log zip to `dest` (an open binary file, or a path written atomically).

        GitHub answers with a redirect to a short-lived signed URL on another host; that request is
        made without the GitHub credentials (they would leak to the storage host). The archive is
        copied in chunks, never held in memory. Returns True when written; when the logs are gone
        (404) or expired (410) raises `LogsUnavailable`, or returns False if `missing_ok`.
        """
        if isinstance(dest, str | os.PathLike):
            target = Path(dest)
            partial = target.with_name(target.name + ".part")
            try:
                with partial.open("wb") as handle:
                    written = self._download_run_logs_to(full_name, run_id, handle, missing_ok)
                if written:
                    partial.replace(target)
                return written
            finally:
                partial.unlink(missing_ok=True)
        return self._download_run_logs_to(full_name, run_id, dest, missing_ok)

    def _download_run_logs_to(self, full_name: str, run_id: int, dest: BinaryIO, missing_ok: bool) -> bool:
        owner, repo = _split(full_name)
        gh = self._gh_no_redirect
        with gh:  # a client that outlives `request`, so the streamed body can still be read
            try:
                response = gh.request("GET", f"/repos/{owner}/{repo}/actions/runs/{run_id}/logs", stream=True)
            except GitHubException as exc:
                error = _translate_error(exc)
                if error.status in (404, 410):
                    if missing_ok:
                        return False
                    raise LogsUnavailable(error.status, error.message) from exc
                raise error from exc
            raw = response.raw_response
            try:
                if not raw.is_redirect:  # served inline (some Enterprise setups): stream it from here
                    self._copy(raw, dest)
                    return True
                if "location" not in raw.headers:
                    raise GitHubError(raw.status_code, "logs redirect without a Location header")
                location = raw.url.join(raw.headers["location"])
                authorization = raw.request.headers.get("authorization")
                if not _same_origin(location, raw.url):
                    authorization = None
            finally:
                raw.close()
        return self._download_blob(location, authorization, dest, missing_ok)

    def _download_blob(self, url: httpx.URL, authorization: str | None, dest: BinaryIO, missing_ok: bool) -> bool:
        headers = {"User-Agent": self._user_agent}
        if authorization:
            headers["Authorization"] = authorization
        attempt = 0
        with httpx.Client(timeout=self._timeout, follow_redirects=True) as client:
            while True:
                try:
                    with client.stream("GET", url, headers=headers) as response:
                        status = response.status_code
                        if status in (404, 410):
                            if missing_ok:
                                return False
                            raise LogsUnavailable(status, "log archive expired or missing at storage")
                        if status >= 500 and attempt + 1 < self._retry.max_attempts:
                            pass  # retried below, after the response is closed
                        elif response.is_error:
                            raise GitHubError(status, f"log archive download failed: {response.reason_phrase}")
                        else:
                            self._copy(response, dest)
                            return True
                except httpx.TransportError as exc:  # before any byte was written: _copy wraps later ones
                    if attempt + 1 >= self._retry.max_attempts:
                        raise GitHubError(None, f"log archive download failed: {exc!r}") from exc
                time.sleep(self._retry.delay(attempt))
                attempt += 1

    @staticmethod
    def _copy(response: httpx.Response, dest: BinaryIO) -> None:
        try:
            for chunk in response.iter_bytes(_CHUNK):
                dest.write(chunk)
        except httpx.TransportError as exc:
            raise GitHubError(None, f"log archive download interrupted: {exc!r}") from exc

    def dispatch_workflow(
        self, full_name: str, workflow_id: int | str, ref: str, inputs: Mapping[str, Any] | None = None
    ) -> None:
        """Start a `workflow_dispatch` run (e.g. retraining) on `ref`."""
        owner, repo = _split(full_name)
        with _github_errors():
            self._gh.rest.actions.create_workflow_dispatch(
                owner, repo, _workflow_id(workflow_id), ref=ref, inputs=dict(inputs) if inputs else UNSET
            )

    # ----------------------------------------------------------------------------- deployments

    def create_deployment(
        self,
        full_name: str,
        ref: str,
        environment: str,
        description: str | None = None,
        payload: Mapping[str, Any] | None = None,
        *,
        task: str = "deploy",
        required_contexts: Sequence[str] | None = None,
    ) -> DeploymentInfo:
        """Record a deployment. `auto_merge` is always off: GitHub's default would merge the default
        branch into `ref`, a write the bot never makes implicitly."""
        owner, repo = _split(full_name)
        with _github_errors():
            response = self._gh.rest.repos.create_deployment(
                owner,
                repo,
                ref=ref,
                environment=environment,
                description=_opt(description),
                payload=dict(payload) if payload else UNSET,
                task=task,
                auto_merge=False,
                required_contexts=UNSET if required_contexts is None else list(required_contexts),
            )
        if response.status_code != 201:  # 202: GitHub merged something instead of deploying
            raise GitHubError(response.status_code, _response_message(response.raw_response))
        return DeploymentInfo.model_validate(_body(response))

    def list_deployments(
        self, full_name: str, *, environment: str | None = None, ref: str | None = None, limit: int = 30
    ) -> list[DeploymentInfo]:
        """Newest first, at most `limit` (one page of up to 100)."""
        owner, repo = _split(full_name)
        with _github_errors():
            data = _body(
                self._gh.rest.repos.list_deployments(
                    owner,
                    repo,
                    environment=_opt(environment),
                    ref=_opt(ref),
                    per_page=min(max(limit, 1), 100),
                )
            )
        return [DeploymentInfo.model_validate(item) for item in data[:limit]]

    def create_deployment_status(
        self,
        full_name: str,
        deployment_id: int,
        state: DeploymentState,
        *,
        description: str | None = None,
        environment_url: str | None = None,
        log_url: str | None = None,
    ) -> DeploymentStatusInfo:
        owner, repo = _split(full_name)
        with _github_errors():
            data = _body(
                self._gh.rest.repos.create_deployment_status(
                    owner,
                    repo,
                    deployment_id,
                    state=state,
                    description=_opt(description),
                    environment_url=_opt(environment_url),
                    log_url=_opt(log_url),
                )
            )
        return DeploymentStatusInfo.model_validate(data)

    # ----------------------------------------------------------------------------- rate limit

    def rate_limit(self) -> RateLimitInfo:
        """The core REST quota (this call itself does not count against it)."""
        with _github_errors():
            data = _body(self._gh.rest.rate_limit.get())
        return RateLimitInfo.model_validate(data["resources"]["core"])

    # ----------------------------------------------------------------------------- as a user

    def user_installation_ids(self, per_page: int = 100, max_pages: int = 50) -> set[int]:
        """With a user's token: the ids of the App installations the user can access (`GET /user/installations`)."""
        found: set[int] = set()
        for page in range(1, max_pages + 1):
            with _github_errors():
                response = self._gh.request("GET", "/user/installations", params={"per_page": per_page, "page": page})
            installations = _body(response).get("installations") or []
            found.update(int(installation["id"]) for installation in installations)
            if len(installations) < per_page:
                break
        return found


# ----------------------------------------------------------------------------- app webhook deliveries


class HookDelivery(_Model):
    """One attempt GitHub made to deliver a webhook to the App (the deliveries API)."""

    id: int
    guid: str
    delivered_at: str | None = None
    redelivery: bool = False
    status_code: int = 0
    event: str | None = None
    action: str | None = None
    installation_id: int | None = None
    repository_id: int | None = None


class GitHubAppDeliveries:
    """The App's own webhook deliveries (App JWT auth): list them, ask GitHub to redeliver one."""

    def __init__(self, app_id: int | str, private_key_pem: str, base_url: str | None = None) -> None:
        auth = AppAuthStrategy(app_id, private_key_pem)
        self._gh: GitHub[Any] = GitHub(
            auth,
            base_url=resolve_api_url(base_url),
            http_cache=False,
            cache_strategy=_token_cache(resolve_api_url(base_url), auth),
            auto_retry=_RetryTransient(3, 0.5),
        )

    def list_deliveries(self, per_page: int = 100, max_pages: int = 5) -> list[HookDelivery]:
        """The most recent deliveries, newest first, following GitHub's cursor pagination."""
        found: list[HookDelivery] = []
        cursor: str | None = None
        for _ in range(max_pages):
            params: dict[str, str | int] = {"per_page": per_page}
            if cursor:
                params["cursor"] = cursor
            with _github_errors():
                response = self._gh.request("GET", "/app/hook/deliveries", params=params)
            page = _body(response)
            found.extend(HookDelivery.model_validate(item) for item in page)
            link = response.headers.get("link", "")
            match = re.search(r"[?&]cursor=([^&>]+)[^>]*>;\s*rel=\"next\"", link)
            if not match or not page:
                break
            cursor = match.group(1)
        return found

    def redeliver(self, delivery_id: int) -> None:
        with _github_errors():
            self._gh.request("POST", f"/app/hook/deliveries/{int(delivery_id)}/attempts")
