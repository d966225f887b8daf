"""`mlops-bot diagnose PATH [--json]`: classify a CI log or GitHub run-logs zip from the command line.

For people triaging a red build by hand and for scripts (``--json`` prints the same `Problem` object
the bot acts on, so what a human sees is what the fixer gets).
"""

from __future__ import annotations

import argparse
import os
import sys

TYPE_CHECKING = False  # not `typing.TYPE_CHECKING`: importing typing costs the CLI start ~5 ms
if TYPE_CHECKING:
    from typing import Any

    from mlops_bot.diagnosis import Problem
    from mlops_bot.diagnosis.result import Diagnosis

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
    # The plain result, not the pydantic `Problem`: same fields, same JSON, no pydantic import at start.
    from mlops_bot.diagnosis.classifier import diagnosis_of_path

    path = args.path
    if not os.path.isfile(path):
        print(f"mlops-bot diagnose: no such file: {_shown(path)}", file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    try:
        problem = diagnosis_of_path(path, own_packages=tuple(args.own_package))
    except Exception as exc:
        # zipfile is only imported for a zip (it costs the start ~3 ms), so only then can BadZipFile occur.
        zipfile = sys.modules.get("zipfile")
        if not isinstance(exc, OSError) and (zipfile is None or not isinstance(exc, zipfile.BadZipFile)):
            raise
        print(f"mlops-bot diagnose: cannot read {_shown(path)}: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE_INPUT
    print(problem.to_json() if args.json else summary(problem))
    return EXIT_OK


def _shown(path: str) -> str:
    """The path as messages always showed it (pathlib's normal form; pathlib only loads on this error path)."""
    from pathlib import Path

    return str(Path(path))


def summary(problem: Problem | Diagnosis) -> str:
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
