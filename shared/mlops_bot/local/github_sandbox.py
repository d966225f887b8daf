"""A stand-in for GitHub's REST API: a real HTTP server on 127.0.0.1 with in-memory repositories.

The tests' stand-in and the local stack's sandbox (`mlops_bot.local.sandbox`) are this one server.

Why a real server rather than mocks of the client: the adapter's worth is in what goes over the wire
(auth headers, redirects, retries, rate-limit headers, base64 bodies), so tests drive it over real HTTP.
Only the subset of the API the bot uses is served; everything else answers 404 and is still recorded,
so a test can assert that a call (a merge, a force push) never happened.

Usage::

    with GitHubStandIn(tokens=("t0k",)) as gh:
        gh.add_repo("acme/models", files={"requirements.txt": "numpy==1.26\\n"})
        client = GitHubClient.from_token("t0k", gh.url)
        ...
        assert gh.writes() == []

or as a pytest fixture (``github_standin`` in tests/support/github_standin, or a fixture of your own).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import io
import itertools
import json
import re
import secrets
import threading
import time
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import jwt

DEFAULT_TOKEN = "test-token"  # noqa: S105 - the tests' stand-in token, not a secret
BOT_LOGIN = "mlops-bot[bot]"


@dataclass(frozen=True)
class Call:
    """One request as the server saw it (path without the enterprise prefix)."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    headers: dict[str, str]  # lower-case names
    raw_path: str
    status: int = 0


@dataclass
class _Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: Any
    times: int


@dataclass
class _Commit:
    sha: str
    parent: str | None
    files: dict[str, bytes]
    message: str


@dataclass
class _Repo:
    owner: str
    name: str
    id: int
    default_branch: str
    private: bool
    archived: bool
    protected: list[str]
    installation_id: int
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, _Commit] = field(default_factory=dict)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    runs: dict[int, dict[str, Any]] = field(default_factory=dict)
    jobs: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    run_logs: dict[int, bytes | int] = field(default_factory=dict)
    deployments: dict[int, dict[str, Any]] = field(default_factory=dict)
    deployment_statuses: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    dispatches: list[dict[str, Any]] = field(default_factory=list)
    next_number: int = 1

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def is_protected(self, branch: str) -> bool:
        return any(fnmatch.fnmatchcase(branch, pattern) for pattern in self.protected)


class _Reply(Exception):
    """Raised by a route to answer with an error, like GitHub's `{"message": ...}` bodies."""

    def __init__(self, status: int, message: str = "", headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def _blob_sha(data: bytes) -> str:
    """Git's blob id, so shas look and behave like GitHub's (same content, same sha)."""
    return hashlib.sha1(b"blob %d\x00" % len(data) + data, usedforsecurity=False).hexdigest()


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def make_zip(members: Mapping[str, str | bytes]) -> bytes:
    """A zip like GitHub's run-log archive: one member per job/step log."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


Route = tuple[str, re.Pattern[str], Callable[..., Any]]


class GitHubStandIn:
    """An in-memory GitHub on a random local port; see the module docstring.

    `prefix` serves the API under a path like GitHub Enterprise's `/api/v3`. `logs_host` is the host
    name used in the logs redirect: the default, "localhost", differs from the API host (127.0.0.1)
    the way GitHub's blob storage host differs from api.github.com, so a test can check that no
    credentials follow the redirect.
    """

    def __init__(
        self,
        *,
        tokens: tuple[str, ...] = (DEFAULT_TOKEN,),
        prefix: str = "",
        app_id: int | None = None,
        app_public_key: str | bytes | None = None,
        logs_host: str = "localhost",
        token_lifetime: timedelta = timedelta(hours=1),
    ) -> None:
        self.prefix = prefix.rstrip("/")
        self.tokens = set(tokens)
        self.app_id = app_id
        self.app_public_key = app_public_key
        self.logs_host = logs_host
        self.token_lifetime = token_lifetime
        self.calls: list[Call] = []
        self.issued_tokens: dict[str, datetime] = {}
        self.hook_deliveries: list[dict[str, Any]] = []
        self.redelivery_requests: list[int] = []
        self.ref_updates: list[dict[str, Any]] = []
        self.reruns: list[tuple[str, int]] = []
        self.rate_limit_remaining = 4999
        self._repos: dict[str, _Repo] = {}
        # GitHub users' tokens (user-to-server) -> (login, installation ids they can access).
        self.user_tokens: dict[str, tuple[str, list[int]]] = {}
        self._faults: list[_Fault] = []
        self._slow: list[list[Any]] = []
        self._blobs: dict[str, bytes] = {}
        self._lock = threading.RLock()
        self._ids = itertools.count(1000)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes: list[Route] = self._build_routes()

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> GitHubStandIn:
        handler = type("Handler", (_Handler,), {"standin": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> GitHubStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "stand-in not started"
        return int(self._server.server_address[1])

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The API base URL to give the client (includes the prefix, if any)."""
        return self.root + self.prefix

    # ---------------------------------------------------------------- inspection

    def writes(self) -> list[Call]:
        """Every call that was not a GET (what could have changed a repository)."""
        with self._lock:
            return [c for c in self.calls if c.method != "GET"]

    def calls_to(self, method: str, path_regex: str) -> list[Call]:
        pattern = re.compile(path_regex)
        with self._lock:
            return [c for c in self.calls if c.method == method.upper() and pattern.search(c.path)]

    def fail_next(
        self,
        method: str,
        path_regex: str,
        status: int,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        times: int = 1,
    ) -> None:
        """Answer the next `times` matching requests with `status` (before auth, like a proxy would)."""
        with self._lock:
            self._faults.append(
                _Fault(method.upper(), re.compile(path_regex), status, dict(headers or {}), body, times)
            )

    def slow_next(self, method: str, path_regex: str, seconds: float, times: int = 1) -> None:
        """Apply the next matching requests but answer only after `seconds`: the write happens,
        the client's read times out — the case where a blind retry would write twice."""
        with self._lock:
            self._slow.append([method.upper(), re.compile(path_regex), seconds, times])

    def _take_slow(self, method: str, path: str) -> float:
        with self._lock:
            for entry in self._slow:
                if entry[0] == method and entry[1].search(path):
                    entry[3] -= 1
                    if entry[3] <= 0:
                        self._slow.remove(entry)
                    return float(entry[2])
        return 0.0

    # ---------------------------------------------------------------- seeding

    def add_repo(
        self,
        full_name: str,
        *,
        default_branch: str = "main",
        files: Mapping[str, str | bytes] | None = None,
        protected: list[str] | None = None,
        private: bool = True,
        archived: bool = False,
        installation_id: int = 1,
        branches: Mapping[str, Mapping[str, str | bytes]] | None = None,
    ) -> str:
        """Create a repository whose default branch holds `files`; returns that branch's head sha."""
        owner, name = full_name.split("/", 1)
        repo = _Repo(
            owner=owner,
            name=name,
            id=next(self._ids),
            default_branch=default_branch,
            private=private,
            archived=archived,
            protected=list(protected if protected is not None else [default_branch]),
            installation_id=installation_id,
        )
        head = self._commit(repo, None, _encode_files(files or {}), "Initial commit")
        repo.branches[default_branch] = head
        for branch, branch_files in (branches or {}).items():
            merged = dict(repo.commits[head].files)
            merged.update(_encode_files(branch_files))
            repo.branches[branch] = self._commit(repo, head, merged, f"Work on {branch}")
        with self._lock:
            self._repos[full_name] = repo
        return head

    def set_run(
        self,
        full_name: str,
        run_id: int,
        *,
        status: str = "completed",
        conclusion: str | None = "failure",
        name: str = "CI",
        head_branch: str | None = None,
        head_sha: str | None = None,
        workflow_id: int = 1,
        path: str = ".github/workflows/ci.yml",
        event: str = "push",
        run_attempt: int = 1,
        jobs: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Add or replace a workflow run; `jobs` are partial job dicts (name, conclusion, steps...)."""
        repo = self._repo(full_name)
        branch = head_branch or repo.default_branch
        run = {
            "id": run_id,
            "name": name,
            "display_title": name,
            "status": status,
            "conclusion": conclusion,
            "head_branch": branch,
            "head_sha": head_sha or repo.branches.get(branch, "0" * 40),
            "workflow_id": workflow_id,
            "path": path,
            "event": event,
            "run_attempt": run_attempt,
            "run_number": run_id,
            "html_url": f"https://github.example/{full_name}/actions/runs/{run_id}",
            "url": f"{self.url}/repos/{full_name}/actions/runs/{run_id}",
            "created_at": _now(),
            "updated_at": _now(),
            "repository": {"full_name": full_name},
        }
        with self._lock:
            repo.runs[run_id] = run
            repo.jobs[run_id] = [
                {
                    "id": job.get("id", run_id * 100 + index),
                    "run_id": run_id,
                    "name": job.get("name", f"job-{index}"),
                    "status": job.get("status", "completed"),
                    "conclusion": job.get("conclusion", "failure"),
                    "html_url": f"https://github.example/{full_name}/actions/runs/{run_id}/job/{index}",
                    "started_at": _now(),
                    "completed_at": _now(),
                    "steps": job.get("steps", []),
                    "labels": job.get("labels", ["ubuntu-latest"]),
                }
                for index, job in enumerate(jobs or [{"name": "test"}], start=1)
            ]
        return run

    def set_run_logs(self, full_name: str, run_id: int, logs: Mapping[str, str] | bytes | int) -> None:
        """Logs for a run: zip members (name -> text), raw zip bytes, or 404/410 for expired logs."""
        repo = self._repo(full_name)
        value: bytes | int = logs if isinstance(logs, bytes | int) else make_zip(logs)
        with self._lock:
            repo.run_logs[run_id] = value

    def add_user(self, token: str, login: str, installation_ids: list[int]) -> None:
        """A GitHub user whose token lists `installation_ids` at `GET /user/installations`."""
        with self._lock:
            self.user_tokens[token] = (login, list(installation_ids))

    def configure_app(self, app_id: int, public_key: str | bytes) -> None:
        self.app_id = app_id
        self.app_public_key = public_key

    def expire_installation_tokens(self) -> None:
        with self._lock:
            for token in self.issued_tokens:
                self.issued_tokens[token] = datetime.now(UTC) - timedelta(seconds=1)

    def merge_pull(self, full_name: str, number: int, *, at: str | None = None) -> None:
        """A maintainer merges the pull request: its base branch takes the head's commit, and
        GitHub reports it `closed` with `merged_at` (the stand-in fast-forwards; the bot never merges)."""
        with self._lock:
            repo = self._repo(full_name)
            pull = repo.pulls[number]
            repo.branches[pull["base"]] = repo.branches[pull["head_ref"]]
            moment = at or _now()
            pull.update(state="closed", merged_at=moment, closed_at=moment, updated_at=moment)

    # ---------------------------------------------------------------- state views for assertions

    def repo_state(self, full_name: str) -> _Repo:
        return self._repo(full_name)

    def file_text(self, full_name: str, path: str, ref: str | None = None) -> str | None:
        repo = self._repo(full_name)
        commit = repo.commits[self._resolve_ref(repo, ref or repo.default_branch)]
        data = commit.files.get(path)
        return None if data is None else data.decode()

    def branch_sha(self, full_name: str, branch: str) -> str | None:
        return self._repo(full_name).branches.get(branch)

    # ---------------------------------------------------------------- what a maintainer does

    def close_pull(self, full_name: str, number: int, *, merge: bool = False, at: str | None = None) -> None:
        """A maintainer closes the pull request, merging it into its base first when `merge`."""
        if merge:
            self.merge_pull(full_name, number, at=at)
            return
        with self._lock:
            pull = self._repo(full_name).pulls[number]
            moment = at or _now()
            pull.update(state="closed", merged_at=None, closed_at=moment, updated_at=moment)

    # ---------------------------------------------------------------- internals

    def _repo(self, full_name: str) -> _Repo:
        try:
            return self._repos[full_name]
        except KeyError:
            raise _Reply(404, "Not Found") from None

    def _commit(self, repo: _Repo, parent: str | None, files: dict[str, bytes], message: str) -> str:
        sha = hashlib.sha1(secrets.token_bytes(16), usedforsecurity=False).hexdigest()
        repo.commits[sha] = _Commit(sha, parent, files, message)
        return sha

    def _resolve_ref(self, repo: _Repo, ref: str) -> str:
        ref = ref.removeprefix("refs/heads/")
        if ref in repo.branches:
            return repo.branches[ref]
        if ref in repo.commits:
            return ref
        raise _Reply(404, f"No commit found for the ref {ref}")

    def _is_ancestor(self, repo: _Repo, ancestor: str, sha: str) -> bool:
        current: str | None = sha
        while current is not None:
            if current == ancestor:
                return True
            current = repo.commits[current].parent
        return False

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.method == method and fault.pattern.search(path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def _check_auth(self, method: str, path: str, headers: Mapping[str, str]) -> None:
        """GitHub's rules, reduced: tokens for the API, an App JWT for the app routes."""
        value = headers.get("authorization", "")
        scheme, _, credential = value.partition(" ")
        if scheme.lower() not in ("token", "bearer") or not credential:
            raise _Reply(401, "Requires authentication")
        app_route = path.startswith("/app/") or re.fullmatch(r"/repos/[^/]+/[^/]+/installation", path)
        if app_route:
            if scheme.lower() != "bearer":
                raise _Reply(401, "A JSON web token could not be decoded")
            self._verify_jwt(credential)
            return
        if credential in self.tokens:
            return
        if path.startswith("/user/"):  # user routes take a user's token only
            if credential not in self.user_tokens:
                raise _Reply(401, "Bad credentials")
            return
        with self._lock:
            expires = self.issued_tokens.get(credential)
        if expires is None or expires <= datetime.now(UTC):
            raise _Reply(401, "Bad credentials")

    def _verify_jwt(self, token: str) -> None:
        if self.app_id is None or self.app_public_key is None:
            raise _Reply(401, "No GitHub App configured on the stand-in")
        try:
            header = jwt.get_unverified_header(token)
            if header.get("alg") != "RS256":
                raise _Reply(401, "'alg' must be RS256")
            claims = jwt.decode(
                token,
                self.app_public_key,
                algorithms=["RS256"],
                options={"require": ["iss", "iat", "exp"]},
                leeway=60,
            )
        except jwt.PyJWTError as exc:
            raise _Reply(401, f"A JSON web token could not be decoded: {exc}") from None
        if str(claims["iss"]) != str(self.app_id):
            raise _Reply(401, "'Issuer' claim ('iss') must be the App ID")
        if int(claims["exp"]) - int(claims["iat"]) > 11 * 60:
            raise _Reply(401, "'Expiration time' claim ('exp') is too far in the future")

    # ---------------------------------------------------------------- routing

    def _build_routes(self) -> list[Route]:
        repo = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"
        table: list[tuple[str, str, Callable[..., Any]]] = [
            ("GET", r"/rate_limit", self._rate_limit),
            ("GET", r"/user/installations", self._user_installations),
            ("POST", r"/app/installations/(?P<iid>\d+)/access_tokens", self._access_token),
            ("GET", r"/app/hook/deliveries", self._list_hook_deliveries),
            ("POST", r"/app/hook/deliveries/(?P<delivery_id>\d+)/attempts", self._redeliver_hook_delivery),
            ("GET", repo + r"/installation", self._repo_installation),
            ("GET", repo, self._get_repo),
            ("GET", repo + r"/branches/(?P<branch>.+)", self._get_branch),
            ("GET", repo + r"/git/ref/heads/(?P<branch>.+)", self._get_ref),
            ("POST", repo + r"/git/refs", self._create_ref),
            ("PATCH", repo + r"/git/refs/heads/(?P<branch>.+)", self._update_ref),
            ("GET", repo + r"/git/trees/(?P<sha>[^/]+)", self._get_tree),
            ("GET", repo + r"/contents/(?P<path>.+)", self._get_contents),
            ("PUT", repo + r"/contents/(?P<path>.+)", self._put_contents),
            ("GET", repo + r"/pulls", self._list_pulls),
            ("POST", repo + r"/pulls", self._create_pull),
            ("GET", repo + r"/pulls/(?P<number>\d+)", self._get_pull),
            ("PATCH", repo + r"/pulls/(?P<number>\d+)", self._update_pull),
            ("GET", repo + r"/issues", self._list_issues),
            ("POST", repo + r"/issues", self._create_issue),
            ("GET", repo + r"/issues/(?P<number>\d+)", self._get_issue),
            ("PATCH", repo + r"/issues/(?P<number>\d+)", self._update_issue),
            ("GET", repo + r"/issues/(?P<number>\d+)/comments", self._list_comments),
            ("POST", repo + r"/issues/(?P<number>\d+)/comments", self._create_comment),
            ("POST", repo + r"/actions/runs/(?P<run>\d+)/rerun-failed-jobs", self._rerun_failed),
            ("GET", repo + r"/actions/runs/(?P<run>\d+)", self._get_run),
            ("GET", repo + r"/actions/runs/(?P<run>\d+)/logs", self._run_logs),
            ("GET", repo + r"/actions/runs/(?P<run>\d+)/jobs", self._run_jobs),
            ("POST", repo + r"/actions/workflows/(?P<workflow>[^/]+)/dispatches", self._dispatch),
            ("POST", repo + r"/deployments", self._create_deployment),
            ("GET", repo + r"/deployments", self._list_deployments),
            ("POST", repo + r"/deployments/(?P<dep>\d+)/statuses", self._create_deployment_status),
            ("GET", repo + r"/deployments/(?P<dep>\d+)/statuses", self._list_deployment_statuses),
        ]
        return [(method, re.compile(pattern + r"/?"), handler) for method, pattern, handler in table]

    def handle(
        self, method: str, raw_target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Answer one request; the HTTP handler is a thin shell around this."""
        split = urlsplit(raw_target)
        raw_path = split.path
        query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        payload: Any = None
        if body:
            try:
                payload = json.loads(body)
            except ValueError:
                payload = None
        blob = re.fullmatch(r"/_blobs/(?P<key>[A-Za-z0-9_-]+)\.zip", raw_path)
        path = unquote(raw_path)
        if blob is None and self.prefix:
            path = path[len(self.prefix) :] if path.startswith(self.prefix + "/") else "\x00" + path
        status, out_headers, out_body = self._dispatch_request(method, path, query, payload, headers, blob)
        with self._lock:
            self.calls.append(Call(method, path, query, payload, headers, raw_path, status))
        return status, out_headers, out_body

    def _dispatch_request(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        payload: Any,
        headers: dict[str, str],
        blob: re.Match[str] | None,
    ) -> tuple[int, dict[str, str], bytes]:
        base_headers = {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": str(self.rate_limit_remaining),
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-GitHub-Request-Id": secrets.token_hex(8),
        }
        if blob is not None:
            # The signed storage URL: no GitHub credentials needed (nor wanted).
            with self._lock:
                data = self._blobs.get(blob.group("key"))
            if method != "GET" or data is None:
                return 404, {}, b"BlobNotFound"
            return 200, {"Content-Type": "application/zip"}, data

        fault = self._take_fault(method, path)
        if fault is not None:
            fault_body = fault.body if fault.body is not None else {"message": f"Injected {fault.status}"}
            encoded = fault_body if isinstance(fault_body, bytes) else json.dumps(fault_body).encode()
            return (
                fault.status,
                {**base_headers, "Content-Type": "application/json", **fault.headers},
                encoded,
            )

        try:
            for route_method, pattern, handler in self._routes:
                match = pattern.fullmatch(path)
                if match and route_method == method:
                    self._check_auth(method, path, headers)
                    with self._lock:
                        result = handler(query=query, body=payload or {}, headers=headers, **match.groupdict())
                    delay = self._take_slow(method, path)
                    if delay:
                        time.sleep(delay)
                    break
            else:
                raise _Reply(404, "Not Found")
        except _Reply as reply:
            error = {"message": reply.message, "documentation_url": "https://docs.github.com/rest"}
            return (
                reply.status,
                {**base_headers, "Content-Type": "application/json", **reply.headers},
                json.dumps(error).encode(),
            )
        status, data, extra = result if len(result) == 3 else (*result, {})
        if status in (204, 302):
            return status, {**base_headers, **extra}, b""
        return (
            status,
            {**base_headers, "Content-Type": "application/json", **extra},
            json.dumps(data).encode(),
        )

    # ---------------------------------------------------------------- JSON shapes

    def _repo_json(self, repo: _Repo) -> dict[str, Any]:
        return {
            "id": repo.id,
            "node_id": f"R_{repo.id}",
            "name": repo.name,
            "full_name": repo.full_name,
            "owner": {"login": repo.owner, "id": 1, "type": "Organization"},
            "private": repo.private,
            "visibility": "private" if repo.private else "public",
            "archived": repo.archived,
            "disabled": False,
            "fork": False,
            "default_branch": repo.default_branch,
            "html_url": f"https://github.example/{repo.full_name}",
            "url": f"{self.url}/repos/{repo.full_name}",
            "permissions": {"admin": False, "push": True, "pull": True},
        }

    def _ref_json(self, repo: _Repo, branch: str) -> dict[str, Any]:
        sha = repo.branches[branch]
        return {
            "ref": f"refs/heads/{branch}",
            "node_id": f"REF_{sha[:8]}",
            "url": f"{self.url}/repos/{repo.full_name}/git/refs/heads/{branch}",
            "object": {
                "sha": sha,
                "type": "commit",
                "url": f"{self.url}/repos/{repo.full_name}/git/commits/{sha}",
            },
        }

    def _pull_json(self, repo: _Repo, pull: dict[str, Any]) -> dict[str, Any]:
        head = pull["head_ref"]
        return {
            "id": pull["id"],
            "number": pull["number"],
            "state": pull["state"],
            "title": pull["title"],
            "body": pull["body"],
            "draft": pull["draft"],
            "merged": pull.get("merged_at") is not None,
            "merged_at": pull.get("merged_at"),
            "closed_at": pull.get("closed_at"),
            "user": {"login": BOT_LOGIN},
            "html_url": f"https://github.example/{repo.full_name}/pull/{pull['number']}",
            "url": f"{self.url}/repos/{repo.full_name}/pulls/{pull['number']}",
            "head": {
                "ref": head,
                "label": f"{repo.owner}:{head}",
                "sha": repo.branches.get(head, "0" * 40),
                "repo": {"full_name": repo.full_name},
            },
            "base": {
                "ref": pull["base"],
                "label": f"{repo.owner}:{pull['base']}",
                "sha": repo.branches.get(pull["base"]),
            },
            "labels": [{"name": name} for name in pull["labels"]],
            "created_at": pull["created_at"],
            "updated_at": pull["updated_at"],
        }

    def _issue_json(self, repo: _Repo, issue: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": issue["id"],
            "number": issue["number"],
            "state": issue["state"],
            "title": issue["title"],
            "body": issue["body"],
            "user": {"login": BOT_LOGIN},
            "labels": [{"name": name} for name in issue["labels"]],
            "assignees": [{"login": login} for login in issue["assignees"]],
            "comments": len(repo.comments.get(issue["number"], [])),
            "html_url": f"https://github.example/{repo.full_name}/issues/{issue['number']}",
            "url": f"{self.url}/repos/{repo.full_name}/issues/{issue['number']}",
            "created_at": issue["created_at"],
            "updated_at": issue["updated_at"],
        }

    # ---------------------------------------------------------------- handlers (called under the lock)

    def _rate_limit(self, **_: Any) -> tuple[int, Any]:
        core = {
            "limit": 5000,
            "remaining": self.rate_limit_remaining,
            "reset": int(time.time()) + 3600,
            "used": 5000 - self.rate_limit_remaining,
        }
        return 200, {"resources": {"core": core}, "rate": core}

    def add_hook_delivery(
        self,
        guid: str,
        status_code: int,
        *,
        event: str = "workflow_run",
        action: str | None = "completed",
        installation_id: int = 1,
        redelivery: bool = False,
    ) -> int:
        """Record a webhook delivery attempt GitHub made to the App; returns its numeric id."""
        delivery_id = next(self._ids)
        with self._lock:
            self.hook_deliveries.insert(
                0,
                {
                    "id": delivery_id,
                    "guid": guid,
                    "delivered_at": _now(),
                    "redelivery": redelivery,
                    "duration": 0.3,
                    "status": "OK" if 200 <= status_code < 300 else "Failed",
                    "status_code": status_code,
                    "event": event,
                    "action": action,
                    "installation_id": installation_id,
                    "repository_id": None,
                },
            )
        return delivery_id

    def _list_hook_deliveries(self, **_: Any) -> tuple[int, Any]:
        with self._lock:
            return 200, list(self.hook_deliveries)

    def _redeliver_hook_delivery(self, delivery_id: str, **_: Any) -> tuple[int, Any]:
        with self._lock:
            if not any(d["id"] == int(delivery_id) for d in self.hook_deliveries):
                raise _Reply(404, "Not Found")
            self.redelivery_requests.append(int(delivery_id))
        return 202, {}

    def _access_token(self, iid: str, **_: Any) -> tuple[int, Any]:
        known = {repo.installation_id for repo in self._repos.values()}
        if int(iid) not in known:
            raise _Reply(404, "Not Found")
        token = "ghs_" + secrets.token_urlsafe(24)
        expires = datetime.now(UTC).replace(microsecond=0) + self.token_lifetime
        self.issued_tokens[token] = expires
        return 201, {
            "token": token,
            "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "permissions": {
                "contents": "write",
                "pull_requests": "write",
                "issues": "write",
                "actions": "write",
            },
            "repository_selection": "all",
        }

    def _user_installations(
        self, query: dict[str, str], headers: dict[str, str], **_: Any
    ) -> tuple[int, Any, dict[str, str]]:
        """GitHub's `GET /user/installations`: the App's installations the token's user can access."""
        credential = headers.get("authorization", "").partition(" ")[2]
        ids = self.user_tokens[credential][1] if credential in self.user_tokens else []
        per_page = max(1, min(100, int(query.get("per_page", "30"))))
        page = max(1, int(query.get("page", "1")))
        chosen = ids[(page - 1) * per_page : page * per_page]
        owners = {repo.installation_id: repo.owner for repo in self._repos.values()}
        installations = [
            {
                "id": iid,
                "app_id": self.app_id,
                "account": {"login": owners.get(iid, "unknown"), "type": "Organization"},
                "target_type": "Organization",
                "repository_selection": "selected",
            }
            for iid in chosen
        ]
        extra: dict[str, str] = {}
        if page * per_page < len(ids):
            extra["Link"] = f'<{self.url}/user/installations?per_page={per_page}&page={page + 1}>; rel="next"'
        return 200, {"total_count": len(ids), "installations": installations}, extra

    def _repo_installation(self, owner: str, name: str, **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        return 200, {"id": repo.installation_id, "app_id": self.app_id, "account": {"login": owner}}

    def _get_repo(self, owner: str, name: str, **_: Any) -> tuple[int, Any]:
        return 200, self._repo_json(self._repo(f"{owner}/{name}"))

    def _get_branch(self, owner: str, name: str, branch: str, **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        if branch not in repo.branches:
            raise _Reply(404, "Branch not found")
        return 200, {
            "name": branch,
            "commit": {"sha": repo.branches[branch]},
            "protected": repo.is_protected(branch),
        }

    def _get_ref(self, owner: str, name: str, branch: str, **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        if branch not in repo.branches:
            raise _Reply(404, "Not Found")
        return 200, self._ref_json(repo, branch)

    def _create_ref(self, owner: str, name: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        ref, sha = str(body.get("ref", "")), str(body.get("sha", ""))
        if not ref.startswith("refs/") or ref.count("/") < 2:
            raise _Reply(422, "Reference name must start with 'refs/' and have at least two slashes.")
        if sha not in repo.commits:
            raise _Reply(422, "Object does not exist")
        branch = ref.removeprefix("refs/heads/")
        if branch in repo.branches:
            raise _Reply(422, "Reference already exists")
        repo.branches[branch] = sha
        return 201, self._ref_json(repo, branch)

    def _update_ref(self, owner: str, name: str, branch: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        if branch not in repo.branches:
            raise _Reply(422, "Reference does not exist")
        sha, force = str(body.get("sha", "")), bool(body.get("force", False))
        self.ref_updates.append({"repo": repo.full_name, "branch": branch, "sha": sha, "force": force})
        if sha not in repo.commits:
            raise _Reply(422, "Object does not exist")
        if repo.is_protected(branch):
            raise _Reply(422, "Protected branch update failed")
        if not force and not self._is_ancestor(repo, repo.branches[branch], sha):
            raise _Reply(422, "Update is not a fast forward")
        repo.branches[branch] = sha
        return 200, self._ref_json(repo, branch)

    def _get_tree(self, owner: str, name: str, sha: str, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        """GitHub's Trees API: blobs and their folders; `recursive` lists every level, else the top only."""
        repo = self._repo(f"{owner}/{name}")
        commit = self._resolve_ref(repo, sha)
        files = repo.commits[commit].files
        recursive = query.get("recursive") not in (None, "", "0", "false")
        base = f"{self.url}/repos/{owner}/{name}/git"
        folders = sorted({"/".join(path.split("/")[:end]) for path in files for end in range(1, path.count("/") + 1)})
        entries: list[dict[str, Any]] = []
        for folder in folders:
            if recursive or "/" not in folder:
                tree_sha = hashlib.sha1(f"{commit}:{folder}".encode(), usedforsecurity=False).hexdigest()
                entries.append(
                    {
                        "path": folder,
                        "mode": "040000",
                        "type": "tree",
                        "sha": tree_sha,
                        "url": f"{base}/trees/{tree_sha}",
                    }
                )
        for path, data in sorted(files.items()):
            if recursive or "/" not in path:
                blob = _blob_sha(data)
                entries.append(
                    {
                        "path": path,
                        "mode": "100644",
                        "type": "blob",
                        "sha": blob,
                        "size": len(data),
                        "url": f"{base}/blobs/{blob}",
                    }
                )
        entries.sort(key=lambda entry: entry["path"])
        return 200, {"sha": commit, "url": f"{base}/trees/{commit}", "tree": entries, "truncated": False}

    def _get_contents(self, owner: str, name: str, path: str, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        commit = repo.commits[self._resolve_ref(repo, query.get("ref") or repo.default_branch)]
        path = path.strip("/")
        data = commit.files.get(path)
        if data is None:
            prefix = path + "/"
            children = sorted({p[len(prefix) :].split("/", 1)[0] for p in commit.files if p.startswith(prefix)})
            if not children:
                raise _Reply(404, "Not Found")
            return 200, [{"type": "file", "name": child, "path": prefix + child} for child in children]
        encoded = base64.encodebytes(data).decode()  # GitHub wraps lines at 60/76 chars
        return 200, {
            "type": "file",
            "encoding": "base64",
            "size": len(data),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": _blob_sha(data),
            "content": encoded,
            "url": f"{self.url}/repos/{repo.full_name}/contents/{path}",
            "html_url": f"https://github.example/{repo.full_name}/blob/{commit.sha}/{path}",
        }

    def _put_contents(self, owner: str, name: str, path: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        path = path.strip("/")
        if "message" not in body or "content" not in body:
            raise _Reply(422, "Invalid request. message and content are required.")
        branch = str(body.get("branch") or repo.default_branch)
        if branch not in repo.branches:
            raise _Reply(404, f"Branch {branch} not found")
        if repo.is_protected(branch):
            raise _Reply(409, "Protected branch update failed")
        try:
            data = base64.b64decode(str(body["content"]), validate=True)
        except ValueError:
            raise _Reply(422, "content is not valid Base64") from None
        head = repo.branches[branch]
        files = dict(repo.commits[head].files)
        existing = files.get(path)
        given = body.get("sha")
        if existing is not None and given is None:
            raise _Reply(422, 'Invalid request. "sha" wasn\'t supplied.')
        if existing is not None and given != _blob_sha(existing):
            raise _Reply(409, f"{path} does not match {given}")
        if existing is None and given is not None:
            raise _Reply(409, f"{path} does not match {given}")
        files[path] = data
        sha = self._commit(repo, head, files, str(body["message"]))
        repo.branches[branch] = sha
        return (201 if existing is None else 200), {
            "content": {"name": path.rsplit("/", 1)[-1], "path": path, "sha": _blob_sha(data)},
            "commit": {"sha": sha, "message": body["message"]},
        }

    def _page(self, items: list[Any], query: dict[str, str]) -> list[Any]:
        per_page = min(int(query.get("per_page", "30")), 100)
        page = max(int(query.get("page", "1")), 1)
        return items[(page - 1) * per_page : page * per_page]

    def _list_pulls(self, owner: str, name: str, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        state = query.get("state", "open")
        head = query.get("head")
        base = query.get("base")
        pulls = [
            p
            for p in sorted(repo.pulls.values(), key=lambda p: -p["number"])
            if (state == "all" or p["state"] == state)
            and (head is None or f"{repo.owner}:{p['head_ref']}" == head)
            and (base is None or p["base"] == base)
        ]
        return 200, [self._pull_json(repo, p) for p in self._page(pulls, query)]

    def _create_pull(self, owner: str, name: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        head = str(body.get("head", "")).split(":", 1)[-1]
        base = str(body.get("base", ""))
        if head not in repo.branches or base not in repo.branches:
            raise _Reply(422, "Validation Failed: head or base branch not found")
        if any(p["head_ref"] == head and p["base"] == base and p["state"] == "open" for p in repo.pulls.values()):
            raise _Reply(422, f"A pull request already exists for {repo.owner}:{head}.")
        number = repo.next_number
        repo.next_number += 1
        repo.pulls[number] = {
            "id": next(self._ids),
            "number": number,
            "state": "open",
            "title": body.get("title", ""),
            "body": body.get("body"),
            "draft": bool(body.get("draft", False)),
            "head_ref": head,
            "base": base,
            "labels": [],
            "created_at": _now(),
            "updated_at": _now(),
        }
        return 201, self._pull_json(repo, repo.pulls[number])

    def _get_pull(self, owner: str, name: str, number: str, **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        pull = repo.pulls.get(int(number))
        if pull is None:
            raise _Reply(404, "Not Found")
        return 200, self._pull_json(repo, pull)

    def _update_pull(self, owner: str, name: str, number: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        pull = repo.pulls.get(int(number))
        if pull is None:
            raise _Reply(404, "Not Found")
        for key in ("title", "body", "state", "base"):
            if key in body:
                pull[key] = body[key]
        pull["updated_at"] = _now()
        if pull["state"] == "closed":
            pull["closed_at"] = pull.get("closed_at") or pull["updated_at"]
        else:
            pull["closed_at"] = None
        return 200, self._pull_json(repo, pull)

    def _list_issues(self, owner: str, name: str, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        """Like GitHub, pull requests are issues too and come back with a `pull_request` key."""
        repo = self._repo(f"{owner}/{name}")
        state = query.get("state", "open")
        wanted = {label for label in query.get("labels", "").split(",") if label}
        items: list[dict[str, Any]] = []
        for number in sorted({*repo.issues, *repo.pulls}, reverse=True):
            if number in repo.issues:
                issue = repo.issues[number]
                if (state == "all" or issue["state"] == state) and wanted <= set(issue["labels"]):
                    items.append(self._issue_json(repo, issue))
            else:
                pull = repo.pulls[number]
                if (state == "all" or pull["state"] == state) and wanted <= set(pull["labels"]):
                    data = self._pull_json(repo, pull)
                    data["pull_request"] = {"url": data["url"]}
                    items.append(data)
        return 200, self._page(items, query)

    def _create_issue(self, owner: str, name: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        if not body.get("title"):
            raise _Reply(422, "Validation Failed: title is required")
        number = repo.next_number
        repo.next_number += 1
        repo.issues[number] = {
            "id": next(self._ids),
            "number": number,
            "state": "open",
            "title": str(body["title"]),
            "body": body.get("body"),
            "labels": [str(label) for label in body.get("labels", [])],
            "assignees": [str(a) for a in body.get("assignees", [])],
            "created_at": _now(),
            "updated_at": _now(),
        }
        return 201, self._issue_json(repo, repo.issues[number])

    def _get_issue(self, owner: str, name: str, number: str, **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        issue = repo.issues.get(int(number))
        if issue is None:
            raise _Reply(404, "Not Found")
        return 200, self._issue_json(repo, issue)

    def _update_issue(self, owner: str, name: str, number: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        issue = repo.issues.get(int(number))
        if issue is None:
            raise _Reply(404, "Not Found")
        for key in ("title", "body", "state", "labels", "assignees"):
            if key in body:
                issue[key] = body[key]
        issue["updated_at"] = _now()
        return 200, self._issue_json(repo, issue)

    def _list_comments(self, owner: str, name: str, number: str, **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        return 200, list(repo.comments.get(int(number), []))

    def _create_comment(self, owner: str, name: str, number: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        if int(number) not in repo.issues and int(number) not in repo.pulls:
            raise _Reply(404, "Not Found")
        comment_id = next(self._ids)
        comment = {
            "id": comment_id,
            "body": str(body.get("body", "")),
            "user": {"login": BOT_LOGIN},
            "html_url": f"https://github.example/{repo.full_name}/issues/{number}#issuecomment-{comment_id}",
            "created_at": _now(),
        }
        repo.comments.setdefault(int(number), []).append(comment)
        return 201, comment

    def _run(self, owner: str, name: str, run: str) -> tuple[_Repo, dict[str, Any]]:
        repo = self._repo(f"{owner}/{name}")
        found = repo.runs.get(int(run))
        if found is None:
            raise _Reply(404, "Not Found")
        return repo, found

    def _rerun_failed(self, owner: str, name: str, run: str, **_: Any) -> tuple[int, Any]:
        repo, found = self._run(owner, name, run)
        if found["status"] != "completed":
            raise _Reply(403, "This workflow run is not completed")
        found["run_attempt"] += 1
        found["status"], found["conclusion"] = "queued", None
        self.reruns.append((repo.full_name, int(run)))
        return 201, {}

    def _get_run(self, owner: str, name: str, run: str, **_: Any) -> tuple[int, Any]:
        return 200, self._run(owner, name, run)[1]

    def _run_logs(self, owner: str, name: str, run: str, **_: Any) -> tuple[int, Any, dict[str, str]]:
        repo, _found = self._run(owner, name, run)
        logs = repo.run_logs.get(int(run), 404)
        if isinstance(logs, int):
            raise _Reply(logs, "Not Found" if logs == 404 else "Gone")
        key = secrets.token_urlsafe(16)
        self._blobs[key] = logs
        location = f"http://{self.logs_host}:{self.port}/_blobs/{key}.zip"
        return 302, None, {"Location": location}

    def _run_jobs(self, owner: str, name: str, run: str, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        repo, _found = self._run(owner, name, run)
        jobs = repo.jobs.get(int(run), [])
        return 200, {"total_count": len(jobs), "jobs": self._page(jobs, query)}

    def _dispatch(self, owner: str, name: str, workflow: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        ref = str(body.get("ref", ""))
        if ref.removeprefix("refs/heads/") not in repo.branches:
            raise _Reply(422, f"No ref found for: {ref}")
        repo.dispatches.append({"workflow_id": workflow, "ref": ref, "inputs": body.get("inputs") or {}})
        return 204, None

    def _create_deployment(self, owner: str, name: str, body: dict[str, Any], **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        ref = str(body.get("ref", ""))
        sha = self._resolve_ref(repo, ref) if ref else None
        if sha is None:
            raise _Reply(422, "ref is required")
        deployment_id = next(self._ids)
        deployment = {
            "id": deployment_id,
            "ref": ref,
            "sha": sha,
            "task": body.get("task", "deploy"),
            "environment": body.get("environment", "production"),
            "description": body.get("description"),
            "payload": body.get("payload", {}),
            "auto_merge": body.get("auto_merge", True),
            "required_contexts": body.get("required_contexts"),
            "creator": {"login": BOT_LOGIN},
            "created_at": _now(),
            "updated_at": _now(),
            "url": f"{self.url}/repos/{repo.full_name}/deployments/{deployment_id}",
        }
        repo.deployments[deployment_id] = deployment
        return 201, {k: v for k, v in deployment.items() if k not in ("auto_merge", "required_contexts")}

    def _list_deployments(self, owner: str, name: str, query: dict[str, str], **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        items = [
            {k: v for k, v in d.items() if k not in ("auto_merge", "required_contexts")}
            for d in sorted(repo.deployments.values(), key=lambda d: -d["id"])
            if all(query.get(key) in (None, d[key]) for key in ("environment", "ref", "sha", "task"))
        ]
        return 200, self._page(items, query)

    def _create_deployment_status(
        self, owner: str, name: str, dep: str, body: dict[str, Any], **_: Any
    ) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        if int(dep) not in repo.deployments:
            raise _Reply(404, "Not Found")
        state = body.get("state")
        if state not in ("error", "failure", "inactive", "in_progress", "queued", "pending", "success"):
            raise _Reply(422, "Validation Failed: state")
        status = {
            "id": next(self._ids),
            "state": state,
            "description": body.get("description", ""),
            "environment": body.get("environment", repo.deployments[int(dep)]["environment"]),
            "environment_url": body.get("environment_url", ""),
            "log_url": body.get("log_url", ""),
            "target_url": body.get("log_url", ""),
            "creator": {"login": BOT_LOGIN},
            "created_at": _now(),
        }
        repo.deployment_statuses.setdefault(int(dep), []).insert(0, status)
        return 201, status

    def _list_deployment_statuses(self, owner: str, name: str, dep: str, **_: Any) -> tuple[int, Any]:
        repo = self._repo(f"{owner}/{name}")
        return 200, list(repo.deployment_statuses.get(int(dep), []))


def _encode_files(files: Mapping[str, str | bytes]) -> dict[str, bytes]:
    return {path: data.encode() if isinstance(data, str) else data for path, data in files.items()}


class _Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 shell: reads the request, lets the stand-in answer, always sends Content-Length."""

    standin: GitHubStandIn
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, out_headers, out_body = self.standin.handle(self.command, self.path, headers, body)
        self.send_response(status)
        for name, value in out_headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(out_body)))
        self.end_headers()
        if self.command != "HEAD" and out_body:
            # Write in slices so a large zip really streams (the client can read while we send).
            view = memoryview(out_body)
            for start in range(0, len(view), 64 * 1024):
                self.wfile.write(view[start : start + 64 * 1024])

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet; `gh.calls` is the log."""
