"""`mlops-bot diagnose PATH [--json]`: classify a CI log or GitHub run-logs zip from the command line.

For people triaging a red build by hand and for scripts (``--json`` prints the same `Problem` object
the bot acts on, so what a human sees is what the fixer gets).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mlops_bot.diagnosis import Problem

EXIT_OK = 0
EXIT_UNUSABLE_INPUT = 2


def register(subparsers: Any) -> None:
    """Add the ``diagnose`` subcommand (the CLI package calls this for every subcommand module)."""
    parser = subparsers.add_parser(
        "diagnose",
        help="classify a failed CI log (plain text or GitHub run-logs zip)",
        description="Classify a failed CI log: plain text, gzip'd text or a GitHub Actions run-logs zip.",
    )
    parser.add_argument("path", help="log file or run-logs zip")
    parser.add_argument("--json", action="store_true", help="print the problem as JSON")
    parser.add_argument(
        "--own-package",
        action="append",
        default=[],
        metavar="NAME",
        help="the repository's own package (never proposed as a dependency); repeatable",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import zipfile

    from mlops_bot.diagnosis import diagnose_path

    path = Path(args.path)
    if not path.is_file():
        print(f"mlops-bot diagnose: no such file: {path}", file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    try:
        problem = diagnose_path(path, own_packages=tuple(args.own_package))
    except (zipfile.BadZipFile, OSError) as exc:
        print(f"mlops-bot diagnose: cannot read {path}: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    print(problem.model_dump_json(indent=2) if args.json else summary(problem))
    return EXIT_OK


def summary(problem: Problem) -> str:
    """A short human-readable report: verdict first, then what a fixer would use, then the evidence."""
    lines = [f"{problem.category.value} ({problem.kind}), confidence {problem.confidence:.2f}"]
    if problem.step:
        lines.append(f"step: {problem.step}")
    for key, value in problem.details.items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else value
        lines.append(f"{key}: {shown}")
    if problem.evidence:
        lines.append("evidence:")
        width = len(str(max(item.line for item in problem.evidence)))
        lines.extend(f"  {item.line:>{width}} | {item.text}" for item in problem.evidence)
    return "\n".join(lines)
