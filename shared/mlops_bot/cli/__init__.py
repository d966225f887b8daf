"""The `mlops-bot` command line.

Each subcommand lives in its own module exposing ``register(subparsers)``; the module adds a parser
and sets ``func`` to a callable taking the parsed namespace and returning the exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Modules that register subcommands, in the order `--help` lists them.
SUBCOMMAND_MODULES = (
    "mlops_bot.cli.replay",
    "mlops_bot.cli.run_local",
    "mlops_bot.cli.diagnose",
    "mlops_bot.cli.drift",
    "mlops_bot.cli.api_keys",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mlops-bot", description="Self-healing MLOps bot")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module_name in SUBCOMMAND_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:  # subcommand not shipped in this build
                continue
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
