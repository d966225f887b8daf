"""The whole local stack in one object: embedded AWS, provisioned resources, gateway, pollers."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import secrets
import socket
import threading
import time
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from mlops_bot.local.pollers import QueuePoller
from mlops_bot.local.runtime import LocalFunctions, install_moto_hook
from mlops_bot.local.streams import StreamPoller, stream_sources
from mlops_bot.local.template import Template
from mlops_bot.local.websocket import MANAGEMENT_PREFIX, LocalWebSocketApi, websocket_apis

if TYPE_CHECKING:
    from mlops_bot.local.sandbox import GitHubSandbox
    from mlops_bot.local.state import PeriodicSnapshots
    from mlops_bot.stores.incidents import Incident

log = logging.getLogger("mlops_bot.local")

REGION = "us-east-1"
ACCOUNT = "123456789012"
DEFAULT_WEBHOOK_SECRET = "local-webhook-secret"  # noqa: S105 - printed at start, for local use only
DASHBOARD_WEBSOCKET_PATH = "/ws/dashboard"  # the spec's path for the dashboard's WebSocket API


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def _truthy(value: str | None, default: bool, name: str = "the setting") -> bool:
    """A boolean variable; a word that is neither (`ture`) is an error, never quietly false."""
    if value is None or value == "":
        return default
    word = value.strip().lower()
    if word not in TRUE_WORDS | FALSE_WORDS:
        raise ValueError(f"{name}={value!r} is not a boolean (use true or false)")
    return word in TRUE_WORDS


def _reset_moto() -> None:
    """moto's backends and powertools' parameter providers are process-wide: forget both."""
    from aws_lambda_powertools.utilities.parameters import base
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()
    base.DEFAULT_PROVIDERS.clear()  # type: ignore[attr-defined]


@dataclass
class StackConfig:
    """What `make run` and the tests can change; defaults come from the environment."""

    template_path: Path = Path("template.yaml")
    host: str = "127.0.0.1"
    port: int = 8080
    webhook_secret: str = DEFAULT_WEBHOOK_SECRET
    bootstrap_api_key: str | None = None
    auto_enroll: bool = True
    dry_run: bool | None = None
    github_api_url: str | None = None
    github_token: str | None = None
    visibility_timeout: int = 5
    name_prefix: str = "mlops-bot-local"
    extra_environment: dict[str, str] = field(default_factory=dict)
    # The embedded GitHub sandbox (mlops_bot.local.sandbox) instead of a real GitHub: `make run`'s
    # default when no GitHub credentials are set.
    sandbox: bool = False
    # Where state survives a restart (mlops_bot.local.state); None keeps everything in memory.
    state_dir: Path | None = None
    snapshot_interval: float = 5.0
    # At stop, how long to let running playbook executions finish before the last snapshot (moto's
    # Step Functions executions live in memory only; one parked on a task token is not waited for).
    drain_seconds: float = 20.0

    @staticmethod
    def github_credentials_in(env: Any) -> bool:
        return bool(env.get("GITHUB_TOKEN") or (env.get("GITHUB_APP_ID") and env.get("GITHUB_APP_PRIVATE_KEY")))

    @classmethod
    def from_environment(cls, template_path: Path | None = None) -> StackConfig:
        env = os.environ
        dry_run = env.get("MLOPS_BOT_DRY_RUN")
        return cls(
            template_path=template_path or Path(env.get("MLOPS_BOT_TEMPLATE", "template.yaml")),
            host=env.get("HOST", "127.0.0.1"),
            port=int(env.get("PORT", "8080")),
            webhook_secret=env.get("GITHUB_WEBHOOK_SECRET") or DEFAULT_WEBHOOK_SECRET,
            bootstrap_api_key=env.get("MLOPS_BOT_BOOTSTRAP_API_KEY") or None,
            auto_enroll=_truthy(env.get("MLOPS_BOT_AUTO_ENROLL"), True, "MLOPS_BOT_AUTO_ENROLL"),
            dry_run=None if dry_run in (None, "") else _truthy(dry_run, True, "MLOPS_BOT_DRY_RUN"),
            github_api_url=env.get("GITHUB_API_URL") or None,
            github_token=env.get("GITHUB_TOKEN") or None,
            visibility_timeout=int(env.get("MLOPS_BOT_LOCAL_VISIBILITY_TIMEOUT", "5")),
            sandbox=_truthy(env.get("MLOPS_BOT_SANDBOX"), not cls.github_credentials_in(env), "MLOPS_BOT_SANDBOX"),
            state_dir=None if env.get("MLOPS_BOT_STATE_DIR") == "" else _state_dir(env),
            snapshot_interval=float(env.get("MLOPS_BOT_LOCAL_SNAPSHOT_SECONDS", "5")),
        )


def _state_dir(env: Any) -> Path:
    from mlops_bot.local.state import DEFAULT_STATE_DIR

    return Path(env.get("MLOPS_BOT_STATE_DIR") or DEFAULT_STATE_DIR)


class LocalStack:
    """Start with `start()` (or `with LocalStack(config) as stack:`); `stop()` undoes everything."""

    def __init__(self, config: StackConfig) -> None:
        self.config = config
        self.template = Template.load(config.template_path)
        self.functions = LocalFunctions(self.template.functions(), config.name_prefix, REGION, ACCOUNT)
        self.physical: dict[str, dict[str, str]] = {}
        self.parameters: dict[str, str] = {}
        self.pollers: list[QueuePoller] = []
        self.stream_pollers: list[StreamPoller] = []  # DynamoDB stream event sources (issue 6)
        self.websocket_apis: list[LocalWebSocketApi] = []
        self.moto_port = free_port()
        self._moto: Any = None
        self._gateway: Any = None
        self._gateway_thread: threading.Thread | None = None
        # The WebSocket management endpoint listens apart from the public port, on loopback only.
        self.management_port = free_port()
        self._management: Any = None
        self._management_thread: threading.Thread | None = None
        self._undo_hook: Any = None
        self._saved_env: dict[str, str | None] = {}
        self.sandbox: GitHubSandbox | None = None
        self.local_api_key: str | None = None  # generated for the sandbox when no bootstrap key is set
        self.restored: dict[str, int] | None = None  # what came back from the state directory
        self._snapshots: PeriodicSnapshots | None = None
        self._snapshot_lock = threading.Lock()
        self.started = False

    # ---------------------------------------------------------------- URLs
    @property
    def moto_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.config.port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.url}/webhooks/github"

    @property
    def _loopback_url(self) -> str:
        host = "127.0.0.1" if self.config.host in ("", "0.0.0.0", "::") else self.config.host  # noqa: S104
        return f"http://{host}:{self.config.port}"

    @property
    def websocket_url(self) -> str:
        """The dashboard WebSocket (the spec's `/ws/dashboard`)."""
        return self._loopback_url.replace("http://", "ws://", 1) + DASHBOARD_WEBSOCKET_PATH

    @property
    def websocket_endpoint(self) -> str:
        """The local stand-in for the WebSocket API's management endpoint (`.../{stage}`)."""
        specs = websocket_apis(self.template)
        stage = str(self.resolve(specs[0].stage_name)) if specs and specs[0].stage_name else "local"
        return f"http://127.0.0.1:{self.management_port}{MANAGEMENT_PREFIX}/{stage}"

    def _local_environment(self) -> dict[str, str]:
        """Variables whose template value names resources that exist only in AWS (the WebSocket API)."""
        return {"MLOPS_BOT_WEBSOCKET_ENDPOINT": self.websocket_endpoint, "MLOPS_BOT_DASHBOARD_WEBSOCKET_URL": ""}

    # ---------------------------------------------------------------- lifecycle
    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        try:
            self._start_sandbox()
            self._start_aws()
            self._provision()
            self._restore_state()
            self._configure_functions()
            self._undo_hook = install_moto_hook(self.functions)
            self._bootstrap()
            self._enroll_sandbox()
            self._resume_verifications()
            self._start_pollers()
            self._start_gateway()
        except BaseException:
            self.stop()
            raise
        self.started = True
        self._start_snapshots()

    def stop(self) -> None:
        if self._snapshots is not None:
            self._snapshots.stop()
            self._snapshots.join(timeout=10)
            self._snapshots = None
        # The gateway first: nothing is accepted after this, so the last snapshot holds every 202.
        if self._gateway is not None:
            self._gateway.should_exit = True
            if self._gateway_thread is not None:
                self._gateway_thread.join(timeout=10)
            self._gateway = None
        for stream_poller in self.stream_pollers:
            stream_poller.stop()
        for stream_poller in self.stream_pollers:
            stream_poller.join(timeout=5)
        self.stream_pollers = []
        for poller in self.pollers:
            poller.stop()
        for poller in self.pollers:
            poller.join(timeout=5)
        self.pollers = []
        if self.started and self.config.state_dir is not None:
            self._drain_playbooks(self.config.drain_seconds)
            self.save_state()
        if self._management is not None:
            self._management.should_exit = True
            if self._management_thread is not None:
                self._management_thread.join(timeout=10)
            self._management = None
        if self._undo_hook is not None:
            self._undo_hook()
            self._undo_hook = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None
            _reset_moto()
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None
        for name, value in self._saved_env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_env = {}
        from mlops_bot.config import reset_settings

        reset_settings()
        self.started = False

    def _setenv(self, name: str, value: str) -> None:
        if name not in self._saved_env:
            self._saved_env[name] = os.environ.get(name)
        os.environ[name] = value

    # ---------------------------------------------------------------- AWS
    def _start_aws(self) -> None:
        from moto.core.config import default_user_config
        from moto.server import ThreadedMotoServer

        _reset_moto()  # moto's backends are process-wide: start from nothing
        default_user_config["stepfunctions"] = {"execute_state_machine": True}
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._moto = ThreadedMotoServer(ip_address="127.0.0.1", port=self.moto_port, verbose=False)
        self._moto.start()
        for name, value in {
            "AWS_ENDPOINT_URL": self.moto_url,
            "MOTO_PORT": str(self.moto_port),  # moto's Step Functions interpreter calls Lambda here
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": REGION,
            "AWS_REGION": REGION,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_DEV": "false",
        }.items():
            self._setenv(name, value)

    def client(self, service: str) -> Any:
        return boto3.client(service, endpoint_url=self.moto_url, region_name=REGION)  # type: ignore[call-overload]

    # ---------------------------------------------------------------- template resolution
    def _param_values(self) -> dict[str, str]:
        values = self.template.parameter_defaults()
        values.update({"Stage": "local", "AutoEnroll": "true" if self.config.auto_enroll else "false"})
        if self.config.dry_run is not None:
            values["DryRun"] = "true" if self.config.dry_run else "false"
        elif self.config.github_token:
            values["DryRun"] = "false"
        if self.config.github_api_url:
            values["GitHubApiUrl"] = self.config.github_api_url
        return values

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            return self._ref(str(value["Ref"]))
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            return self._attribute(str(logical_id), str(attribute))
        if "Fn::Sub" in value:
            return self._sub(value["Fn::Sub"])
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return str(separator).join(str(self.resolve(p)) for p in parts)
        return {k: self.resolve(v) for k, v in value.items()}

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Region": REGION,
            "AWS::AccountId": ACCOUNT,
            "AWS::StackName": self.config.name_prefix,
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::Partition": "aws",
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.parameters:
            return self.parameters[name]
        if name in self.physical:
            return self.physical[name]["Ref"]
        raise KeyError(f"template reference to {name!r} cannot be resolved locally")

    def _attribute(self, logical_id: str, attribute: str) -> str:
        try:
            return self.physical[logical_id][attribute]
        except KeyError as exc:
            raise KeyError(f"{logical_id}.{attribute} is not provisioned locally") from exc

    def _sub(self, spec: Any) -> str:
        template, variables = (spec, {}) if isinstance(spec, str) else (spec[0], spec[1])

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name:
                logical_id, attribute = name.split(".", 1)
                return self._attribute(logical_id, attribute)
            return self._ref(name)

        return re.sub(r"\$\{([^}!]+)\}", replace, str(template))

    # ---------------------------------------------------------------- provisioning
    def _provision(self) -> None:
        self.parameters = self._param_values()
        resources = self.template.resources
        order = [
            "AWS::DynamoDB::Table",
            "AWS::SQS::Queue",
            "AWS::SecretsManager::Secret",
            "AWS::KMS::Key",
            "AWS::Serverless::Function",
            "AWS::Serverless::StateMachine",
        ]
        for resource_type in order:
            pending = {k: v for k, v in resources.items() if v.get("Type") == resource_type}
            while pending:  # queues refer to their dead-letter queues: provision dependencies first
                progressed = False
                for logical_id, resource in list(pending.items()):
                    try:
                        self._create(logical_id, resource_type, resource.get("Properties", {}))
                    except KeyError:
                        continue
                    del pending[logical_id]
                    progressed = True
                if not progressed:
                    raise RuntimeError(f"cannot provision {sorted(pending)}: unresolved references")

    def _name(self, logical_id: str) -> str:
        return f"{self.config.name_prefix}-{logical_id}"

    def _create(self, logical_id: str, resource_type: str, props: dict[str, Any]) -> None:
        name = self._name(logical_id)
        if resource_type == "AWS::DynamoDB::Table":
            self._create_table(logical_id, name, props)
        elif resource_type == "AWS::SQS::Queue":
            attributes: dict[str, str] = {}
            if "RedrivePolicy" in props:
                attributes["RedrivePolicy"] = json.dumps(self.resolve(props["RedrivePolicy"]))
            for key in ("VisibilityTimeout", "MessageRetentionPeriod"):
                if key in props:
                    attributes[key] = str(props[key])
            sqs = self.client("sqs")
            url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self.physical[logical_id] = {"Ref": url, "Arn": arn, "QueueName": name}
        elif resource_type == "AWS::SecretsManager::Secret":
            value = self._secret_value(logical_id, props)
            arn = self.client("secretsmanager").create_secret(Name=name, SecretString=value)["ARN"]
            self.physical[logical_id] = {"Ref": arn, "Id": arn}
        elif resource_type == "AWS::KMS::Key":
            key = self.client("kms").create_key(
                Description=str(props.get("Description", name)),
                KeySpec=str(props.get("KeySpec", "SYMMETRIC_DEFAULT")),
                KeyUsage=str(props.get("KeyUsage", "ENCRYPT_DECRYPT")),
            )["KeyMetadata"]
            self.physical[logical_id] = {"Ref": key["KeyId"], "Arn": key["Arn"], "KeyId": key["KeyId"]}
        elif resource_type == "AWS::Serverless::Function":
            self._create_function(logical_id, name)
        elif resource_type == "AWS::Serverless::StateMachine":
            self._create_state_machine(logical_id, name, props)

    def _secret_value(self, logical_id: str, props: dict[str, Any]) -> str:
        if "GenerateSecretString" in props:
            if logical_id == "WebhookSecret":  # the one GitHub signs with, printed at start
                return self.config.webhook_secret
            return secrets.token_urlsafe(48)  # any other generated secret (the JWT signing key)
        if self.config.github_token and logical_id == "GitHubCredentialsSecret":
            return json.dumps({"token": self.config.github_token})
        return str(props.get("SecretString", "{}"))

    def _create_table(self, logical_id: str, name: str, props: dict[str, Any]) -> None:
        ddb = self.client("dynamodb")
        kwargs: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            kwargs["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        description = ddb.create_table(**kwargs)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        self.physical[logical_id] = {
            "Ref": name,
            "Arn": description["TableArn"],
            "StreamArn": description.get("LatestStreamArn", ""),
        }

    def _role_arn(self) -> str:
        if "_Role" not in self.physical:
            trust = {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Service": ["lambda.amazonaws.com", "states.amazonaws.com"]},
                    }
                ],
            }
            arn = self.client("iam").create_role(
                RoleName=f"{self.config.name_prefix}-role", AssumeRolePolicyDocument=json.dumps(trust)
            )["Role"]["Arn"]
            self.physical["_Role"] = {"Ref": arn, "Arn": arn}
        return self.physical["_Role"]["Arn"]

    def _create_function(self, logical_id: str, name: str) -> None:
        spec = self.functions.specs[logical_id]
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as bundle:
            bundle.writestr("README.txt", "Runs in process through the local stack's moto hook.")
        arn = self.client("lambda").create_function(
            FunctionName=name,
            Runtime="python3.11",
            Role=self._role_arn(),
            Handler=spec.handler,
            Code={"ZipFile": archive.getvalue()},
            Timeout=spec.timeout,
            MemorySize=spec.memory,
        )["FunctionArn"]
        self.physical[logical_id] = {"Ref": name, "Arn": arn}

    def _create_state_machine(self, logical_id: str, name: str, props: dict[str, Any]) -> None:
        definition = (self.template.root / props["DefinitionUri"]).read_text()
        substitutions = {k: str(self.resolve(v)) for k, v in props.get("DefinitionSubstitutions", {}).items()}
        for key, value in substitutions.items():
            definition = definition.replace("${" + key + "}", value)
        arn = self.client("stepfunctions").create_state_machine(
            name=name, definition=definition, roleArn=self._role_arn(), type=props.get("Type", "STANDARD")
        )["stateMachineArn"]
        self.physical[logical_id] = {"Ref": arn, "Arn": arn, "Name": name}

    # ---------------------------------------------------------------- functions
    def function_environment(self) -> dict[str, str]:
        """The union of all functions' variables: they share one process, so names must agree."""
        merged: dict[str, str] = {}
        local = self._local_environment()
        for spec in self.functions.specs.values():
            for key, raw in spec.environment.items():
                value = local[key] if key in local else str(self.resolve(raw))
                if merged.get(key, value) != value:
                    raise RuntimeError(f"functions disagree on {key}; give it a unique name in template.yaml")
                merged[key] = value
        return merged

    def _configure_functions(self) -> None:
        for key, value in {**self.function_environment(), **self.config.extra_environment}.items():
            self._setenv(key, value)
        if self.config.github_token:
            self._setenv("GITHUB_TOKEN", self.config.github_token)
        # Handlers must read the secret from Secrets Manager, as in AWS, not from the shell.
        self._setenv("GITHUB_WEBHOOK_SECRET", "")
        from mlops_bot.config import reset_settings

        reset_settings()
        for logical_id in self.functions.specs:
            self.functions.load(logical_id)

    def _bootstrap(self) -> None:
        api_key = self.config.bootstrap_api_key or self.local_api_key
        if not api_key:
            return
        from mlops_bot.access.api_keys import ApiKeyStores, ensure_bootstrap_key
        from mlops_bot.adapters.dynamodb import StateTable
        from mlops_bot.config import get_settings
        from mlops_bot.stores.api_keys import DynamoApiKeyStore
        from mlops_bot.stores.tenants import DynamoTenantStore

        table = StateTable(get_settings().table_name)
        ensure_bootstrap_key(ApiKeyStores(DynamoApiKeyStore(table), DynamoTenantStore(table)), api_key)

    # ---------------------------------------------------------------- GitHub sandbox
    def _start_sandbox(self) -> None:
        """Serve the sandbox GitHub on loopback and point the functions at it (`config.sandbox`)."""
        if not self.config.sandbox:
            return
        from mlops_bot.local.sandbox import GitHubSandbox
        from mlops_bot.local.state import SANDBOX_SNAPSHOT, local_api_key

        token = "ghs_sandbox_" + secrets.token_urlsafe(18)
        sandbox = GitHubSandbox(token)
        if self.config.state_dir is not None:
            sandbox.load(self.config.state_dir / SANDBOX_SNAPSHOT)
        sandbox.start()
        sandbox.seed()
        self.sandbox = sandbox
        self.config = replace(self.config, github_api_url=sandbox.url, github_token=token)
        if not self.config.bootstrap_api_key:
            state_dir = self.config.state_dir
            self.local_api_key = local_api_key(state_dir) if state_dir else "mlb_local_" + secrets.token_urlsafe(24)

    def _enroll_sandbox(self) -> None:
        """The demo repositories belong to the `default` tenant, as if its App were installed on them."""
        if self.sandbox is None:
            return
        from mlops_bot.adapters.dynamodb import StateTable
        from mlops_bot.config import get_settings
        from mlops_bot.local.sandbox import DEMO_REPOSITORIES, INSTALLATION_ID
        from mlops_bot.storage import keys
        from mlops_bot.stores.repositories import DynamoRepositoryStore
        from mlops_bot.tenancy.service import enroll_repository, register_installation

        repositories = DynamoRepositoryStore(StateTable(get_settings().table_name))
        register_installation(repositories, keys.DEFAULT_TENANT, INSTALLATION_ID)
        for demo in DEMO_REPOSITORIES:
            enroll_repository(repositories, keys.DEFAULT_TENANT, demo.full_name, source="sandbox")

    # ---------------------------------------------------------------- state across restarts
    def _restore_state(self) -> None:
        if self.config.state_dir is None:
            return
        from mlops_bot.local.state import load_aws_snapshot, restore_aws_snapshot

        snapshot = load_aws_snapshot(self.config.state_dir)
        if snapshot is not None:
            self.restored = restore_aws_snapshot(snapshot, self.client, self.physical, ACCOUNT, REGION)

    def _resume_verifications(self) -> None:
        """Give restored `verifying` incidents a waiting playbook again.

        moto's Step Functions executions do not survive a restart, so the task token a restored
        incident holds is dead. For each one, the playbook's own definition is started again at its
        `.waitForTaskToken` state (a `<name>-resume` copy whose only change is `StartAt`), with the
        state it had there, so the proving run still resolves (or fails) the incident.
        """
        if self.restored is None:
            return
        from mlops_bot.adapters.dynamodb import StateTable
        from mlops_bot.config import get_settings

        settings = get_settings()
        table = StateTable(self.table_name())
        scanned: list[dict[str, Any]] = table.table.scan(
            FilterExpression="#e = :incident AND #s = :verifying",
            ExpressionAttributeNames={"#e": "entity", "#s": "status"},
            ExpressionAttributeValues={":incident": "incident", ":verifying": "verifying"},
        ).get("Items", [])
        waiting = [item for item in scanned if (item.get("verification") or {}).get("task_token")]
        sfn = self.client("stepfunctions")
        resumable: dict[str, str] = {}
        for incident in waiting:
            playbook = str(incident.get("playbook") or "")
            arn = settings.playbook_state_machines.get(playbook)
            if not arn:
                continue
            if playbook not in resumable:
                resumable[playbook] = self._resume_state_machine(sfn, arn)
            verification = incident["verification"]
            actions = incident.get("actions_taken") or []
            state = {
                "tenant_id": incident["tenant_id"],
                "incident_id": incident["id"],
                "playbook": playbook,
                "dry_run": settings.dry_run,
                "reason": "resumed",
                "correlation_id": (incident.get("metadata") or {}).get("delivery_id"),
                "planned": {
                    "value": {
                        "action": actions[-1].get("action") if actions else None,
                        "verify": True,
                        "attempt": int(verification.get("attempt") or 1),
                    }
                },
                "executed": {
                    "value": {
                        "status": "done",
                        "verify": True,
                        "branch": verification.get("branch"),
                        "run_id": None if verification.get("run_id") is None else int(verification["run_id"]),
                    }
                },
            }
            sfn.start_execution(
                stateMachineArn=resumable[playbook],
                name=f"{incident['id']}-resumed-{secrets.token_hex(4)}"[:80],
                input=json.dumps(state, default=str),
            )
            log.info("resumed the verification of incident %s", incident["id"])

    def _resume_state_machine(self, sfn: Any, arn: str) -> str:
        described = sfn.describe_state_machine(stateMachineArn=arn)
        definition = json.loads(described["definition"])
        waits = [k for k, v in definition["States"].items() if str(v.get("Resource", "")).endswith(".waitForTaskToken")]
        definition["StartAt"] = waits[0]
        created = sfn.create_state_machine(
            name=f"{described['name']}-resume"[:80], definition=json.dumps(definition), roleArn=self._role_arn()
        )
        return str(created["stateMachineArn"])

    def save_state(self) -> None:
        """Snapshot the embedded AWS and the sandbox into the state directory (no-op without one)."""
        if self.config.state_dir is None or self._moto is None:
            return
        from mlops_bot.local.state import SANDBOX_SNAPSHOT, save_aws_snapshot, take_aws_snapshot

        with self._snapshot_lock:
            snapshot = take_aws_snapshot(self.client, self.physical, ACCOUNT, REGION)
            save_aws_snapshot(snapshot, self.config.state_dir)
            if self.sandbox is not None:
                self.sandbox.save(self.config.state_dir / SANDBOX_SNAPSHOT)

    def _drain_playbooks(self, timeout: float) -> None:
        """Wait (bounded) until every running playbook execution is parked on a task token."""
        deadline = time.monotonic() + timeout
        try:
            sfn = self.client("stepfunctions")
            arns = [r["Arn"] for r in self.physical.values() if ":stateMachine:" in r.get("Arn", "")]
            while True:
                running = [
                    execution["executionArn"]
                    for arn in arns
                    for execution in sfn.list_executions(stateMachineArn=arn, statusFilter="RUNNING")["executions"]
                ]
                busy = [arn for arn in running if not self._parked(sfn, arn)]
                if not busy:
                    return
                if time.monotonic() >= deadline:
                    log.warning("stopping with %d playbook execution(s) still running; they are not resumed", len(busy))
                    return
                time.sleep(0.2)
        except Exception:
            log.exception("could not wait for running playbooks; stopping anyway")

    def _parked(self, sfn: Any, execution_arn: str) -> bool:
        """True when the execution waits for a verifying run (its incident holds the task token)."""
        document = json.loads(sfn.describe_execution(executionArn=execution_arn).get("input") or "{}")
        tenant_id, incident_id = document.get("tenant_id"), document.get("incident_id")
        if not tenant_id or not incident_id:
            return True  # not a playbook of an incident: nothing to wait for
        from mlops_bot.adapters.dynamodb import StateTable
        from mlops_bot.stores.incidents import DynamoIncidentStore, IncidentStatus

        incident = DynamoIncidentStore(StateTable(self.table_name())).get(str(tenant_id), str(incident_id))
        return (
            incident is not None
            and incident.status is IncidentStatus.VERIFYING
            and incident.verification is not None
            and bool(incident.verification.task_token)
        )

    def _start_snapshots(self) -> None:
        if self.config.state_dir is None or self.config.snapshot_interval <= 0:
            return
        from mlops_bot.local.state import PeriodicSnapshots

        self._snapshots = PeriodicSnapshots(self.save_state, self.config.snapshot_interval)
        self._snapshots.start()

    def _start_pollers(self) -> None:
        sqs = self.client("sqs")
        for source in self.template.queue_sources():
            queue = self.physical[source.queue]
            poller = QueuePoller(
                sqs=sqs,
                functions=self.functions,
                logical_id=source.function,
                queue_url=queue["Ref"],
                queue_arn=queue["Arn"],
                batch_size=source.batch_size,
                report_failures=source.report_failures,
                visibility_timeout=self.config.visibility_timeout,
                region=REGION,
            )
            poller.start()
            self.pollers.append(poller)
        streams = self.client("dynamodbstreams")
        for stream_source in stream_sources(self.template):
            stream_poller = StreamPoller(
                streams, self.functions, stream_source, str(self.resolve(stream_source.stream)), REGION
            )
            stream_poller.prime()
            stream_poller.start()
            self.stream_pollers.append(stream_poller)

    def _start_gateway(self) -> None:
        import uvicorn

        from mlops_bot.local.gateway import create_gateway, create_management_endpoint

        self.websocket_apis = [
            LocalWebSocketApi(
                spec,
                self.functions,
                stage=str(self.resolve(spec.stage_name)) if spec.stage_name else "local",
                path=DASHBOARD_WEBSOCKET_PATH if index == 0 else f"/ws/{spec.logical_id}",
            )
            for index, spec in enumerate(websocket_apis(self.template))
        ]
        extra_routes = [route for api in self.websocket_apis for route in api.starlette_routes()]
        if self.sandbox is not None:
            from mlops_bot.local.sandbox_page import sandbox_routes

            extra_routes += sandbox_routes(self.sandbox, self.stored_incident)
        app = create_gateway(self.template.http_routes(), self.functions, extra_routes)
        config = uvicorn.Config(
            app,
            host=self.config.host,
            port=self.config.port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._gateway = uvicorn.Server(config)
        self._gateway_thread = threading.Thread(target=self._gateway.run, name="gateway", daemon=True)
        self._gateway_thread.start()
        deadline = time.monotonic() + 20
        while not self._gateway.started:
            if not self._gateway_thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the local gateway could not listen on {self.url}")
            time.sleep(0.05)
        management = uvicorn.Config(
            create_management_endpoint(extra_routes),
            host="127.0.0.1",
            port=self.management_port,
            log_level="warning",
            lifespan="off",
            access_log=False,
        )
        self._management = uvicorn.Server(management)
        self._management_thread = threading.Thread(target=self._management.run, name="ws-management", daemon=True)
        self._management_thread.start()
        while not self._management.started:
            if not self._management_thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the local WebSocket management endpoint could not listen")
            time.sleep(0.05)

    # ---------------------------------------------------------------- inspection
    def read_incident(self, repository: str, incident_id: str) -> dict[str, Any] | None:
        """The incident (as the API shows it), from the tenant the repository belongs to."""
        incident = self.stored_incident(repository, incident_id)
        return incident.model_dump(mode="json") if incident else None

    def stored_incident(self, repository: str, incident_id: str) -> Incident | None:
        """The stored incident, from the tenant the repository belongs to (through the incident store)."""
        from mlops_bot.adapters.dynamodb import StateTable
        from mlops_bot.storage.keys import DEFAULT_TENANT
        from mlops_bot.stores.incidents import DynamoIncidentStore
        from mlops_bot.stores.repositories import DynamoRepositoryStore

        table = StateTable(self.table_name())
        tenant = DynamoRepositoryStore(table).repository_owner(repository) or DEFAULT_TENANT
        return DynamoIncidentStore(table).get(tenant, incident_id)

    def queue_url(self, logical_id: str) -> str:
        return self.physical[logical_id]["Ref"]

    def table_name(self) -> str:
        return self.physical["StateTable"]["Ref"]
