"""A repository's own settings, `.github/mlops-bot.yml`, merged under the management API's.

The file lets a team configure the bot next to its code; the management API (an operator's
decision) wins where both set a key. An invalid file never silently falls back: the caller gets
the validation error to report as an incident.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from mlops_bot.drift.model_metrics import ModelThresholds
from mlops_bot.strict_json import MAX_DEPTH, finite_tree, shape_problem

CONFIG_PATH = ".github/mlops-bot.yml"

# Every setting is bounded: a repository's configuration is stored in its item (DynamoDB: 400 KB).
MAX_REFERENCE = 2048
_S3_OBJECT = re.compile(r"s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[^\x00-\x1f]+")
_WINDOWS_DRIVE = re.compile(r"[A-Za-z]:")


def _dataset_location(location: str) -> str:
    """An `s3://bucket/key` object, or a relative path inside the repository (where its CI runs).

    Where the numeric stack is installed the bot reads the location itself, so an absolute path,
    a `..` step, `~`, another scheme or a control character would read the bot's own files.
    """
    if len(location) > MAX_REFERENCE:
        raise ValueError(f"at most {MAX_REFERENCE} characters")
    if location.startswith("s3://"):
        if not _S3_OBJECT.fullmatch(location):
            raise ValueError("an s3:// location must name a bucket and a key")
        return location
    parts = location.replace("\\", "/").split("/")
    if (
        not location
        or any(ord(c) < 0x20 for c in location)
        or location.startswith(("/", "\\", "~"))
        or "://" in location
        or _WINDOWS_DRIVE.match(location)
        or ".." in parts
    ):
        raise ValueError("an s3://bucket/key object or a relative path inside the repository (no '..')")
    return location


DatasetLocation = Annotated[str, AfterValidator(_dataset_location)]
_WORKFLOW_FILE = re.compile(r"[A-Za-z0-9_.-]{1,255}")
_GIT_REF = re.compile(r"[A-Za-z0-9_./+-]{1,255}")


def workflow_name(value: str) -> str:
    """A workflow file name (`retrain.yml`, as GitHub's API takes it) or numeric id: no extra URL segments."""
    if not _WORKFLOW_FILE.fullmatch(value) or value in (".", ".."):
        raise ValueError("a workflow file name such as retrain.yml, or its numeric id")
    return value


def git_ref(value: str) -> str:
    """A branch, tag or commit as git allows its name (no `..`, no empty or dot-started component, no `.lock`)."""
    parts = value.split("/")
    if (
        not _GIT_REF.fullmatch(value)
        or ".." in value
        or any(not p or p.startswith(".") or p.endswith(".lock") for p in parts)
        or value.endswith(".")
    ):
        raise ValueError("a branch, tag or commit name as git allows it")
    return value


WorkflowName = Annotated[str, AfterValidator(workflow_name)]
GitRef = Annotated[str, AfterValidator(git_ref)]
MAX_THRESHOLD_RULES = 100

# Where the bot's Lambdas may POST a notification: Slack's incoming-webhook hosts, exactly. The
# URL is a tenant's setting and the request leaves from inside the deployment, so any other host
# (an IP literal in any notation, `localhost`, an internal name, a look-alike) would be a request
# forgery against the bot's network. Checked where the setting comes in (both documents of it:
# the management API and `.github/mlops-bot.yml`) and again right before sending.
SLACK_WEBHOOK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
MAX_SLACK_WEBHOOK_URL = 500
_VISIBLE_ASCII = re.compile(r"[\x21-\x7e]+")


def slack_webhook_problem(url: str) -> str | None:
    """Why the bot will not send to `url`, or None for a Slack incoming-webhook URL.

    The authority must be exactly one of `SLACK_WEBHOOK_HOSTS`: no user-info (`hooks.slack.com@`
    is not a host), no port, no trailing dot. Only visible ASCII without backslashes is taken, so
    every URL parser (this one, the HTTP client's) reads the same host.
    """
    if len(url) > MAX_SLACK_WEBHOOK_URL:
        return f"at most {MAX_SLACK_WEBHOOK_URL} characters"
    if not _VISIBLE_ASCII.fullmatch(url) or "\\" in url:
        return "only visible ASCII characters, without spaces or backslashes"
    parts = urlsplit(url)
    if parts.scheme != "https":
        return "an https:// URL is required"
    if parts.netloc.lower() not in SLACK_WEBHOOK_HOSTS or not parts.path.startswith("/"):
        return f"must be a Slack incoming-webhook URL (https://{'/ or https://'.join(sorted(SLACK_WEBHOOK_HOSTS))}/)"
    return None


def _slack_webhook_url(url: str) -> str:
    problem = slack_webhook_problem(url)
    if problem:
        raise ValueError(problem)
    return url


SlackWebhookUrl = Annotated[str, AfterValidator(_slack_webhook_url)]

# One plain address per recipient (RFC 5322 dot-atom at a DNS name): no display name, no list,
# no CR/LF. SES takes each entry as one destination, so "a@x, b@y" would be two.
_EMAIL_ADDRESS = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
MAX_EMAIL_ADDRESS = 254


def email_address_problem(address: str) -> str | None:
    """Why `address` is not one plain e-mail address, or None."""
    if len(address) > MAX_EMAIL_ADDRESS:
        return f"at most {MAX_EMAIL_ADDRESS} characters"
    if not _EMAIL_ADDRESS.fullmatch(address):
        return "one plain address (name@example.com) per entry, without a display name or separators"
    return None


def _email_address(address: str) -> str:
    problem = email_address_problem(address)
    if problem:
        raise ValueError(problem)
    return address


EmailAddress = Annotated[str, AfterValidator(_email_address)]


def _model_thresholds(value: dict[str, Any]) -> dict[str, Any]:
    """Finite numbers only, a bounded number of rules, and a shape the model-metrics check accepts."""
    finite_tree(value, "model_thresholds")
    rules = value.get("metrics")
    if isinstance(rules, dict) and len(rules) > MAX_THRESHOLD_RULES:
        raise ValueError(f"model_thresholds.metrics: at most {MAX_THRESHOLD_RULES} rules")
    ModelThresholds.model_validate(value)
    return value


# Stored as given (the model-metrics check reads it with `ModelThresholds`), validated on the way in.
ModelThresholdsSetting = Annotated[dict[str, Any], AfterValidator(_model_thresholds)]


class DriftSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    reference: DatasetLocation | None = Field(default=None, description="s3://bucket/key or a path in the repository")
    current: DatasetLocation | None = Field(default=None, description="s3://bucket/key or a path in the repository")
    test: Literal["auto", "ks", "psi", "wasserstein", "jensenshannon", "chisquare"] = "auto"
    drift_share: float = Field(default=0.5, ge=0, le=1)
    retrain_workflow: WorkflowName | None = Field(default=None, description="workflow file or id to dispatch on drift")
    check_workflow: WorkflowName | None = Field(
        default=None,
        description="workflow that runs `mlops-bot drift` and posts the report, where the bot cannot compute it",
    )


class RepositoryFileConfig(BaseModel):
    """The schema of `.github/mlops-bot.yml`; unknown keys are errors, so typos surface."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    auto_fix_enabled: bool | None = None
    notification_channels: list[Literal["slack", "email"]] | None = None
    slack_webhook_url: SlackWebhookUrl | None = None
    email_recipients: list[EmailAddress] | None = Field(default=None, max_length=20)
    detection_sensitivity: Literal["low", "medium", "high"] | None = None
    custom_playbooks: list[Annotated[str, StringConstraints(max_length=64)]] | None = Field(default=None, max_length=20)
    drift: DriftSettings | None = None
    model_thresholds: ModelThresholdsSetting | None = None
    lock_refresh_workflow: WorkflowName | None = Field(
        default=None,
        description="workflow dispatched on a fix branch to refresh lock files beside an edited file",
    )


# The file's values counted as the models will walk them, each alias as a full copy of its anchor;
# a real configuration has a few dozen. Bounds the work a few hundred bytes of aliases could cause.
MAX_FILE_VALUES = 10_000


class ConfigProblem(BaseModel):
    path: str = CONFIG_PATH
    errors: list[str]


def parse(text: str) -> RepositoryFileConfig | ConfigProblem:
    import yaml  # when a file is parsed, not at import (the management API only needs the models)

    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        return ConfigProblem(errors=[f"not valid YAML: {exc}"])
    except RecursionError:  # the YAML composer recurses once per level
        return ConfigProblem(errors=[f"the file is nested too deeply: at most {MAX_DEPTH} levels"])
    if not isinstance(document, dict):
        return ConfigProblem(errors=["the file must be a mapping of settings"])
    shape = shape_problem(document, max_values=MAX_FILE_VALUES)
    if shape:
        return ConfigProblem(errors=[f"the file is {shape} (each alias counted in full)"])
    try:
        return RepositoryFileConfig.model_validate(document)
    except ValidationError as exc:
        return ConfigProblem(errors=[f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()])


def merged(file_config: RepositoryFileConfig | None, api_config: dict[str, Any]) -> dict[str, Any]:
    """The file's settings with the management API's on top (the API wins key by key)."""
    base = file_config.model_dump(exclude_none=True, mode="json") if file_config else {}
    result = dict(base)
    for key, value in api_config.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = {**result[key], **value}
        elif value is not None:
            result[key] = value
    return result
