"""The `mlops-bot` command line.

Each subcommand lives in its own module exposing ``register(subparsers)``; the module adds its
parser(s) and sets ``func`` to a callable taking the parsed namespace and returning the exit code.

The CLI starts at once: `mlops-bot --help` imports no subcommand module (the table below carries each
command's one-line help), and `mlops-bot CMD ...` imports only CMD's module, which imports what the
command uses only when it runs (SciPy for `drift`, boto3 for the key commands, httpx for `replay`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# command -> (module that registers it, one-line help), in the order `--help` lists them.
COMMANDS: dict[str, tuple[str, str]] = {
    "replay": ("mlops_bot.cli.replay", "sign and post webhook events to a running stack; show what the bot did"),
    "run-local": (
        "mlops_bot.cli.run_local",
        "start the local stack (embedded AWS and GitHub sandbox, gateway on $PORT)",
    ),
    "diagnose": ("mlops_bot.cli.diagnose", "classify a failed CI log (plain text or GitHub run-logs zip)"),
    "drift": ("mlops_bot.cli.drift", "detect data drift between a reference and a current dataset"),
    "generate-api-key": ("mlops_bot.cli.api_keys", "create an API key (shown once)"),
    "list-api-keys": ("mlops_bot.cli.api_keys", "list API keys (never the keys themselves)"),
    "revoke-api-key": ("mlops_bot.cli.api_keys", "revoke an API key at once"),
    "api-key": ("mlops_bot.cli.api_keys", "manage API keys: generate, list, revoke"),
    "create-user": ("mlops_bot.cli.api_keys", "create a management user who logs in at /auth/login"),
}
# Modules that register subcommands (kept for callers that build the whole parser).
SUBCOMMAND_MODULES = tuple(dict.fromkeys(module for module, _help in COMMANDS.values()))


def _parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction[argparse.ArgumentParser]]:
    parser = argparse.ArgumentParser(prog="mlops-bot", description="Self-healing MLOps bot")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="{" + ",".join(COMMANDS) + "}")
    return parser, subparsers


def _register(module_name: str, subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> bool:
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:  # subcommand not shipped in this build
            return False
        raise
    module.register(subparsers)
    return True


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser for `command` alone (importing only its module), or for every command."""
    parser, subparsers = _parser()
    if command in COMMANDS:
        _register(COMMANDS[command][0], subparsers)
        return parser
    if command is None:
        for module_name in SUBCOMMAND_MODULES:
            _register(module_name, subparsers)
        return parser
    for name, (_module, help_text) in COMMANDS.items():  # --help, or an unknown command: no imports
        subparsers.add_parser(name, help=help_text)
    return parser


def _command(argv: Sequence[str]) -> str:
    for argument in argv:
        if not argument.startswith("-"):
            return argument
    return ""


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(_command(arguments))
    args = parser.parse_args(arguments)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
