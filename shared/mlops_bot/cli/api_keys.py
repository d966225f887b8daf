"""API keys and users from the command line, against the table named by `MLOPS_BOT_TABLE_NAME`.

    mlops-bot generate-api-key --name monitoring --permissions read [--tenant default]
    mlops-bot list-api-keys [--tenant default]
    mlops-bot revoke-api-key --id key-123
    mlops-bot api-key generate|list|revoke ...          (the same commands, grouped)
    mlops-bot create-user --username ops@example.com --role admin [--tenant default] [--password-stdin]

They use boto3's usual configuration, so `AWS_ENDPOINT_URL` pointing at the local stack's moto
works. A generated key is printed once and stored only as its SHA-256 digest.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from mlops_bot.cli.progress import Progress

if TYPE_CHECKING:
    from mlops_bot.access.api_keys import ApiKeyStores
    from mlops_bot.adapters.dynamodb import StateTable
    from mlops_bot.errors import DomainError
    from mlops_bot.management.accounts.tenants import TenantStores

# `mlops_bot.access.api_keys.PERMISSIONS` and `keys.DEFAULT_TENANT`, spelled out so that building the
# parser imports neither boto3 nor pydantic (tests/unit/cli/test_cli_start.py checks they agree).
PERMISSIONS = ("read", "write", "admin")
DEFAULT_TENANT = "default"


def _table() -> StateTable:
    from mlops_bot.adapters.dynamodb import StateTable
    from mlops_bot.config import get_settings

    return StateTable(get_settings().table_name)


def _api_key_stores() -> ApiKeyStores:
    from mlops_bot.access.api_keys import ApiKeyStores
    from mlops_bot.stores.api_keys import DynamoApiKeyStore
    from mlops_bot.stores.tenants import DynamoTenantStore

    table = _table()
    return ApiKeyStores(DynamoApiKeyStore(table), DynamoTenantStore(table))


def _tenant_stores() -> TenantStores:
    from mlops_bot.access.users import AccessStores
    from mlops_bot.management.accounts.tenants import TenantStores
    from mlops_bot.stores.login_attempts import DynamoLoginAttemptStore
    from mlops_bot.stores.sessions import DynamoSessionStore
    from mlops_bot.stores.tenants import DynamoTenantStore
    from mlops_bot.stores.usage import DynamoUsageStore
    from mlops_bot.stores.users import DynamoUserStore

    table = _table()
    access = AccessStores(DynamoUserStore(table), DynamoSessionStore(table), DynamoLoginAttemptStore(table), table.name)
    return TenantStores(DynamoTenantStore(table), DynamoUsageStore(table), access)


def _print(document: Any) -> None:
    print(json.dumps(document, indent=2))


def _fail(exc: DomainError) -> int:
    print(f"error: {exc.message}" + (f" ({exc.details})" if exc.details else ""), file=sys.stderr)
    return 1


def _working(message: str) -> Progress:
    """One line on a terminal's stderr while a (possibly remote) table answers."""
    progress = Progress()
    progress.update(message, force=True)
    return progress


def generate(args: argparse.Namespace) -> int:
    from mlops_bot.access import api_keys

    with _working(f"issuing a key in table {_table_name()}..."):
        issued = api_keys.issue(_api_key_stores(), args.tenant, args.name, args.permissions)
    _print(issued.model_dump(include={"id", "name", "key", "permissions", "tenant_id", "created_at"}))
    return 0


def _table_name() -> str:
    from mlops_bot.config import get_settings

    return get_settings().table_name


def list_keys(args: argparse.Namespace) -> int:
    from mlops_bot.access import api_keys

    with _working(f"listing keys in table {_table_name()}..."):
        records = [record.model_dump() for record in api_keys.list_keys(_api_key_stores(), args.tenant)]
    _print(records)
    return 0


def revoke(args: argparse.Namespace) -> int:
    from mlops_bot.access import api_keys
    from mlops_bot.errors import DomainError

    try:
        with _working(f"revoking {args.id} in table {_table_name()}..."):
            record = api_keys.revoke(_api_key_stores(), args.id, args.tenant)
    except DomainError as exc:
        return _fail(exc)
    _print(record.model_dump())
    return 0


def create_user(args: argparse.Namespace) -> int:
    import getpass

    from mlops_bot.errors import DomainError
    from mlops_bot.management.accounts import tenants

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    try:
        user = tenants.add_user(_tenant_stores(), args.tenant, args.username, password, args.role)
    except DomainError as exc:
        return _fail(exc)
    _print(user.model_dump())
    return 0


def _generate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--name", required=True, help="what the key is for, e.g. monitoring-system")
    parser.add_argument(
        "--permissions",
        required=True,
        choices=PERMISSIONS,
        help="read < write < admin (each includes the lower)",
    )
    parser.add_argument("--tenant", default=DEFAULT_TENANT, help="tenant the key acts for (default: default)")
    parser.set_defaults(func=generate)


def _list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tenant", default=None, help="only this tenant's keys (default: every tenant)")
    parser.set_defaults(func=list_keys)


def _revoke_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--id", required=True, help="the key's id (from list-api-keys), e.g. key-123")
    parser.add_argument("--tenant", default=None, help="the key's tenant (default: look in every tenant)")
    parser.set_defaults(func=revoke)


def register(subparsers: Any) -> None:
    _generate_arguments(subparsers.add_parser("generate-api-key", help="create an API key (shown once)"))
    _list_arguments(subparsers.add_parser("list-api-keys", help="list API keys (never the keys themselves)"))
    _revoke_arguments(subparsers.add_parser("revoke-api-key", help="revoke an API key at once"))

    group = subparsers.add_parser("api-key", help="manage API keys: generate, list, revoke")
    actions = group.add_subparsers(dest="api_key_command", required=True)
    _generate_arguments(actions.add_parser("generate", help="create an API key (shown once)"))
    _list_arguments(actions.add_parser("list", help="list API keys"))
    _revoke_arguments(actions.add_parser("revoke", help="revoke an API key"))

    user = subparsers.add_parser("create-user", help="create a management user who logs in at /auth/login")
    user.add_argument("--username", required=True, help="login name, e.g. an e-mail address")
    user.add_argument("--role", default="read", choices=PERMISSIONS)
    user.add_argument("--tenant", default=DEFAULT_TENANT)
    user.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    user.set_defaults(func=create_user)
